"""The whole graph against the sandbox and DuckDB: a first run, a second that pushes
nothing, source changes pushed exactly, a killed push that converges, and a statement
changed behind the pipeline's back caught by reconciliation."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy import Connection, Row, create_engine, text

from ar_pipelines.client import ARClient
from ar_pipelines.defs.common import AR_KEY_TAG
from ar_pipelines.defs.practices import Practice
from ar_pipelines.defs.resources import ArApi
from ar_pipelines.normalize import normalize
from ar_pipelines.normalize.present import source_keys
from ar_pipelines.normalize.transactions import LEDGER_COLUMNS
from ar_pipelines.sources.frames import as_practice
from ar_pipelines.sources.schema import transactions
from ar_pipelines.sources.sql_reader import SqlSource
from ar_pipelines.warehouse import open_warehouse
from tests.ar_pipelines.defs.conftest import (
    Pipeline,
    change_a_statement_in_ar,
    check_passed,
    materialized,
)


def ar_entries(pipeline: Pipeline, practice: str = "P001") -> dict[str, Decimal]:
    """AR's raw ledger entries of a practice by external id, each of which it holds once."""
    key = pipeline.companies[practice]["live_key"]
    with ARClient(base_url=pipeline.sandbox.base_url, api_key=key) as client:
        entries = [
            (e.external_id, e.amount)
            for e in client.ledgers.list(per_page=100)
            if e.external_id and not e.external_id.startswith("ALLOC-")
        ]
    held = dict(entries)
    assert len(held) == len(entries), "AR holds an entry twice"
    return held


def local_entries(pipeline: Pipeline, practice: str = "P001") -> dict[str, Decimal]:
    with open_warehouse(pipeline.warehouse_url) as store:
        frame = store.read(
            "normalized.ledger_entries", practice_id=practice, columns=["external_id", "amount"]
        )
    return dict(zip(frame["external_id"], frame["amount"], strict=True))


def test_the_whole_graph_materializes_and_reconciles_clean(pipeline: Pipeline) -> None:
    result = pipeline.run("P001")
    assert result.success
    run = pipeline.instance.get_run_by_id(result.run_id)
    assert run is not None
    assert run.tags[AR_KEY_TAG] == "AR_API_KEY_P001"  # one run at a time per AR key
    normalized = materialized(result, "normalized/ledger_entries")
    # Every transaction read is a ledger entry or in the quarantine.
    assert normalized["transactions_read"] == (
        normalized["ledger_entries"] + normalized["transactions_quarantined"]
    )
    assert normalized["transactions_quarantined"] > 0  # the source has defects
    pushed = materialized(result, "ar/ledger_entries")
    assert pushed["sent"] == normalized["ledger_entries"] > 0
    assert ar_entries(pipeline) == local_entries(pipeline)
    reconciliation = materialized(result, "reconciliation")
    assert reconciliation["clean"] is True
    assert reconciliation["matched"] == materialized(result, "ar/statements")["statements"] > 0
    assert check_passed(result, "reconciliation_clean") == {"reconciliation": True}
    assert check_passed(result, "no_failed_or_rejected_pushes") == {
        "ar/customers": True,
        "ar/ledger_entries": True,
    }
    report = pipeline.reports / "reconciliation_P001.html"
    assert report.exists()
    assert "<svg" in report.read_text()
    # The other practice's partition is untouched until its own run.
    assert local_entries(pipeline, "P002") == {}


def test_a_second_run_pushes_nothing_and_stays_clean(pipeline: Pipeline) -> None:
    pipeline.run("P001")
    second = pipeline.run("P001")
    assert materialized(second, "ar/customers")["sent"] == 0
    assert materialized(second, "ar/ledger_entries")["sent"] == 0
    assert materialized(second, "reconciliation")["clean"] is True


