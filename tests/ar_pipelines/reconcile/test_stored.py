"""A reconciliation kept in the warehouse reports what the reconciliation in memory
reports: the same counts, totals, sums by month and differing rows, and a CSV the
database writes to the byte as the report writes it. A night's customers merged in
give what reconciling every statement gives. On DuckDB and on Postgres."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from ar_pipelines.reconcile import reconcile
from ar_pipelines.reconcile.report import csv_frame
from ar_pipelines.reconcile.stored import keep, stored_result, write_csv
from ar_pipelines.warehouse import Warehouse
from tests.ar_pipelines.warehouse.stores import DIALECTS, store_at

PRACTICE = "P1"


def _local(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    """(customer, month, amount, paid) as the statements mart has them."""
    return pd.DataFrame(
        {
            "external_invoice_id": [f"STMT-{m}-{c}" for c, m, _, _ in rows],
            "customer_external_id": [c for c, _, _, _ in rows],
            "period_start": [date.fromisoformat(f"{m}-01") for _, m, _, _ in rows],
            "amount": [Decimal(a) for _, _, a, _ in rows],
            "paid_amount": [Decimal(p) for _, _, _, p in rows],
        }
    )


def _ar(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"inv-{c}-{m}" for c, m, _, _ in rows],
            "external_invoice_id": [f"STMT-{m}-{c}" for c, m, _, _ in rows],
            "period_start": [date.fromisoformat(f"{m}-01") for _, m, _, _ in rows],
            "amount": [Decimal(a) for _, _, a, _ in rows],
            "paid_amount": [Decimal(p) for _, _, _, p in rows],
            "status": ["open"] * len(rows),
            "enrollment_status": ["not_enrolled"] * len(rows),
        }
    )


LOCAL = [
    ("P1-C1", "2026-01", "120.00", "20.00"),
    ("P1-C1", "2026-02", "80.50", "0.00"),
    ("P1-C2", "2026-01", "10.00", "10.00"),  # AR bills another amount
    ("P1-C3", "2026-02", "-5.25", "0.00"),  # AR applies other payments
    ("P1-C4", "2026-03", "9.99", "0.00"),  # missing in AR
    ("P1-C,5", "2026-03", "1.00", "1.00"),  # a comma in the customer's id
]
AR = [
    ("P1-C1", "2026-01", "120.00", "20.00"),
    ("P1-C1", "2026-02", "80.50", "0.00"),
    ("P1-C2", "2026-01", "11.00", "10.00"),
    ("P1-C3", "2026-02", "-5.25", "1.00"),
    ("P1-C6", "2026-02", "7.00", "0.00"),  # unexpected in AR
    ("P1-C7", "2026-01", "0.00", "0.00"),  # zeroed in AR
    ("P1-C,5", "2026-03", "1.00", "1.00"),
]


@pytest.fixture(params=DIALECTS)
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    with store_at(request.param, tmp_path) as location, location.open() as opened:
        yield opened


def test_a_stored_reconciliation_reports_what_the_one_in_memory_does(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    result = reconcile(PRACTICE, _local(LOCAL), _ar(AR))
    counts = result.counts()
    assert [counts[s] for s in ("amount_mismatch", "paid_mismatch", "missing_in_ar")] == [1, 1, 1]

    keep(warehouse, result)
    kept = stored_result(warehouse, PRACTICE)

    assert kept.counts() == result.counts()
    assert kept.counts()["unexpected_in_ar"] == 1
    assert kept.counts()["zeroed_in_ar"] == 1
    assert kept.totals() == result.totals()
    assert kept.clean is result.clean is False
    pd.testing.assert_frame_equal(kept.by_month, result.by_month)
    assert kept.mismatches(limit=50) == result.mismatches(limit=50)
    written = tmp_path / "stored.csv"
    assert write_csv(warehouse, PRACTICE, written) == len(result.rows)
    expected = csv_frame(result).to_csv(index=False, lineterminator="\n")
    assert written.read_text("utf-8") == expected


def test_a_nights_customers_merged_in_give_what_reconciling_every_statement_gives(
    warehouse: Warehouse,
) -> None:
    keep(warehouse, reconcile(PRACTICE, _local(LOCAL), _ar(AR)))
    # The night: C2's statement corrected in AR, C4's pushed, C1 gains a month.
    local = [*LOCAL, ("P1-C1", "2026-03", "15.00", "0.00")]
    ar = [row for row in AR if row[0] != "P1-C2"] + [
        ("P1-C2", "2026-01", "10.00", "10.00"),
        ("P1-C4", "2026-03", "9.99", "0.00"),
        ("P1-C1", "2026-03", "15.00", "0.00"),
    ]
    night = ["P1-C1", "P1-C2", "P1-C4"]
    part = reconcile(
        PRACTICE,
        _local([row for row in local if row[0] in night]),
        _ar([row for row in ar if row[0] in night]),
    )

    keep(warehouse, part, customers=night)

    merged = stored_result(warehouse, PRACTICE)
    everything = reconcile(PRACTICE, _local(local), _ar(ar))
    assert merged.counts() == everything.counts()
    assert merged.totals() == everything.totals()
    assert merged.mismatches(limit=50) == everything.mismatches(limit=50)
    assert merged.counts()["amount_mismatch"] == 0
