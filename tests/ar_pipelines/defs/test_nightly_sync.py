"""The whole graph against the sandbox and DuckDB: a first run, a second that pushes
nothing, source changes pushed exactly, a killed push that converges, and a statement
changed behind the pipeline's back caught by reconciliation.

Most tests here assert on the nights of one shared pipeline, each night a module-scoped
fixture that runs after the nights it needs, so that a run several tests look at is made
once (under xdist a module goes to one worker whole: see pyproject.toml). P001 has its
story (first run; a quiet night; a night of source changes; a quiet night; a full repush
through AR that cannot be reached at first; a statement changed in AR); P002 has its own
(a run whose AR key is refused; a run killed in the middle of its push; the run that
converges). What a test checks of AR, the warehouse and the reports is read right after
its night, before any later night changes it. The duplicates test makes its own
pipeline: its nights push other counts than P001's.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import dagster as dg
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

REFUSED_KEY = "sk_live_not_a_key_it_knows"
FULL_DELETION_SCAN = {"ops": {"normalized": {"config": {"full_deletion_scan": True}}}}


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


def ar_emails(pipeline: Pipeline, practice: str = "P001") -> dict[str | None, str | None]:
    key = pipeline.companies[practice]["live_key"]
    with ARClient(base_url=pipeline.sandbox.base_url, api_key=key) as client:
        return {c.external_id: c.email for c in client.customers.list(per_page=100)}


@dataclass(frozen=True)
class Night:
    """A run of the nightly job, and what AR, the warehouse and the reports held right
    after it."""

    result: dg.ExecuteInProcessResult
    in_ar: dict[str, Decimal]
    stored: dict[str, Decimal]
    report: str | None
    report_rows: str | None


def observed(pipeline: Pipeline, result: dg.ExecuteInProcessResult, practice: str) -> Night:
    html = pipeline.reports / f"reconciliation_{practice}.html"
    rows = pipeline.reports / f"reconciliation_{practice}.csv"
    return Night(
        result=result,
        in_ar=ar_entries(pipeline, practice),
        stored=local_entries(pipeline, practice),
        report=html.read_text() if html.exists() else None,
        report_rows=rows.read_text() if rows.exists() else None,
    )


def night(pipeline: Pipeline, practice: str = "P001", **run: Any) -> Night:
    return observed(pipeline, pipeline.run(practice, **run), practice)


# --- P001's nights -------------------------------------------------------------------


@dataclass(frozen=True)
class FirstNight:
    night: Night
    other_practice_stored: dict[str, Decimal]


@pytest.fixture(scope="module")
def first(shared_pipeline: Pipeline) -> FirstNight:
    """P001's first run: every source row read, every record pushed."""
    first = night(shared_pipeline)
    return FirstNight(first, local_entries(shared_pipeline, "P002"))


@pytest.fixture(scope="module")
def second(shared_pipeline: Pipeline, first: FirstNight) -> Night:
    """Again, with nothing changed in the source."""
    return night(shared_pipeline)


@dataclass(frozen=True)
class ChangesNight:
    """The night after a customer's email, a transaction's amount changed, a transaction
    was deleted and another added in the source."""

    night: Night
    before: dict[str, Decimal]
    moved_customer: str
    changed_sr_no: str
    deleted_sr_no: str
    emails: dict[str | None, str | None]


@pytest.fixture(scope="module")
def changes(shared_pipeline: Pipeline, second: Night) -> ChangesNight:
    pipeline = shared_pipeline
    before = second.stored
    with open_warehouse(pipeline.warehouse_url) as store:
        customers = store.read("normalized.customers", practice_id="P001")
    moved = str(customers.dropna(subset=["email"])["external_id"].iloc[0])
    engine = create_engine(pipeline.source_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "update patients set email = 'moved.away@example.org'"
                " where practice_id = '1' and trim(patient_id) = :patient"
            ),
            {"patient": moved.removeprefix("P001-")},
        )
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
    return ChangesNight(
        # The row deleted without a trace is found by the full deletion scan, which the
        # weekly run asks for: a night on a source that reports its deletions does not scan.
        night=night(pipeline, run_config=FULL_DELETION_SCAN),
        before=before,
        moved_customer=moved,
        changed_sr_no=str(changed.transaction_sr_no),
        deleted_sr_no=str(deleted.transaction_sr_no),
        emails=ar_emails(pipeline),
    )


@pytest.fixture(scope="module")
def after_changes(shared_pipeline: Pipeline, changes: ChangesNight) -> Night:
    """The night after the changes, with nothing new."""
    return night(shared_pipeline)


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


