"""Why statements differ: one practice pushed by a pipeline run, then AR's books changed
behind its back in its database (each change on its own customer, re-aggregated as AR
would after a push where AR's statements would follow), then reconciled in full by a
second run, whose report and metadata name the causes."""

from __future__ import annotations

import csv
import html
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import select

from ar_pipelines.client import ARClient
from ar_pipelines.reconcile import Causes, explain, reconcile_practice
from ar_pipelines.reconcile.html import render_html
from ar_pipelines.reconcile.stored import stored_result
from ar_pipelines.reconcile.why import CAUSE_COLUMNS
from ar_pipelines.statements.dbt import practice_schema
from ar_pipelines.warehouse import open_warehouse
from ar_sandbox.access import Principal
from ar_sandbox.models import Customer, Invoice, LedgerEntry
from ar_sandbox.services.aggregation import reaggregate
from tests.ar_pipelines.defs.conftest import (  # noqa: F401 - the module's pipeline
    Pipeline,
    check_passed,
    materialized,
    shared_pipeline,
)
from tests.ar_pipelines.reconcile.test_workbook import cents, html_value, summary_row

PRACTICE = "P001"
# Added in AR, with characters the page must escape.
EXTRA = f'{PRACTICE}-ADDED-<b>IN</b>-"AR"'

FULL = {"ops": {"ar__statements": {"config": {"full_reconciliation": True}}}}


@dataclass(frozen=True)
class Changes:
    """What was changed in AR: the entries (by external id) and their values before."""

    changed_entry: str
    changed_from: Decimal
    deleted_entry: str
    deleted_amount: Decimal
    extra_month: date
    extra_customer: str
    allocated_payment: str
    allocated_statement: str
    allocated_before: Decimal


@dataclass(frozen=True)
class Reconciled:
    changes: Changes
    run: dg.ExecuteInProcessResult
    causes: Causes  # every mismatch explained, read directly after the run


def change_ar(pipeline: Pipeline) -> Changes:
    """Four customers' books changed in AR, each differently; the first three are
    re-aggregated, as a push of theirs would have AR do. (Money is compared in Python:
    the sandbox keeps it as text on SQLite.)"""
    company = pipeline.companies[PRACTICE]["company_id"]
    live = (LedgerEntry.company_id == company, LedgerEntry.mode == "live")
    with pipeline.sandbox.database.session() as session:
        charges = session.execute(
            select(LedgerEntry, Customer.external_id)
            .join(Customer, Customer.id == LedgerEntry.customer_id)
            .where(*live, LedgerEntry.transaction_type == "charge")
            .where(LedgerEntry.invoice_id.is_not(None))
            .order_by(LedgerEntry.external_id)
        ).all()
        first: dict[str, tuple[LedgerEntry, str]] = {}
        for entry, customer in charges:
            if entry.amount > 10:
                first.setdefault(entry.customer_id, (entry, customer))
        (changed, _), (deleted, _), (extra, extra_customer) = (first[c] for c in sorted(first)[:3])
        used = {changed.customer_id, deleted.customer_id, extra.customer_id}
        changes = {
            "changed_entry": changed.external_id,
            "changed_from": changed.amount,
            "deleted_entry": deleted.external_id,
            "deleted_amount": deleted.amount,
            "extra_month": extra.transaction_date.replace(day=1),
            "extra_customer": extra_customer,
        }
        changed.amount += 5
        session.delete(deleted)
        session.add(
            LedgerEntry(
                company_id=company,
                mode="live",
                customer_id=extra.customer_id,
                external_id=EXTRA,
                transaction_date=extra.transaction_date,
                transaction_type="charge",
                amount=Decimal("7.00"),
            )
        )
        session.flush()
        reaggregate(session, Principal("tests", company, "live", frozenset()), sorted(used))
        # An allocation row less by a dollar, and its statement's paid amount with it:
        # the entries agree, AR's waterfall does not.
        allocations = session.execute(
            select(LedgerEntry, Invoice)
            .join(Invoice, Invoice.id == LedgerEntry.invoice_id)
            .where(*live, LedgerEntry.transaction_type == "payment_allocation")
            .order_by(LedgerEntry.external_id)
        ).all()
        allocation, statement = next(
            (row, invoice)
            for row, invoice in allocations
            if row.customer_id not in used and row.amount <= -2
        )
        changes |= {
            "allocated_payment": allocation.external_id.removeprefix("ALLOC-").removesuffix(
                f"-{statement.id}"
            ),
            "allocated_statement": statement.external_id,
            "allocated_before": -allocation.amount,
        }
        allocation.amount += 1
        statement.paid_amount -= 1
    return Changes(**changes)