def test_a_run_parses_only_the_contacts_no_earlier_run_met(pipeline: Pipeline) -> None:
    first = materialized(pipeline.run("P001"), "normalized/customers")
    assert first["contacts_parsed"] > 0
    assert first["contacts_known"] == 0
    second = materialized(pipeline.run("P001"), "normalized/customers")
    assert second["contacts_parsed"] == 0
    assert second["contacts_known"] == first["contacts_parsed"]

    with open_warehouse(pipeline.warehouse_url) as store:
        customers = store.read("normalized.customers", practice_id="P001")
    external_id = customers.dropna(subset=["email"])["external_id"].iloc[0]
    engine = create_engine(pipeline.source_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "update patients set email = 'moved.away@example.org'"
                " where practice_id = '1' and trim(patient_id) = :patient"
            ),
            {"patient": external_id.removeprefix("P001-")},
        )
    engine.dispose()
    third = pipeline.run("P001")
    assert materialized(third, "normalized/customers")["contacts_parsed"] == 1
    assert materialized(third, "ar/customers")["sent"] == 1
    assert ar_emails(pipeline)[external_id] == "moved.away@example.org"


def ar_emails(pipeline: Pipeline, practice: str = "P001") -> dict[str | None, str | None]:
    key = pipeline.companies[practice]["live_key"]
    with ARClient(base_url=pipeline.sandbox.base_url, api_key=key) as client:
        return {c.external_id: c.email for c in client.customers.list(per_page=100)}


def test_changed_added_and_deleted_source_rows_push_exactly_those_changes(
    pipeline: Pipeline,
) -> None:
    pipeline.run("P001")
    before = local_entries(pipeline)
    engine = create_engine(pipeline.source_url)
    with engine.begin() as connection:
        latest = connection.execute(text("select max(_loaded_at) from transactions")).scalar()
        later_moment = datetime.fromisoformat(str(latest)) + timedelta(hours=1)
        later = later_moment.isoformat(sep=" ")
        rows = [
            row
            for row in connection.execute(
                text(
                    "select _row_id as row_id, transaction_sr_no, amount from transactions"
                    " where practice_id = '1' and transaction_type = 'Procedure'"
                    " order by _row_id"
                )
            ).all()
            if f"P001-{row.transaction_sr_no}" in before and _is_amount(row.amount)
        ]
        changed, deleted, template = rows[0], rows[1], rows[2]
        connection.execute(
            text(
                "update transactions set amount = :amount, _loaded_at = :loaded where _row_id = :id"
            ),
            {
                "amount": str(Decimal(str(changed.amount)) + Decimal("7.00")),
                "loaded": later,
                "id": changed.row_id,
            },
        )
        connection.execute(
            text("delete from transactions where _row_id = :id"), {"id": deleted.row_id}
        )
        copy = (
            connection.execute(
                text("select * from transactions where _row_id = :id"), {"id": template.row_id}
            )
            .mappings()
            .one()
        )
        added = {**copy, "transaction_sr_no": "NEW-1", "_loaded_at": later_moment}
        added.pop("_row_id")
        connection.execute(transactions.insert(), added)
    engine.dispose()
    result = pipeline.run("P001")
    assert materialized(result, "ar/ledger_entries")["sent"] == 3
    after = ar_entries(pipeline)
    assert after[f"P001-{changed.transaction_sr_no}"] == before[
        f"P001-{changed.transaction_sr_no}"
    ] + Decimal("7.00")
    assert after[f"P001-{deleted.transaction_sr_no}"] == Decimal("0")
    assert "P001-NEW-1" in after
    assert after == local_entries(pipeline)
    assert materialized(result, "reconciliation")["clean"] is True
    assert materialized(pipeline.run("P001"), "ar/ledger_entries")["sent"] == 0


