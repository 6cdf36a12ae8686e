"""A request refused for a malformed record lands every good record and rejects
exactly the bad ones, each with the server's message; every input is accounted for."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ar_pipelines.client import ARClient, Progress, PushReport
from tests.ar_pipelines.client import practice
from tests.ar_pipelines.client.faults import RewritingTransport, without_record_indexes
from tests.sandbox_server import RunningSandbox

MALFORMED = {
    # input position -> (what is wrong, words the server's message must carry)
    7: ({"transaction_type": "patient_payment", "amount": Decimal("25.00")}, "<= 0"),
    130: ({"amount": Decimal("10.005")}, "2 decimal places"),
    640: ({"transaction_type": "refund"}, "transaction_type"),
    641: ({"external_id": "ALLOC-mine"}, "reserved"),
    1100: ({"external_id": "X" * 101}, "100 characters"),
}


@pytest.fixture
def ar(sandbox: RunningSandbox) -> Any:
    company = sandbox.bootstrap()
    with ARClient(base_url=sandbox.base_url, api_key=company["live_key"]) as client:
        assert client.customers.bulk_upsert(practice.customers(30)).complete
        yield client


def with_malformed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    broken = [dict(row) for row in rows]
    for position, (change, _) in MALFORMED.items():
        broken[position].update(change)
    return broken


def assert_accounted(report: PushReport) -> None:
    assert report.accounted == report.total
    assert report.complete


def test_a_batch_with_a_few_malformed_records_lands_every_good_one(ar: ARClient) -> None:
    rows = with_malformed(practice.entries(30, 40))
    report = ar.ledgers.bulk_upsert(rows)

    assert_accounted(report)
    assert [issue.index for issue in report.rejected] == sorted(MALFORMED)
    for issue in report.rejected:
        assert issue.external_id == rows[issue.index]["external_id"]
        assert MALFORMED[issue.index][1] in issue.reason
    assert report.created == len(rows) - len(MALFORMED)
    good = [row for n, row in enumerate(rows) if n not in MALFORMED]
    assert practice.statements_in_ar(ar) == practice.expected_statements(good)
    # One request per chunk, plus one resend of each refused chunk.
    assert report.requests == 3 + 3


def test_when_the_server_does_not_name_the_record_the_batch_is_halved_until_it_stands_alone(
    sandbox: RunningSandbox,
) -> None:
    rewriting = RewritingTransport(
        when=lambda _, response: response.status_code == 422, rewrite=without_record_indexes
    )
    rows = with_malformed(practice.entries(30, 40))
    with httpx.Client(transport=rewriting, timeout=30) as http:
        report, in_ar = practice.pushed_through(sandbox, http, 30, rows)

    assert_accounted(report)
    assert rewriting.rewritten > len(MALFORMED)
    assert [issue.index for issue in report.rejected] == sorted(MALFORMED)
    assert all(issue.reason.startswith("Validation failed") for issue in report.rejected)
    good = [row for n, row in enumerate(rows) if n not in MALFORMED]
    assert in_ar == practice.expected_statements(good)
    # Bisection costs about log2(500) requests per bad record, not one per record.
    assert report.requests < 3 + len(MALFORMED) * 2 * 10


def test_records_that_are_not_even_well_typed_are_rejected_before_sending(ar: ARClient) -> None:
    rows: list[dict[str, Any]] = [
        {"external_id": "T-1", "customer_external_id": "PT-00001", "transaction_date": "2025-02-30",
         "transaction_type": "charge", "amount": "10.00"},
        {"external_id": "T-2", "customer_external_id": "PT-00001", "transaction_date": "2025-02-03",
         "transaction_type": "charge", "amount": "ten"},
        {"external_id": "T-3", "customer_external_id": "PT-00001", "transaction_date": "2025-02-03",
         "transaction_type": "charge", "amount": "10.00", "ammount": "1"},
        {"external_id": "T-4", "customer_external_id": "PT-00001", "transaction_date": "2025-02-03",
         "transaction_type": "charge", "amount": "NaN"},
        {"external_id": "T-5", "customer_external_id": "PT-00001", "transaction_date": "2025-02-03",
         "transaction_type": "charge", "amount": "12.50"},
        {"external_id": "T-6", "customer_external_id": "PT-00001", "transaction_date": "2025-02-03",
         "transaction_type": "charge", "amount": "12345678901234.56"},
    ]  # fmt: skip
    report = ar.ledgers.bulk_upsert(rows)
    assert_accounted(report)
    reasons = {issue.external_id: issue.reason for issue in report.rejected}
    assert set(reasons) == {"T-1", "T-2", "T-3", "T-4", "T-6"}
    assert "transaction_date" in reasons["T-1"]
    assert "amount" in reasons["T-2"]
    assert "ammount" in reasons["T-3"]
    assert "finite" in reasons["T-4"]
    assert "15 digits" in reasons["T-6"]  # more than a JSON number carries exactly
    assert report.created == 1
    assert report.requests == 1


def test_an_unresolvable_customer_fails_alone_inside_a_successful_request(ar: ARClient) -> None:
    rows = practice.entries(30, 10)
    rows[42] = {**rows[42], "customer_external_id": "PT-NOBODY"}
    report = ar.ledgers.bulk_upsert(rows)
    assert_accounted(report)
    assert [(f.index, f.external_id) for f in report.failed] == [(42, rows[42]["external_id"])]
    assert "PT-NOBODY" in report.failed[0].reason
    assert report.created == len(rows) - 1


def test_the_last_of_repeated_external_ids_wins_and_the_earlier_are_skipped(
    ar: ARClient,
) -> None:
    base = {"customer_external_id": "PT-00002", "transaction_type": "charge"}
    rows = [
        {**base, "external_id": "DUP", "transaction_date": "2025-03-01", "amount": "1.00"},
        {**base, "external_id": "ONE", "transaction_date": "2025-03-01", "amount": "5.00"},
        {**base, "external_id": "DUP", "transaction_date": "2025-04-01", "amount": "2.00"},
        {**base, "external_id": "DUP", "transaction_date": "2025-04-02", "amount": "3.00"},
    ]
    report = ar.ledgers.bulk_upsert(rows)
    assert_accounted(report)
    assert [(s.index, s.external_id) for s in report.skipped] == [(0, "DUP"), (2, "DUP")]
    assert all("record 3" in s.reason for s in report.skipped)
    assert report.created == 2
    stored = {e.external_id: e for e in ar.ledgers.list(customer_external_id="PT-00002")}
    assert stored["DUP"].amount == Decimal("3.00")
    assert stored["DUP"].transaction_date.isoformat() == "2025-04-02"


def test_bad_customers_are_isolated_the_same_way(ar: ARClient) -> None:
    records = practice.customers(250)
    records[3] = {**records[3], "email": "not-an-email"}
    records[170] = {"external_id": "NO-CONTACT"}
    records[171] = {**records[171], "tags": ["ok", "t" * 101]}
    report = ar.customers.bulk_upsert(records)
    assert_accounted(report)
    assert {issue.index: issue.external_id for issue in report.rejected} == {
        3: records[3]["external_id"],
        170: "NO-CONTACT",
        171: records[171]["external_id"],
    }
    assert "email" in report.rejected[0].reason
    # The fixture made PT-00000..PT-00029, so PT-00003 (refused here) keeps its old self.
    assert (report.created, report.updated) == (250 - 30 - 2, 30 - 1)
    assert sum(1 for _ in ar.customers.list()) == 250 - 2


def test_progress_is_reported_after_each_request_up_to_the_whole(ar: ARClient) -> None:
    rows = practice.entries(30, 50)  # 1,500 entries: three requests
    seen: list[Progress] = []
    report = ar.ledgers.bulk_upsert(rows, on_progress=seen.append)
    assert len(seen) >= 1
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert seen[-1].done == seen[-1].total == len(rows) == report.total
    assert seen[-1].requests == report.requests == 3


def test_entries_are_grouped_by_customer_before_chunking(sandbox: RunningSandbox) -> None:
    company = sandbox.bootstrap()
    sent: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [sent.append]}, timeout=30)
    rows = practice.entries(20, 50)  # shuffled: a naive chunking would touch every customer
    with ARClient(
        base_url=sandbox.base_url, api_key=company["live_key"], http_client=http, concurrency=1
    ) as ar:
        ar.customers.bulk_upsert(practice.customers(20))
        report = ar.ledgers.bulk_upsert(rows)
    http.close()
    pushes = [
        json.loads(r.content)["ledger_entries"]
        for r in sent
        if r.url.path.endswith("/ledgers/bulk")
    ]
    assert [len(p) for p in pushes] == [500, 500]
    touched = [{e["customer_external_id"] for e in push} for push in pushes]
    assert sum(len(t) for t in touched) <= 20 + 1  # only the boundary customer is split
    assert report.statements is not None
    assert report.statements.created > 0


class SmallBodyGateway(httpx.HTTPTransport):
    """A gateway in front of the sandbox that refuses bodies of more than 120 entries."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        pushing = request.url.path.endswith("/ledgers/bulk")
        if pushing and len(json.loads(request.content)["ledger_entries"]) > 120:
            return httpx.Response(413, json={"message": "Request Entity Too Large"})
        return super().handle_request(request)


def test_a_gateway_refusing_large_bodies_gets_the_batch_in_halves(
    sandbox: RunningSandbox,
) -> None:
    rows = practice.entries(10, 100)
    with httpx.Client(transport=SmallBodyGateway(), timeout=30) as http:
        report, in_ar = practice.pushed_through(sandbox, http, 10, rows)
    assert_accounted(report)
    assert report.created == len(rows)
    assert not report.rejected
    assert in_ar == practice.expected_statements(rows)