def explained(pipeline: Pipeline, limit: int) -> Causes:
    """The causes of the practice's stored mismatches, looked for directly."""
    practice = pipeline.config.get(PRACTICE)
    key = pipeline.companies[PRACTICE]["live_key"]
    with (
        open_warehouse(pipeline.warehouse_url) as store,
        ARClient(base_url=pipeline.sandbox.base_url, api_key=key) as client,
    ):
        return explain(
            client,
            store,
            practice_id=PRACTICE,
            local_schema=practice_schema(practice, store.schema_prefix),
            differing=stored_result(store, PRACTICE).differing(),
            limit=limit,
        )


@pytest.fixture(scope="module")
def reconciled(shared_pipeline: Pipeline) -> Reconciled:  # noqa: F811
    first = shared_pipeline.run(PRACTICE)
    assert check_passed(first, "reconciliation_clean") == {"reconciliation": True}
    changes = change_ar(shared_pipeline)
    run = shared_pipeline.run(PRACTICE, run_config=FULL, raise_on_error=False)
    return Reconciled(changes, run, explained(shared_pipeline, limit=200))


def rows_of(causes: Causes, **equal: object) -> pd.DataFrame:
    rows = causes.rows
    for column, value in equal.items():
        rows = rows[rows[column] == value]
    return rows


def test_an_entry_whose_amount_changed_in_ar_is_named_with_both_amounts(
    reconciled: Reconciled,
) -> None:
    changes = reconciled.changes
    rows = rows_of(reconciled.causes, entry_external_id=changes.changed_entry)

    month = rows[rows["status"] == "amount_mismatch"]
    assert month[["cause", "field"]].values.tolist() == [["entry_differs", "amount"]]
    assert month["local_value"].iloc[0] == changes.changed_from
    assert month["ar_value"].iloc[0] == changes.changed_from + Decimal("5.00")
    assert isinstance(month["ar_value"].iloc[0], Decimal)


def test_an_entry_deleted_in_ar_is_an_entry_missing_in_ar(reconciled: Reconciled) -> None:
    changes = reconciled.changes
    rows = rows_of(reconciled.causes, entry_external_id=changes.deleted_entry)

    assert set(rows["cause"]) == {"entry_missing_in_ar"}
    assert set(rows["status"]) & {"amount_mismatch", "missing_in_ar"}
    assert rows["local_value"].iloc[0] == changes.deleted_amount
    assert rows["ar_value"].iloc[0] is None


def test_an_entry_added_in_ar_under_the_practices_prefix_is_extra_in_ar(
    reconciled: Reconciled,
) -> None:
    changes = reconciled.changes
    rows = rows_of(reconciled.causes, entry_external_id=EXTRA)

    month = rows[rows["status"] == "amount_mismatch"]
    assert month["cause"].tolist() == ["entry_extra_in_ar"]
    assert month["ar_value"].iloc[0] == Decimal("7.00")
    statement = month["external_invoice_id"].iloc[0]
    assert statement == f"STMT-{changes.extra_month:%Y-%m}-{changes.extra_customer}"


def test_an_allocation_changed_in_ar_over_the_same_entries_is_evidence_for_ar(
    reconciled: Reconciled,
) -> None:
    changes = reconciled.changes
    rows = rows_of(reconciled.causes, external_invoice_id=changes.allocated_statement)

    assert rows[["status", "cause", "entry_external_id", "field"]].values.tolist() == [
        [
            "paid_mismatch",
            "same_entries_different_allocation",
            changes.allocated_payment,
            "allocated_amount",
        ]
    ]
    assert rows["local_value"].iloc[0] == changes.allocated_before
    assert rows["ar_value"].iloc[0] == changes.allocated_before - Decimal("1.00")


def test_every_differing_statement_has_a_cause_and_no_customer_left_alone_has_one(
    reconciled: Reconciled,
) -> None:
    causes = reconciled.causes

    assert not causes.capped
    assert causes.explained == causes.differing > 0
    assert set(causes.by_statement()) == set(causes.pairs)
    customers = {key.split("-", 3)[3] for key in causes.by_statement()}
    assert len(customers) == 4


def test_the_cap_looks_at_the_largest_mismatches_first_and_says_it_capped(
    shared_pipeline: Pipeline,  # noqa: F811
    reconciled: Reconciled,
) -> None:
    capped = explained(shared_pipeline, limit=1)

    assert capped.capped
    assert (capped.explained, capped.differing) == (1, reconciled.causes.differing)
    assert capped.summary()["capped"] is True
    [statement] = set(capped.rows["external_invoice_id"])
    assert statement == next(iter(reconciled.causes.pairs))
    with open_warehouse(shared_pipeline.warehouse_url) as store:
        result = stored_result(store, PRACTICE)
    page = render_html(result, generated_at=datetime.now(UTC), csv_name="x.csv", causes=capped)
    assert page.count("not looked at (over the limit)") == capped.differing - 1
    assert f"Looked at the 1 largest of {capped.differing} differing statements" in page