def test_an_edit_of_a_row_whose_number_another_row_repeats_reaches_ar_and_the_repeat_never_does(
    pipeline: Pipeline,
) -> None:
    engine = create_engine(pipeline.source_url)
    with engine.begin() as connection:
        original, template, other, other_template = _clean_procedures(connection)[:4]
        duplicate_row = _plant_duplicate(connection, original, template)
        other_duplicate = _plant_duplicate(connection, other, other_template)
    amount = abs(Decimal(str(original.amount)))
    other_amount = abs(Decimal(str(other.amount)))
    external_id, sr_no = f"P001-{original.transaction_sr_no}", original.transaction_sr_no
    other_id, other_sr_no = f"P001-{other.transaction_sr_no}", other.transaction_sr_no

    first = pipeline.run("P001")
    _assert_entry_and_duplicate(pipeline, external_id, amount, sr_no, original.row_id)
    _assert_entry_and_duplicate(pipeline, other_id, other_amount, other_sr_no, other.row_id)
    assert materialized(first, "reconciliation")["clean"] is True

    # One night edits the first original and the second duplicate, each read again
    # without the other row of its number: the original's new amount updates its entry,
    # and the duplicate stays a duplicate.
    with engine.begin() as connection:
        later = _after_latest(connection)
        _edit(connection, original.row_id, str(amount + Decimal("7.00")), later)
        _edit(connection, other_duplicate, "67.0000", later)
    second = pipeline.run("P001")
    assert materialized(second, "ar/ledger_entries")["sent"] == 1
    _assert_entry_and_duplicate(
        pipeline, external_id, amount + Decimal("7.00"), sr_no, original.row_id
    )
    _assert_entry_and_duplicate(pipeline, other_id, other_amount, other_sr_no, other.row_id)
    normalized = materialized(second, "normalized/ledger_entries")
    assert normalized["transactions_read"] == (
        normalized["ledger_entries"] + normalized["transactions_quarantined"]
    )
    assert _stored_ledger(pipeline) == _whole_source_ledger(pipeline)
    assert materialized(second, "reconciliation")["clean"] is True

    # Once the duplicate is gone, the original is the number's only row: its next edit
    # is pushed, and the number leaves the quarantine.
    with engine.begin() as connection:
        connection.execute(
            text("delete from transactions where _row_id = :id"), {"id": duplicate_row}
        )
        _edit(connection, original.row_id, str(amount + Decimal("8.00")), _after_latest(connection))
    engine.dispose()
    third = pipeline.run("P001")
    assert materialized(third, "ar/ledger_entries")["sent"] == 1
    assert ar_entries(pipeline)[external_id] == amount + Decimal("8.00")
    assert ar_entries(pipeline) == local_entries(pipeline)
    assert _quarantined(pipeline, sr_no) == []
    assert materialized(third, "reconciliation")["clean"] is True


def _plant_duplicate(connection: Connection, original: Row[Any], template: Row[Any]) -> int:
    """A second row with the original's number, loaded a minute after it: the template's
    procedure (another patient's) of another amount. Returns its row key."""
    copy = (
        connection.execute(
            text("select * from transactions where _row_id = :id"), {"id": template.row_id}
        )
        .mappings()
        .one()
    )
    duplicate = {
        **copy,
        "transaction_sr_no": original.transaction_sr_no,
        "amount": "66.0000",
        "_loaded_at": datetime.fromisoformat(str(original.loaded_date)) + timedelta(minutes=1),
    }
    duplicate.pop("_row_id")
    key = connection.execute(transactions.insert(), duplicate).inserted_primary_key[0]
    return int(key)


def _whole_source_ledger(
    pipeline: Pipeline, practice_id: str = "P001"
) -> dict[str, tuple[Any, ...]]:
    """The practice's ledger entries as one normalize of its whole source makes them,
    the numbers several rows hold settled by the source's key scan, as a run settles them."""
    practice = pipeline.config.get(practice_id)
    sikka = practice.sikka_practice_id
    with SqlSource(practice.source_url(), layout=practice.sql_layout()) as source:
        keys = source_keys(
            as_practice(chunk, practice.id) for chunk in source.transaction_keys(practice_id=sikka)
        )
        whole = normalize(
            settings=practice.mapping,
            payment_types=as_practice(source.payment_types(practice_id=sikka), practice.id),
            patients=as_practice(source.patients(practice_id=sikka), practice.id),
            guarantors=as_practice(source.guarantors(practice_id=sikka), practice.id),
            transactions=(
                as_practice(chunk, practice.id) for chunk in source.transactions(practice_id=sikka)
            ),
            record_keys=keys.records,
        )
    return _by_external_id(whole.ledger_entries)


def _stored_ledger(pipeline: Pipeline, practice_id: str = "P001") -> dict[str, tuple[Any, ...]]:
    with open_warehouse(pipeline.warehouse_url) as store:
        stored = store.read(
            "normalized.ledger_entries", practice_id=practice_id, columns=list(LEDGER_COLUMNS)
        )
    return _by_external_id(stored)


