"""Statement aggregation and the payment waterfall, pure.

The rules are ``docs/contract.md#statement-aggregation`` and ``#payment-waterfall``.
No HTTP and no database: entries in, statements and allocations out. The
waterfall lays statements end to end on one axis and payments on another and
intersects the intervals, so it is one merge pass, O(n log n) with the sort.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

BILLABLE_TYPES = frozenset({"charge", "adjustment", "other_debit", "other_credit"})
PAYMENT_TYPES = frozenset({"patient_payment", "insurance_payment"})
ALLOCATION_TYPE = "payment_allocation"
DUE_AFTER_DAYS = 180
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Entry:
    external_id: str
    transaction_date: date
    transaction_type: str
    amount: Decimal


@dataclass(frozen=True)
class Allocation:
    payment_external_id: str
    payment_date: date
    month: date
    amount: Decimal  # positive: the money moved from the payment to the statement


@dataclass
class MonthlyStatement:
    month: date
    amount: Decimal
    paid_amount: Decimal = ZERO

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount


@dataclass
class CustomerStatements:
    """Everything aggregation decides for one customer."""

    statements: list[MonthlyStatement]  # months with net > 0, oldest first
    allocations: list[Allocation]
    non_qualifying: dict[date, Decimal]  # months with net <= 0 and their net
    unapplied: dict[str, Decimal] = field(default_factory=dict)  # payment -> value left

    def statement_for(self, month: date) -> MonthlyStatement | None:
        return next((s for s in self.statements if s.month == month), None)


def month_of(day: date) -> date:
    return day.replace(day=1)


def period_end(month: date) -> date:
    next_month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return next_month - timedelta(days=1)


def due_date(month: date) -> date:
    return month + timedelta(days=DUE_AFTER_DAYS)


def statement_number(month: date, customer_key: str) -> str:
    return f"STMT-{month:%Y}-{month:%m}-{customer_key}"


def aggregate(entries: Iterable[Entry]) -> CustomerStatements:
    """Aggregate one customer's entries (allocation rows are ignored)."""
    net: dict[date, Decimal] = defaultdict(lambda: ZERO)
    payments: list[Entry] = []
    for entry in entries:
        if entry.transaction_type in BILLABLE_TYPES:
            net[month_of(entry.transaction_date)] += entry.amount
        elif entry.transaction_type in PAYMENT_TYPES:
            payments.append(entry)
    statements = [MonthlyStatement(m, net[m]) for m in sorted(net) if net[m] > 0]
    non_qualifying = {m: v for m, v in sorted(net.items()) if v <= 0}
    payments.sort(key=lambda p: (p.transaction_date, p.external_id))
    allocations, unapplied = _waterfall(statements, payments)
    return CustomerStatements(statements, allocations, non_qualifying, unapplied)


def _waterfall(
    statements: list[MonthlyStatement], payments: list[Entry]
) -> tuple[list[Allocation], dict[str, Decimal]]:
    """Intersect ``[C(i-1), C(i))`` with ``[Q(j-1), Q(j))``, walking both axes once."""
    allocations: list[Allocation] = []
    unapplied: dict[str, Decimal] = {}
    i = 0
    statement_start = ZERO  # C(i-1)
    payment_start = ZERO  # Q(j-1)
    for payment in payments:
        value = -payment.amount
        payment_end = payment_start + value  # Q(j)
        allocated = ZERO
        while i < len(statements) and value > 0:
            statement = statements[i]
            statement_end = statement_start + statement.amount  # C(i)
            share = min(statement_end, payment_end) - max(statement_start, payment_start)
            if share > 0:
                statement.paid_amount += share
                allocated += share
                allocations.append(
                    Allocation(
                        payment.external_id, payment.transaction_date, statement.month, share
                    )
                )
            if statement_end > payment_end:
                break
            statement_start = statement_end
            i += 1
        if value > allocated:
            unapplied[payment.external_id] = value - allocated
        payment_start = payment_end
    return allocations, unapplied