def test_the_run_writes_the_causes_csv_beside_the_report_with_money_as_text(
    reconciled: Reconciled,
) -> None:
    metadata = materialized(reconciled.run, "reconciliation")
    path = metadata["causes_csv"]

    assert path.endswith(f"reconciliation_{PRACTICE}_causes.csv")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CAUSE_COLUMNS
    changed = next(r for r in rows if r["entry_external_id"] == reconciled.changes.changed_entry)
    assert changed["local_value"] == f"{reconciled.changes.changed_from:.2f}"
    assert changed["ar_value"] == f"{reconciled.changes.changed_from + 5:.2f}"
    assert len(rows) == len(reconciled.causes.rows)


def test_the_run_counts_the_causes_in_the_metadata_of_the_asset_and_its_check(
    reconciled: Reconciled,
) -> None:
    metadata = materialized(reconciled.run, "reconciliation")
    [check] = [
        e
        for e in reconciled.run.get_asset_check_evaluations()
        if e.check_name == "reconciliation_clean"
    ]
    counts = reconciled.causes.counts()

    assert metadata["causes"] == counts
    assert metadata["causes_capped"] is False
    for cause in ("entry_differs", "entry_missing_in_ar", "entry_extra_in_ar"):
        assert counts[cause] > 0, cause
    assert counts["same_entries_different_allocation"] == 1
    assert not check.passed
    assert check.metadata["causes"].value == counts
    first = metadata["first_mismatches"]
    assert all(row["cause"] for row in first)


def test_the_page_says_why_and_drills_down_to_the_entries_local_against_ar(
    reconciled: Reconciled,
) -> None:
    metadata = materialized(reconciled.run, "reconciliation")
    page = open(metadata["report"], encoding="utf-8").read()  # noqa: SIM115

    assert "<th>Why</th>" in page
    statement = reconciled.changes.allocated_statement
    assert f'<details class="why" id="why-{statement}">' in page
    assert reconciled.changes.allocated_payment in page
    assert page.count('<details class="why"') == reconciled.causes.explained
    assert html.escape(EXTRA) in page
    assert EXTRA not in page
    assert "http://" not in page
    assert "https://" not in page


def test_when_ar_cannot_be_asked_why_the_report_is_still_written_without_causes(
    shared_pipeline: Pipeline,  # noqa: F811
    reconciled: Reconciled,
    tmp_path: Path,
) -> None:
    practice = shared_pipeline.config.get(PRACTICE)
    refused = ARClient(base_url=shared_pipeline.sandbox.base_url, api_key="ar_live_not_a_key")
    with open_warehouse(shared_pipeline.warehouse_url) as store:
        done = reconcile_practice(
            store,
            practice_id=PRACTICE,
            local_schema=practice_schema(practice, store.schema_prefix),
            reports_dir=tmp_path,
            open_client=lambda: refused,
        )

    assert not done.result.clean
    assert done.causes is None
    assert done.causes_error is not None
    assert done.causes_error.startswith("AuthenticationError")
    assert done.files.causes is None
    assert done.files.html.exists()
    assert not (tmp_path / f"reconciliation_{PRACTICE}_causes.csv").exists()
    assert "<th>Why</th>" not in done.files.html.read_text(encoding="utf-8")


def test_the_unclean_run_writes_the_finance_workbook_whose_totals_are_the_csvs_and_the_pages(
    reconciled: Reconciled,
) -> None:
    metadata = materialized(reconciled.run, "reconciliation")
    book = load_workbook(metadata["workbook"])
    frame = pd.read_csv(metadata["csv"], dtype=str, keep_default_na=False)
    page = Path(metadata["report"]).read_text(encoding="utf-8")

    assert book.sheetnames == ["Summary", "Statements", "Mismatches", "Causes", "Quarantine"]
    assert book["Causes"].max_row - 1 == len(reconciled.causes.rows)
    assert book["Statements"].max_row - 1 == len(frame)
    for measure, local_column, ar_column in (
        ("Billed", "local_amount", "ar_amount"),
        ("Outstanding", "local_outstanding", "ar_outstanding"),
    ):
        _, local, ar, *_ = summary_row(book["Summary"], measure)
        assert cents(local) == sum((Decimal(v) for v in frame[local_column] if v), Decimal(0))
        assert cents(ar) == sum((Decimal(v) for v in frame[ar_column] if v), Decimal(0))
        assert cents(ar) == html_value(page, f"finance-ar_{measure.lower()}")