def _by_external_id(entries: pd.DataFrame) -> dict[str, tuple[Any, ...]]:
    """Each entry's fields by external id, as text (dates as ``YYYY-MM-DD``)."""
    return {
        str(row[0]): tuple(
            None if pd.isna(v) else str(v)[:10] if isinstance(v, date) else str(v) for v in row
        )
        for row in entries.loc[:, list(LEDGER_COLUMNS)].itertuples(index=False, name=None)
    }


def _clean_procedures(connection: Connection) -> list[Row[Any]]:
    """P001's procedures that normalize (no defect planted on them or their patient, a
    plain amount, not deleted) under a number no other row has, oldest first."""
    rows = connection.execute(
        text(
            "select _row_id as row_id, transaction_sr_no, amount, _loaded_at as loaded_date"
            " from transactions t"
            " where practice_id = '1' and transaction_type = 'Procedure'"
            " and cast(_row_id as text) not in (select source_id from demo_defects"
            "  where practice_id = '1' and table_name = 'transactions')"
            " and patient_id not in (select source_id from demo_defects"
            "  where practice_id = '1' and table_name = 'patients')"
            " and (select count(*) from transactions u where u.practice_id = '1'"
            "  and u.transaction_sr_no = t.transaction_sr_no) = 1"
            " order by _loaded_at, _row_id"
        )
    ).all()
    return [
        row
        for row in rows
        if _is_amount(row.amount) and row.transaction_sr_no == row.transaction_sr_no.strip()
    ]


def _after_latest(connection: Connection) -> str:
    """A loaded_date an hour after the latest: past any cursor a run has set."""
    latest = connection.execute(text("select max(_loaded_at) from transactions")).scalar()
    return (datetime.fromisoformat(str(latest)) + timedelta(hours=1)).isoformat(sep=" ")


def _edit(connection: Connection, row_id: int, amount: str, loaded: str) -> None:
    connection.execute(
        text("update transactions set amount = :amount, _loaded_at = :loaded where _row_id = :id"),
        {"amount": amount, "loaded": loaded, "id": row_id},
    )


def _assert_entry_and_duplicate(
    pipeline: Pipeline, external_id: str, amount: Decimal, sr_no: str, original_row: int
) -> None:
    """The original's entry holds ``amount`` locally and in AR, and the other row of its
    number is quarantined as a duplicate of it."""
    assert local_entries(pipeline)[external_id] == amount
    assert ar_entries(pipeline)[external_id] == amount
    assert _quarantined(pipeline, sr_no) == [
        (
            "duplicate_transaction",
            f"transaction_sr_no '{sr_no}' of practice 'P001' is held by another source row"
            f" too (row key '{original_row}'), which is kept",
        )
    ]


def _quarantined(pipeline: Pipeline, sr_no: str) -> list[tuple[str, str]]:
    """The reason and detail of each open quarantine row of a transaction_sr_no of P001."""
    with open_warehouse(pipeline.warehouse_url) as store:
        frame = store.read(
            "normalized.quarantine",
            practice_id="P001",
            columns=["source", "source_id", "reason", "detail"],
        )
    rows = frame[(frame["source"] == "transactions") & (frame["source_id"] == sr_no)]
    return [(str(r), str(d)) for r, d in zip(rows["reason"], rows["detail"], strict=True)]


def _is_amount(text: object) -> bool:
    """Whether ``text`` is an amount exact to the cent, as Sikka writes them (24.0000)."""
    try:
        value = Decimal(str(text))
    except ArithmeticError:
        return False
    return value.is_finite() and value == value.quantize(Decimal("0.01"))


class RunKilledError(BaseException):
    """Stands for the process being killed: nothing after it runs."""