@pytest.fixture(scope="module")
def full_repush(shared_pipeline: Pipeline, after_changes: Night) -> Night:
    """A full repush of every customer and entry, through AR that cannot be reached the
    first time the customers' step makes its client."""
    config = {"full_repush": True}
    UNREACHABLE_ONCE[:] = [True]
    return night(
        shared_pipeline,
        ar=UnreachableOnceArApi(base_url=shared_pipeline.sandbox.base_url),
        run_config={
            "ops": {"ar__customers": {"config": config}, "ar__ledger_entries": {"config": config}}
        },
    )


@dataclass(frozen=True)
class StatementChanged:
    """A night and the weekly run after a statement was changed in AR behind the
    pipeline's back, for a customer no push touched since."""

    night: Night
    weekly: Night
    external_id: str


@pytest.fixture(scope="module")
def statement_changed(shared_pipeline: Pipeline, full_repush: Night) -> StatementChanged:
    """P001's last nights, since nothing reconciles clean after them."""
    external_id = change_a_statement_in_ar(shared_pipeline, "P001")
    quiet = night(shared_pipeline)
    weekly = night(shared_pipeline, raise_on_error=False, job_name="weekly_reconciliation")
    return StatementChanged(quiet, weekly, external_id)


def test_the_whole_graph_materializes_and_reconciles_clean(
    shared_pipeline: Pipeline, first: FirstNight
) -> None:
    result = first.night.result
    assert result.success
    run = shared_pipeline.instance.get_run_by_id(result.run_id)
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
    assert first.night.in_ar == first.night.stored
    reconciliation = materialized(result, "reconciliation")
    assert reconciliation["clean"] is True
    assert reconciliation["matched"] == materialized(result, "ar/statements")["statements"] > 0
    assert check_passed(result, "reconciliation_clean") == {"reconciliation": True}
    assert check_passed(result, "no_failed_or_rejected_pushes") == {
        "ar/customers": True,
        "ar/ledger_entries": True,
    }
    assert first.night.report is not None  # reconciliation_P001.html
    assert "<svg" in first.night.report
    # The other practice's partition is untouched until its own run.
    assert first.other_practice_stored == {}


def test_a_second_run_pushes_nothing_and_stays_clean(second: Night) -> None:
    assert materialized(second.result, "ar/customers")["sent"] == 0
    assert materialized(second.result, "ar/ledger_entries")["sent"] == 0
    assert materialized(second.result, "reconciliation")["clean"] is True


def test_a_night_reads_back_and_reconciles_only_the_customers_its_push_touched(
    first: FirstNight, changes: ChangesNight
) -> None:
    everything = materialized(first.night.result, "ar/statements")
    assert (everything["full"], everything["listing"]) == (True, "by month")
    read = materialized(changes.night.result, "ar/statements")
    # The changed, the deleted and the added transaction: at most three customers.
    assert read["full"] is False
    assert read["listing"] == "by customer"
    assert 1 <= read["customers"] <= 3
    assert 0 < read["statements"] < everything["statements"]
    reconciliation = materialized(changes.night.result, "reconciliation")
    assert reconciliation["customers_verified"] == read["customers"]
    assert reconciliation["statements_verified"] == read["statements"]
    assert reconciliation["total"] > read["statements"]  # the rest as stored
    assert reconciliation["clean"] is True


def test_a_run_parses_only_the_contacts_no_earlier_run_met(
    first: FirstNight, second: Night, changes: ChangesNight
) -> None:
    parsed_first = materialized(first.night.result, "normalized/customers")
    assert parsed_first["contacts_parsed"] > 0
    assert parsed_first["contacts_known"] == 0
    assert parsed_first["customers_rebuilt"] == parsed_first["customers"] > 0
    parsed_second = materialized(second.result, "normalized/customers")
    assert parsed_second["contacts_parsed"] == 0
    assert parsed_second["contacts_known"] == parsed_first["contacts_parsed"]
    # Only the customers of the entries read again (the lookback) are written.
    assert parsed_second["customers_rebuilt"] < parsed_second["customers"]

    # A night whose source has one customer's email changed.
    third = changes.night.result
    assert materialized(third, "normalized/customers")["contacts_parsed"] == 1
    assert materialized(third, "normalized/customers")["customers_rebuilt"] >= 1
    assert materialized(third, "ar/customers")["sent"] == 1
    assert changes.emails[changes.moved_customer] == "moved.away@example.org"


def test_changed_added_and_deleted_source_rows_push_exactly_those_changes(
    changes: ChangesNight, after_changes: Night
) -> None:
    result, after = changes.night.result, changes.night.in_ar
    assert materialized(result, "ar/ledger_entries")["sent"] == 3
    changed, deleted = f"P001-{changes.changed_sr_no}", f"P001-{changes.deleted_sr_no}"
    assert after[changed] == changes.before[changed] + Decimal("7.00")
    assert after[deleted] == Decimal("0")
    assert "P001-NEW-1" in after
    assert after == changes.night.stored
    assert materialized(result, "reconciliation")["clean"] is True
    assert materialized(after_changes.result, "ar/ledger_entries")["sent"] == 0


