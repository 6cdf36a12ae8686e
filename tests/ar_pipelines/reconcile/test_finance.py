"""Finance's view: the source's amounts tied out to the ledger and the quarantine, the
outstanding aged by statement month, and the HTML fragment that shows both."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from ar_pipelines.reconcile import Reconciliation, reconcile
from ar_pipelines.reconcile.finance import (
    NEVER_STORED,
    NORMALIZED,
    QUARANTINED,
    UNACCOUNTED,
    TieOut,
    aging,
    bucket_of,
    finance_html,
    period_end,
    source_tie_out,
    statement_rows,
)
from ar_pipelines.reconcile.stored import keep, stored_result
from ar_pipelines.sources.base import Source
from ar_pipelines.sources.frames import Extract
from ar_pipelines.sync import PracticeIds, normalize_practice
from ar_pipelines.sync.extract import WHOLE_READ
from ar_pipelines.warehouse import (
    LEDGER_ENTRIES,
    RAW_GUARANTORS,
    RAW_PATIENTS,
    RAW_TRANSACTIONS,
    Warehouse,
    open_warehouse,
)
from tests.ar_pipelines.normalize.rows import (
    SETTINGS,
    guarantors,
    patient,
    patients,
    payment_types,
    transaction,
    transactions,
)
from tests.ar_pipelines.reconcile.statements import ar_statement, both_sides

PRACTICE = PracticeIds("P1", "P1")
CENT = Decimal("0.01")


@dataclass
class Office(Source):
    """A source held in memory: the rows of each read are given to ``read``."""

    live: list[dict[str, Any]] = field(default_factory=list)
    scans_keys_cheaply = True

    @property
    def reports_deletions(self) -> bool:
        return True

    def transaction_keys(self, *, practice_id: str | None = None) -> Iterator[pd.DataFrame]:
        yield transactions(*self.live).loc[:, ["practice_id", "transaction_sr_no", "row_key"]]

    def payment_types(self, *, practice_id: str | None = None) -> pd.DataFrame:
        return payment_types()

    def patients(self, *, practice_id: str | None = None) -> pd.DataFrame:
        return patients(patient("100"))

    def guarantors(self, *, practice_id: str | None = None) -> pd.DataFrame:
        return guarantors()

    def practices(self, *, practice_id: str | None = None) -> pd.DataFrame:
        raise NotImplementedError

    def _read_transactions(self, practice_id: Any, since: Any, loaded_from: Any) -> Extract:
        raise NotImplementedError

    def close(self) -> None:
        pass


def read(store: Warehouse, office: Office, rows: list[dict[str, Any]], *, whole: bool) -> None:
    """A run: ``rows`` stored as the extract stores them, then normalized."""
    store.replace(RAW_TRANSACTIONS, transactions(*rows), practice_id="P1")
    store.replace(RAW_PATIENTS, office.patients(), practice_id="P1")
    store.replace(RAW_GUARANTORS, office.guarantors(), practice_id="P1")
    if whole:
        store.set_cursor("P1", WHOLE_READ, pd.Timestamp("2026-05-01").to_pydatetime())
    else:
        store.clear_cursor("P1", WHOLE_READ)
    normalize_practice(store, office, PRACTICE, settings=SETTINGS)


# The first read: two rows normalize (a charge, and a payment the source books positive),
# the others are quarantined, two of them without an amount that is money.
FIRST_READ = [
    transaction("1", row_key="k1", amount="120.0000"),
    transaction(
        "2", row_key="k2", transaction_type="Payment", payment_type="CASH", amount="50.0000"
    ),
    transaction("3", row_key="k3", amount="abc"),
    transaction("4", row_key="k4", amount="10.125"),
    transaction("5", row_key="k5", amount="30.0000", patient_id="999"),
    transaction(
        "6", row_key="k6", transaction_type="Payment", payment_type="ZZZ", amount="25.5000"
    ),
    transaction("7", row_key="k7", amount="40.0000", transaction_date="2999-01-01T00:00:00"),
]


@pytest.fixture
def store() -> Iterator[Warehouse]:
    with open_warehouse("duckdb:///:memory:") as opened:
        yield opened


@pytest.fixture
def first_read(store: Warehouse) -> Office:
    office = Office(live=list(FIRST_READ))
    read(store, office, FIRST_READ, whole=True)
    return office


def line(tie_out: TieOut, outcome: str, reason: str = "") -> tuple[int, int, Decimal]:
    (found,) = [x for x in tie_out.lines if (x.outcome, x.reason) == (outcome, reason)]
    return found.rows, found.rows_without_amount, found.source_amount


def test_the_amounts_read_are_the_normalized_plus_the_quarantined_to_the_cent(
    store: Warehouse, first_read: Office
) -> None:
    tie_out = source_tie_out(store, "P1")

    assert tie_out.read_rows == 7
    assert tie_out.read_without_amount == 2  # "abc" and "10.125"
    assert tie_out.read_amount == Decimal("265.50")
    assert sum((x.source_amount for x in tie_out.lines), Decimal(0)) == tie_out.read_amount
    assert sum(tie_out.frame()["source_amount"], Decimal(0)) == tie_out.read_amount
    assert tie_out.difference == Decimal("0.00")
    assert tie_out.ties


def test_each_quarantine_reason_has_its_rows_and_its_amount(
    store: Warehouse, first_read: Office
) -> None:
    tie_out = source_tie_out(store, "P1")

    assert line(tie_out, QUARANTINED, "amount_unparseable") == (1, 1, Decimal("0.00"))
    assert line(tie_out, QUARANTINED, "amount_too_precise") == (1, 1, Decimal("0.00"))
    assert line(tie_out, QUARANTINED, "patient_missing") == (1, 0, Decimal("30.00"))
    assert line(tie_out, QUARANTINED, "unknown_payment_type") == (1, 0, Decimal("25.50"))
    assert line(tie_out, QUARANTINED, "date_in_future") == (1, 0, Decimal("40.00"))


def test_normalized_rows_show_the_source_amount_beside_the_ledger_amount_in_ar_signs(
    store: Warehouse, first_read: Office
) -> None:
    tie_out = source_tie_out(store, "P1")
    (normalized,) = [x for x in tie_out.lines if x.outcome == NORMALIZED]

    assert (normalized.rows, normalized.source_amount) == (2, Decimal("170.00"))
    assert normalized.ledger_amount == Decimal("70.00")  # the payment is a credit: -50
    assert tie_out.ledger_disagreements == 0


def test_a_later_read_ties_out_only_its_own_rows_and_reports_earlier_verdicts_apart(
    store: Warehouse, first_read: Office
) -> None:
    later = [
        transaction("8", row_key="k8", amount="15.0000"),
        transaction("1", row_key="k1", amount="120.0000", is_deleted="true"),
        transaction("9", row_key="k9", amount="99.0000", is_deleted="true"),
    ]
    first_read.live = [*FIRST_READ[1:], later[0]]
    read(store, first_read, later, whole=False)

    tie_out = source_tie_out(store, "P1")

    assert tie_out.read_rows == 3
    assert tie_out.read_amount == Decimal("234.00")
    normalized = next(x for x in tie_out.lines if x.outcome == NORMALIZED)
    # the deleted row's void enters the ledger at 0
    assert (normalized.rows, normalized.source_amount) == (2, Decimal("135.00"))
    assert normalized.ledger_amount == Decimal("15.00")
    assert line(tie_out, NEVER_STORED) == (1, 0, Decimal("99.00"))
    assert tie_out.ties
    # rows 3 to 7 were not read again: their verdicts stay open, outside this tie-out
    assert tie_out.earlier_open_rows == 5
    assert tie_out.earlier_open_without_amount == 2
    assert tie_out.earlier_open_amount == Decimal("95.50")


def test_a_row_in_neither_the_ledger_nor_the_quarantine_is_unaccounted_and_breaks_the_tie(
    store: Warehouse, first_read: Office
) -> None:
    store.delete(LEDGER_ENTRIES, practice_id="P1", column="external_id", values=["P1-1"])

    tie_out = source_tie_out(store, "P1")

    assert line(tie_out, UNACCOUNTED) == (1, 0, Decimal("120.00"))
    assert tie_out.difference == Decimal("0.00")  # every row still has its line
    assert not tie_out.ties


def test_a_ledger_entry_that_is_not_its_rows_amount_is_a_disagreement(
    store: Warehouse, first_read: Office
) -> None:
    entries = store.read(LEDGER_ENTRIES, practice_id="P1")
    changed = entries[entries["external_id"] == "P1-1"].assign(amount=Decimal("119.99"))
    store.upsert(LEDGER_ENTRIES, changed)

    tie_out = source_tie_out(store, "P1")

    assert tie_out.ledger_disagreements == 1
    assert not tie_out.ties


# Aging -----------------------------------------------------------------------------

JANUARY_END = date(2026, 1, 31)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "0-30"),
        (30, "0-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "91-180"),
        (180, "91-180"),
        (181, "over 180"),
    ],
)
def test_a_statement_is_aged_from_the_end_of_its_month_into_its_bucket(
    days: int, bucket: str
) -> None:
    local, ar = both_sides(("PT-1", "2026-01", ("10.00", "2.50"), ("10.00", "0.00")))
    result = reconcile("PR-1", local, ar)

    aged = aging(result, JANUARY_END + timedelta(days=days)).buckets.set_index("bucket")

    assert aged.loc[bucket, "local_outstanding"] == Decimal("7.50")
    assert aged.loc[bucket, "ar_outstanding"] == Decimal("10.00")
    assert aged.loc[bucket, "outstanding_difference"] == Decimal("2.50")
    assert aged["local_statements"].sum() == 1


def test_a_month_not_ended_yet_counts_as_age_zero() -> None:
    local, ar = both_sides(("PT-1", "2026-03", ("10.00", "0.00"), ("10.00", "0.00")))

    aged = aging(reconcile("PR-1", local, ar), date(2026, 3, 10)).buckets.set_index("bucket")

    assert aged.loc["0-30", "local_statements"] == 1


def test_the_period_end_is_the_last_day_of_the_month_leap_years_included() -> None:
    assert period_end(date(2024, 2, 1)) == date(2024, 2, 29)
    assert period_end(date(2026, 2, 1)) == date(2026, 2, 28)
    assert period_end(date(2026, 12, 1)) == date(2026, 12, 31)
    assert bucket_of(181) == "over 180"


@pytest.fixture
def result() -> Reconciliation:
    """Statements of several months, one only local, one only in AR, one zeroed."""
    local, ar = both_sides(
        ("PT-1", "2025-06", ("100.00", "40.00"), ("100.00", "40.00")),
        ("PT-2", "2025-11", ("80.00", "0.00"), ("80.01", "0.00")),
        ("PT-3", "2026-01", ("55.55", "5.55"), ("55.55", "0.00")),
        ("PT-4", "2026-02", ("1234.56", "0.00"), None),
        ("PT-5", "2026-03", None, ("12.00", "2.00")),
        ('<b>"x"</b>', "2026-03", ("9.99", "0.00"), ("9.99", "1.00")),
    )
    zeroed = ar_statement("PT-6", "2026-03", "0.00", "0.00", enrollment_status="enrolled")
    return reconcile("PR-1", local, [*ar, zeroed])


def test_the_aged_outstanding_adds_up_to_each_sides_total(result: Reconciliation) -> None:
    aged = aging(result, date(2026, 4, 15))
    totals = aged.totals()

    assert totals["local_outstanding"] == result.totals()["local_outstanding"]
    assert totals["ar_outstanding"] == result.totals()["ar_outstanding"]
    assert totals["local_statements"] == 5
    assert totals["ar_statements"] == 6  # the zeroed statement is AR's


def test_a_stored_reconciliation_is_aged_from_every_stored_row_not_only_those_that_differ(
    result: Reconciliation, store: Warehouse
) -> None:
    keep(store, result)
    stored = stored_result(store, "PR-1")

    with pytest.raises(ValueError, match="statement_rows"):
        aging(stored, date(2026, 4, 15))
    aged = aging(statement_rows(store, "PR-1"), date(2026, 4, 15))
    assert aged.totals() == aging(result, date(2026, 4, 15)).totals()


# The HTML fragment -----------------------------------------------------------------


def data_value(page: str, cell_id: str) -> Decimal:
    found = re.search(rf'id="{re.escape(cell_id)}"[^>]*data-value="([^"]*)"', page)
    assert found, cell_id
    return Decimal(found[1])


def test_the_fragment_shows_each_sides_totals_and_their_difference(
    result: Reconciliation,
) -> None:
    page = finance_html(result)
    totals = result.totals()

    for measure in ("billed", "paid", "outstanding"):
        local, ar = totals[f"local_{measure}"], totals[f"ar_{measure}"]
        assert data_value(page, f"finance-local_{measure}") == local
        assert data_value(page, f"finance-ar_{measure}") == ar
        assert data_value(page, f"finance-difference_{measure}") == ar - local


def test_the_fragment_shows_the_tie_out_and_the_aging_that_add_up(
    result: Reconciliation, store: Warehouse, first_read: Office
) -> None:
    tie_out = source_tie_out(store, "P1")
    aged = aging(result, date(2026, 4, 15))

    page = finance_html(result, tie_out=tie_out, aging=aged)

    assert data_value(page, "tie-out-read") == Decimal("265.50")
    assert data_value(page, "tie-out-difference") == Decimal("0.00")
    assert data_value(page, "tie-out-quarantined-patient_missing") == Decimal("30.00")
    assert 'id="tie-out-verdict">Ties' in page
    assert data_value(page, "aging-local-total") == result.totals()["local_outstanding"]
    assert data_value(page, "aging-ar-over_180") == Decimal("60.00")


def test_the_fragment_is_escaped_and_fetches_nothing(result: Reconciliation) -> None:
    page = finance_html(result, aging=aging(result, date(2026, 4, 15)))

    assert "<b>" not in page
    assert "http" not in page
    assert "<script" not in page
    assert "<link" not in page
    assert "<img" not in page
    assert page.startswith('<section id="finance">')
    assert page.endswith("</section>")


def test_a_practice_with_nothing_read_ties_out_at_zero(store: Warehouse) -> None:
    tie_out = source_tie_out(store, "P1")

    assert (tie_out.read_rows, tie_out.read_amount, tie_out.lines) == (0, Decimal("0.00"), ())
    assert tie_out.ties


def test_a_large_read_is_matched_to_the_ledger_read_whole_as_to_the_ledger_looked_up(
    store: Warehouse, first_read: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up = source_tie_out(store, "P1")
    monkeypatch.setattr("ar_pipelines.reconcile.finance.LOOK_UP_AT_MOST", 0)

    assert source_tie_out(store, "P1") == looked_up