class KillingArApi(ArApi):
    """AR, through a transport that kills the run after ``ledger_posts`` ledger pushes."""

    ledger_posts: int = 1

    def client(self, practice: Practice) -> ARClient:
        sent = {"ledger": 0}
        limit = self.ledger_posts

        def handler(request: httpx.Request) -> httpx.Response:
            with httpx.Client() as real:
                response = real.send(
                    httpx.Request(
                        request.method, request.url, headers=request.headers, content=request.read()
                    )
                )
            if request.url.path.endswith("/ledgers/bulk"):
                sent["ledger"] += 1
                if sent["ledger"] > limit:
                    # AR took the request; the process dies before it reads the answer.
                    raise RunKilledError
            return response

        http = httpx.Client(transport=httpx.MockTransport(handler), timeout=30)
        key = os.environ[practice.ar_key_env]
        return ARClient(base_url=self.base_url, api_key=key, http_client=http)


def test_a_run_killed_in_the_middle_of_a_push_converges_when_run_again(
    pipeline: Pipeline,
) -> None:
    killing = KillingArApi(base_url=pipeline.sandbox.base_url, ledger_posts=0)
    with pytest.raises(RunKilledError):
        pipeline.run("P001", ar=killing)
    assert ar_entries(pipeline)  # AR holds what the killed run sent
    result = pipeline.run("P001")
    assert result.success
    assert ar_entries(pipeline) == local_entries(pipeline)
    assert materialized(result, "reconciliation")["clean"] is True


def test_a_statement_changed_in_ar_is_caught_as_an_amount_mismatch(pipeline: Pipeline) -> None:
    pipeline.run("P001")
    external_id = change_a_statement_in_ar(pipeline, "P001")
    result = pipeline.run("P001", raise_on_error=False)
    reconciliation = materialized(result, "reconciliation")
    assert reconciliation["clean"] is False
    assert reconciliation["amount_mismatch"] == 1
    assert check_passed(result, "reconciliation_clean") == {"reconciliation": False}
    rows = (pipeline.reports / "reconciliation_P001.csv").read_text()
    assert external_id in rows
    assert json.dumps(reconciliation["summary"])  # JSON-safe evidence in the metadata


def test_a_full_repush_sends_every_record_again(pipeline: Pipeline) -> None:
    first = pipeline.run("P001")
    ledger_entries = len(local_entries(pipeline))
    customers = materialized(first, "ar/customers")["sent"]
    config = {"full_repush": True}
    again = pipeline.run(
        "P001",
        run_config={
            "ops": {"ar__customers": {"config": config}, "ar__ledger_entries": {"config": config}}
        },
    )
    assert materialized(again, "ar/ledger_entries")["sent"] == ledger_entries
    assert materialized(again, "ar/customers")["sent"] == customers
    assert materialized(again, "reconciliation")["clean"] is True


class UnreachableOnceArApi(ArApi):
    """AR that cannot be reached the first time a client is made, then can."""

    def client(self, practice: Practice) -> ARClient:
        if not UNREACHABLE_ONCE:
            return super().client(practice)
        UNREACHABLE_ONCE.pop()

        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused", request=request)

        http = httpx.Client(transport=httpx.MockTransport(refuse))
        key = os.environ[practice.ar_key_env]
        return ARClient(base_url=self.base_url, api_key=key, http_client=http, max_retries=0)


UNREACHABLE_ONCE: list[bool] = []


def test_a_step_that_fails_transiently_is_retried_and_the_run_succeeds(
    pipeline: Pipeline,
) -> None:
    UNREACHABLE_ONCE[:] = [True]
    result = pipeline.run("P001", ar=UnreachableOnceArApi(base_url=pipeline.sandbox.base_url))
    assert result.success
    retried = [e.step_key for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retried == ["ar__customers"]
    assert materialized(result, "reconciliation")["clean"] is True


def test_an_error_that_is_not_transient_fails_the_step_at_once(pipeline: Pipeline) -> None:
    os.environ["AR_API_KEY_P001"] = "sk_live_not_a_key_it_knows"
    try:
        result = pipeline.run("P001", raise_on_error=False)
    finally:
        os.environ["AR_API_KEY_P001"] = pipeline.companies["P001"]["live_key"]
    assert not result.success
    retried = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retried == []
    failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["ar__customers"]
    message = failures[0].event_specific_data.error.message  # type: ignore[union-attr]
    assert "sk_live_not_a_key_it_knows" not in message