def test_a_full_repush_sends_every_record_again(
    first: FirstNight, after_changes: Night, full_repush: Night
) -> None:
    customers = materialized(first.night.result, "ar/customers")["sent"]
    again = full_repush.result
    assert materialized(again, "ar/ledger_entries")["sent"] == len(after_changes.stored)
    assert materialized(again, "ar/customers")["sent"] == customers
    assert materialized(again, "reconciliation")["clean"] is True


def test_a_step_that_fails_transiently_is_retried_and_the_run_succeeds(
    full_repush: Night,
) -> None:
    result = full_repush.result
    assert result.success
    retried = [e.step_key for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retried == ["ar__customers"]
    assert materialized(result, "reconciliation")["clean"] is True


def test_a_statement_changed_in_ar_is_caught_by_the_weekly_run_not_by_a_night(
    statement_changed: StatementChanged,
) -> None:
    # A night verifies what its push touched: nothing, so nothing is read back.
    quiet = statement_changed.night.result
    read = materialized(quiet, "ar/statements")
    assert (read["full"], read["statements"], read["customers"]) == (False, 0, 0)
    assert materialized(quiet, "reconciliation")["clean"] is True
    assert materialized(quiet, "reconciliation")["statements_verified"] == 0

    weekly = statement_changed.weekly.result
    assert materialized(weekly, "ar/statements")["full"] is True
    reconciliation = materialized(weekly, "reconciliation")
    assert reconciliation["clean"] is False
    assert reconciliation["amount_mismatch"] == 1
    assert reconciliation["full"] is True
    assert check_passed(weekly, "reconciliation_clean") == {"reconciliation": False}
    rows = statement_changed.weekly.report_rows  # reconciliation_P001.csv
    assert rows is not None
    assert f"{statement_changed.external_id},P001-" in rows
    assert ",amount_mismatch," in rows
    assert json.dumps(reconciliation["summary"])  # JSON-safe evidence in the metadata
    last_full = reconciliation["verified"]["last_full_reconciliation"]
    assert last_full["clean"] is False
    assert last_full["counts"]["amount_mismatch"] == 1
    assert statement_changed.weekly.report is not None
    assert "The last full reconciliation ran" in statement_changed.weekly.report


# --- P002's nights -------------------------------------------------------------------


@pytest.fixture(scope="module")
def refused_key(shared_pipeline: Pipeline, first: FirstNight) -> dg.ExecuteInProcessResult:
    """P002's first run, with an AR key AR does not know."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("AR_API_KEY_P002", REFUSED_KEY)
        return shared_pipeline.run("P002", raise_on_error=False)


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


@dataclass(frozen=True)
class KilledThenRerun:
    killed: bool
    held_after_kill: dict[str, Decimal]
    rerun: Night


@pytest.fixture(scope="module")
def killed_then_rerun(
    shared_pipeline: Pipeline, refused_key: dg.ExecuteInProcessResult
) -> KilledThenRerun:
    """A run of P002 killed once AR took its first ledger push, then the next run."""
    killing = KillingArApi(base_url=shared_pipeline.sandbox.base_url, ledger_posts=0)
    try:
        shared_pipeline.run("P002", ar=killing)
    except RunKilledError:
        killed = True
    else:
        killed = False
    held = ar_entries(shared_pipeline, "P002")
    return KilledThenRerun(killed, held, night(shared_pipeline, "P002"))


def test_an_error_that_is_not_transient_fails_the_step_at_once(
    refused_key: dg.ExecuteInProcessResult,
) -> None:
    result = refused_key
    assert not result.success
    retried = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retried == []
    failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["ar__customers"]
    message = failures[0].event_specific_data.error.message  # type: ignore[union-attr]
    assert REFUSED_KEY not in message


def test_a_run_killed_in_the_middle_of_a_push_converges_when_run_again(
    killed_then_rerun: KilledThenRerun,
) -> None:
    assert killed_then_rerun.killed
    assert killed_then_rerun.held_after_kill  # AR holds what the killed run sent
    rerun = killed_then_rerun.rerun
    assert rerun.result.success
    assert rerun.in_ar == rerun.stored
    assert materialized(rerun.result, "reconciliation")["clean"] is True


# --- a pipeline of its own -------------------------------------------------------------


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
    # The duplicate went without a trace: the full deletion scan finds it.
    third = pipeline.run("P001", run_config=FULL_DELETION_SCAN)
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
