"""A night verifies what its push touched; a full read-back verifies everything.

The push notes the customers of the entries it sends; the read-back reads theirs
alone (a listing per customer, or by month when that costs fewer requests), merges
them into the practice's copy of AR's statements, and the reconciliation says what
was verified and what the last full one found. A statement changed in AR for a
customer no push touched is seen by the next full read-back, not by a night.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import update

from ar_pipelines.client import ARClient
from ar_pipelines.reconcile import (
    Listing,
    PracticeReconciliation,
    Status,
    read_back_statements,
    reconcile_practice,
)
from ar_pipelines.reconcile.readback import listing_requests
from ar_pipelines.sync import push_changes
from ar_pipelines.warehouse import AR_STATEMENTS, TOUCHED_CUSTOMERS, Warehouse, open_warehouse
from ar_sandbox.models import Invoice
from tests.ar_pipelines.reconcile.test_against_sandbox import local_statements
from tests.ar_pipelines.warehouse.frames import customer_row, customers, ledger, ledger_row
from tests.ar_sandbox.ledger_api import entry
from tests.sandbox_server import RunningSandbox

PRACTICE = "P1"
LOCAL = "local_p1"
CUSTOMERS = [f"P1-C{n}" for n in range(1, 7)]


def _entries(charges: dict[str, str]) -> list[tuple[str, str, str, str, str]]:
    """Each customer: a January charge, a February charge and a February payment."""
    rows = []
    for customer in CUSTOMERS:
        rows.append(
            (f"{customer}-T1", customer, "2026-01-10", "charge", charges.get(customer, "50.00"))
        )
        rows.append((f"{customer}-T2", customer, "2026-02-10", "charge", "30.00"))
        rows.append((f"{customer}-T3", customer, "2026-02-20", "patient_payment", "-60.00"))
    return rows


def _push(ar: ARClient, store: Warehouse, rows: list[tuple[str, str, str, str, str]]) -> None:
    """The entries pushed as a nightly push sends them (changes only), and the local
    statements the ledger gives written where dbt would build them."""
    records = ledger(
        *(
            ledger_row(i, amount, customer_external_id=c, transaction_date=day, transaction_type=t)
            for i, c, day, t, amount in rows
        )
    )
    report = push_changes(ar, store, practice_id=PRACTICE, kind="ledger_entries", records=records)
    assert report.clean, report.summary()
    local = local_statements([entry(*row) for row in rows])
    with store.connect() as connection:  # type: ignore[attr-defined]
        connection.register("local", local)
        connection.execute(f"create schema if not exists {LOCAL}")
        connection.execute(f"create or replace table {LOCAL}.statements as select * from local")  # noqa: S608


def _reconcile(store: Warehouse, reports: Path) -> PracticeReconciliation:
    return reconcile_practice(store, practice_id=PRACTICE, local_schema=LOCAL, reports_dir=reports)


@pytest.fixture
def store(tmp_path: Path, ar: ARClient) -> Iterator[Warehouse]:
    with open_warehouse(f"duckdb:///{tmp_path / 'warehouse.duckdb'}") as opened:
        assert ar.customers.bulk_upsert(
            customers(*map(customer_row, CUSTOMERS)).to_dict("records")
        ).complete
        yield opened


def test_a_night_reads_back_only_the_touched_customers_and_a_full_read_back_sees_the_rest(
    ar: ARClient, store: Warehouse, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    _push(ar, store, _entries({}))

    first = read_back_statements(ar, store, practice_id=PRACTICE)
    assert (first.full, first.listing, first.customers, first.statements) == (
        True,
        Listing.BY_MONTH,
        6,
        12,
    )
    done = _reconcile(store, reports)
    assert done.result.clean, done.result.mismatches()
    assert (done.coverage.full, done.coverage.statements) == (True, 12)
    assert done.coverage.last_full is not None
    assert done.coverage.last_full.clean

    # Behind the pipeline's back, C2's January statement changes in AR.
    altered = store.read(AR_STATEMENTS, practice_id=PRACTICE).set_index("external_invoice_id")
    altered_id = altered.loc["STMT-2026-01-P1-C2", "id"]
    with sandbox.database.session() as session:
        session.execute(
            update(Invoice).where(Invoice.id == altered_id).values(amount=Decimal("1.00"))
        )

    # A night: C1's January charge is corrected; only C1 was touched.
    _push(ar, store, _entries({"P1-C1": "55.00"}))
    assert store.read(TOUCHED_CUSTOMERS, practice_id=PRACTICE)["customer_external_id"].tolist() == [
        "P1-C1"
    ]
    night = read_back_statements(ar, store, practice_id=PRACTICE)
    assert (night.full, night.listing, night.customers, night.statements) == (
        False,
        Listing.BY_CUSTOMER,
        1,
        2,
    )
    nightly = _reconcile(store, reports)
    assert store.read(TOUCHED_CUSTOMERS, practice_id=PRACTICE).empty  # verified
    assert nightly.result.clean, nightly.result.mismatches()  # C2 was not read again
    assert (nightly.coverage.full, nightly.coverage.statements, nightly.coverage.customers) == (
        False,
        2,
        1,
    )
    assert nightly.coverage.held == 12
    held = store.read(AR_STATEMENTS, practice_id=PRACTICE).set_index("external_invoice_id")
    assert held.loc["STMT-2026-01-P1-C1", "amount"] == Decimal("55.00")
    assert "last full reconciliation ran" in nightly.files.html.read_text("utf-8")

    full = read_back_statements(ar, store, practice_id=PRACTICE, full=True)
    assert (full.full, full.statements) == (True, 12)
    weekly = _reconcile(store, reports)
    assert not weekly.result.clean
    assert weekly.result.counts()[Status.AMOUNT_MISMATCH] == 1
    [mismatch] = weekly.result.mismatches()
    assert mismatch["key"] == "STMT-2026-01-P1-C2"
    assert weekly.coverage.last_full is not None
    assert not weekly.coverage.last_full.clean
    assert weekly.coverage.last_full.counts[Status.AMOUNT_MISMATCH] == 1


def _first_run(ar: ARClient, store: Warehouse, reports: Path) -> None:
    """Every entry pushed, read back and reconciled: nothing is left touched."""
    _push(ar, store, _entries({}))
    read_back_statements(ar, store, practice_id=PRACTICE)
    assert _reconcile(store, reports).result.clean


def test_a_night_that_touched_most_customers_lists_by_month_and_keeps_only_theirs(
    ar: ARClient, store: Warehouse, tmp_path: Path
) -> None:
    _first_run(ar, store, tmp_path)
    # Six customers touched; two months of twelve statements: 2 + 2 + 1 requests by month.
    _push(ar, store, _entries(dict.fromkeys(CUSTOMERS, "51.00")))

    night = read_back_statements(ar, store, practice_id=PRACTICE)

    assert (night.full, night.listing, night.customers, night.statements) == (
        False,
        Listing.BY_MONTH,
        6,
        12,
    )
    done = _reconcile(store, tmp_path / "reports")
    assert done.result.clean, done.result.mismatches()


def test_an_entry_moved_to_another_customer_touches_both(
    ar: ARClient, store: Warehouse, tmp_path: Path
) -> None:
    _first_run(ar, store, tmp_path)
    rows = _entries({})
    moved = [(i, "P1-C4" if i == "P1-C3-T1" else c, day, t, a) for i, c, day, t, a in rows]

    _push(ar, store, moved)

    touched = store.read(TOUCHED_CUSTOMERS, practice_id=PRACTICE)["customer_external_id"]
    assert sorted(touched) == ["P1-C3", "P1-C4"]


def test_no_touched_customer_reads_nothing(ar: ARClient, store: Warehouse, tmp_path: Path) -> None:
    _first_run(ar, store, tmp_path)

    night = read_back_statements(ar, store, practice_id=PRACTICE)

    assert (night.full, night.listing, night.statements) == (False, Listing.NONE, 0)
    assert len(store.read(AR_STATEMENTS, practice_id=PRACTICE)) == 12


@pytest.mark.parametrize(
    ("customers", "held", "months", "cheaper"),
    [(1_600, 250_000, 24, "by customer"), (200_000, 250_000, 24, "by month"), (0, 0, 0, "either")],
)
def test_the_cheaper_listing_is_by_customer_for_a_few_customers_and_by_month_for_most(
    customers: int, held: int, months: int, cheaper: str
) -> None:
    by_customer, by_month = listing_requests(customers=customers, held=held, months=months)
    assert by_month == months + 2 + -(-held // 100)
    if cheaper == "by customer":
        assert by_customer < by_month
    elif cheaper == "by month":
        assert by_month < by_customer
    else:
        assert by_customer == 0


def test_held_frame_keeps_a_customer_per_statement(ar: ARClient, store: Warehouse) -> None:
    _push(ar, store, _entries({}))
    read_back_statements(ar, store, practice_id=PRACTICE)
    held = store.read(AR_STATEMENTS, practice_id=PRACTICE)
    expected = (
        held["external_invoice_id"]
        .str.removeprefix("STMT-2026-01-")
        .str.removeprefix("STMT-2026-02-")
    )
    pd.testing.assert_series_equal(held["customer_external_id"], expected, check_names=False)
