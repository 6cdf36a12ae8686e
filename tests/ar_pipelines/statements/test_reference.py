"""The plain-Python reference (``docs/contract.md#statement-aggregation``) on the rules
that are easy to get wrong."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ar_pipelines.statements import LedgerEntry, compute_statements


def _e(external_id: str, day: str, kind: str, amount: str, customer: str = "PT-001") -> LedgerEntry:
    return LedgerEntry(external_id, customer, date.fromisoformat(day), kind, Decimal(amount))


def test_the_documented_example() -> None:
    result = compute_statements(
        [
            _e("TX-1", "2026-05-03", "charge", "240"),
            _e("TX-2", "2026-05-15", "patient_payment", "-100"),
        ]
    )
    (statement,) = result.statements
    assert statement.external_invoice_id == "STMT-2026-05-PT-001"
    assert (statement.amount, statement.paid_amount, statement.outstanding) == (240, 100, 140)
    assert (statement.period_end, statement.due_date) == (date(2026, 5, 31), date(2026, 10, 28))


def test_payments_go_oldest_first_regardless_of_their_date() -> None:
    result = compute_statements(
        [
            _e("C-1", "2026-01-10", "charge", "50"),
            _e("C-2", "2026-02-10", "charge", "70"),
            _e("P-1", "2026-02-20", "insurance_payment", "-60"),
        ]
    )
    assert [(s.period_start.month, s.paid_amount) for s in result.statements] == [(1, 50), (2, 10)]
    assert [(a.period_start.month, a.amount) for a in result.allocations] == [(1, 50), (2, 10)]


def test_a_prepayment_pays_the_first_statement_that_comes() -> None:
    result = compute_statements(
        [_e("P-1", "2025-12-01", "patient_payment", "-30"), _e("C-1", "2026-03-01", "charge", "20")]
    )
    assert result.statements[0].paid_amount == 20
    assert result.unapplied_payments == {("PT-001", "P-1"): Decimal("10")}


def test_a_month_whose_net_is_not_positive_has_no_statement() -> None:
    result = compute_statements(
        [_e("C-1", "2026-04-01", "charge", "20"), _e("K-1", "2026-04-02", "other_credit", "-20")]
    )
    assert result.statements == []
    assert result.non_qualifying_net == {("PT-001", date(2026, 4, 1)): Decimal("0")}


def test_same_day_payments_are_ordered_by_external_id() -> None:
    result = compute_statements(
        [
            _e("C-1", "2026-01-05", "charge", "10"),
            _e("C-2", "2026-02-05", "charge", "10"),
            _e("P-B", "2026-03-01", "patient_payment", "-10"),
            _e("P-A", "2026-03-01", "patient_payment", "-10"),
        ]
    )
    assert [(a.payment_external_id, a.period_start.month) for a in result.allocations] == [
        ("P-A", 1),
        ("P-B", 2),
    ]


def test_cents_that_do_not_divide_evenly_are_kept_exactly() -> None:
    entries = [_e(f"C-{i}", f"2026-0{i}-01", "charge", "33.33") for i in (1, 2, 3)]
    result = compute_statements([*entries, _e("P-1", "2026-03-15", "patient_payment", "-50.01")])
    assert [s.paid_amount for s in result.statements] == [
        Decimal("33.33"),
        Decimal("16.68"),
        Decimal("0"),
    ]
    assert sum(a.amount for a in result.allocations) == Decimal("50.01")
