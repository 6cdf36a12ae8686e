"""Answers parse into typed models: money exact as Decimal, unknown fields tolerated."""

from __future__ import annotations

import gc
import json
from decimal import Decimal

import httpx
import pytest
from pydantic import ValidationError

from ar_pipelines.client import ARClient, LedgerEntryRecord
from ar_pipelines.client._prepare import prepare
from tests.ar_pipelines.client.faults import RewritingTransport
from tests.sandbox_server import RunningSandbox


def with_new_fields(response: httpx.Response, body: bytes) -> httpx.Response:
    envelope = json.loads(body)
    envelope["data"]["risk_score"] = 0.7
    for statement in envelope["data"]["statements"]:
        statement["collector"] = {"name": "future field"}
    envelope["trace"] = "added later"
    return httpx.Response(200, json=envelope)


def test_fields_the_client_does_not_know_are_tolerated_and_kept(sandbox: RunningSandbox) -> None:
    company = sandbox.bootstrap()
    transport = RewritingTransport(
        when=lambda request, _: request.url.path.endswith("/statements"), rewrite=with_new_fields
    )
    http = httpx.Client(transport=transport, timeout=30)
    with ARClient(base_url=sandbox.base_url, api_key=company["live_key"], http_client=http) as ar:
        ar.customers.bulk_upsert([{"external_id": "PT-1", "email": "a@example.com"}])
        entry = {
            "external_id": "T-1",
            "customer_external_id": "PT-1",
            "transaction_date": "2026-05-03",
            "transaction_type": "charge",
        }
        ar.ledgers.bulk_upsert([{**entry, "amount": Decimal("0.10")}])
        ar.ledgers.bulk_upsert([{**entry, "external_id": "T-2", "amount": Decimal("0.20")}])
        (statement,) = ar.statements.list()
    http.close()
    assert transport.rewritten == 1
    assert statement.model_extra == {"collector": {"name": "future field"}}
    # 0.1 + 0.2 is 0.30 exactly: the amount never passed through a float.
    assert statement.amount == Decimal("0.30")
    assert str(statement.amount) == "0.30"
    assert isinstance(statement.paid_amount, Decimal)


def test_amounts_are_sent_as_the_exact_decimal_text(sandbox: RunningSandbox) -> None:
    company = sandbox.bootstrap()
    sent: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [sent.append]}, timeout=30)
    with ARClient(base_url=sandbox.base_url, api_key=company["live_key"], http_client=http) as ar:
        ar.customers.bulk_upsert([{"external_id": "PT-1", "email": "a@example.com"}])
        amounts = ["0.10", "1234567890.12", "-9999999999.99", "7"]
        kinds = ["charge", "charge", "patient_payment", "charge"]
        ar.ledgers.bulk_upsert(
            {
                "external_id": f"T-{n}",
                "customer_external_id": "PT-1",
                "transaction_date": "2026-05-03",
                "transaction_type": kind,
                "amount": Decimal(amount),
            }
            for n, (amount, kind) in enumerate(zip(amounts, kinds, strict=True))
        )
        stored = {e.external_id: e.amount for e in ar.ledgers.list(transaction_type="charge")}
    http.close()
    (push,) = [r for r in sent if r.url.path.endswith("/ledgers/bulk")]
    body = json.loads(push.content, parse_float=Decimal)
    assert [Decimal(e["amount"]) for e in body["ledger_entries"]] == [Decimal(a) for a in amounts]
    assert stored == {
        "T-0": Decimal("0.10"),
        "T-1": Decimal("1234567890.12"),
        "T-3": Decimal("7.00"),
    }


def test_mappings_and_records_are_checked_by_the_same_rules_and_written_the_same() -> None:
    rows = [
        {
            "external_id": "T-1",
            "customer_external_id": "PT-1",
            "transaction_date": "2026-05-03",
            "transaction_type": "charge",
            "amount": Decimal("1234567.89"),
            "procedure_code": "D0120",
        },
        {"external_id": "T-2", "customer_id": "c", "transaction_date": "2026-05-03",
         "transaction_type": "charge", "amount": "7", "description": None},
    ]  # fmt: skip
    from_mappings = prepare(rows, LedgerEntryRecord)
    from_records = prepare([LedgerEntryRecord(**row) for row in rows], LedgerEntryRecord)
    assert [i.body for i in from_mappings.items] == [i.body for i in from_records.items]
    assert json.loads(from_mappings.items[1].body) == {
        "external_id": "T-2",
        "customer_id": "c",
        "transaction_date": "2026-05-03",
        "transaction_type": "charge",
        "amount": 7.0,
    }
    bad = [{**rows[0], "amount": "1e400"}, {**rows[0], "extra": 1}, {**rows[0], "amount": "x"}]
    refused = prepare(bad, LedgerEntryRecord).rejected
    assert [issue.index for issue in refused] == [0, 1, 2]
    for issue, model_error in zip(refused, _model_errors(bad), strict=True):
        assert issue.reason.endswith(model_error)


def _model_errors(rows: list[dict[str, object]]) -> list[str]:
    messages = []
    for row in rows:
        try:
            LedgerEntryRecord.model_validate(row)
        except ValidationError as err:
            messages.append(err.errors()[0]["msg"])
    return messages


GOOD = [
    {
        "external_id": "T-1",
        "customer_external_id": "PT-1",
        "transaction_date": "2026-05-03",
        "transaction_type": "charge",
        "amount": "1.00",
    }
]


def test_preparing_records_leaves_the_garbage_collector_as_it_found_it() -> None:
    rows = [{"external_id": "T-1", "transaction_date": "2026-05-03", "amount": "x"}]
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            assert len(prepare(rows, LedgerEntryRecord).rejected) == 1
            assert gc.isenabled() is enabled
            with pytest.raises(ZeroDivisionError):
                prepare(GOOD, LedgerEntryRecord, order=lambda _: str(1 / 0))
            assert gc.isenabled() is enabled
    finally:
        gc.enable()
