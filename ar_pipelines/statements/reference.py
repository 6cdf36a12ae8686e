"""Statements as ``docs/contract.md#statement-aggregation`` and ``#payment-waterfall``
describe them, written as directly as they read, for small inputs and tests.

Deliberately literal: the allocation of payment ``j`` to statement ``i`` is
``max(0, min(C(i), Q(j)) - max(C(i-1), Q(j-1)))`` evaluated for every pair, which
is quadratic but obviously the contract. Fast implementations (the dbt models, the
sandbox) are checked against this one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate

BILLABLE = {"charge", "adjustment", "other_debit", "other_credit"}
PAYMENTS = {"patient_payment", "insurance_payment"}
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LedgerEntry:
    external_id: str
    customer: str
    transaction_date: date
    transaction_type: str
    amount: Decimal


@dataclass(frozen=True)
class Statement:
    customer: str
    external_invoice_id: str
    period_start: date
    period_end: date
    issue_date: date
    due_date: date
    amount: Decimal
    paid_amount: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount


@dataclass(frozen=True)
class Allocation:
    customer: str
    payment_external_id: str
    period_start: date
    transaction_date: date
    amount: Decimal  # positive: what the payment gave the statement


@dataclass(frozen=True)
class StatementsResult:
    statements: list[Statement]
    allocations: list[Allocation]
    non_qualifying_net: dict[tuple[str, date], Decimal]
    unapplied_payments: dict[tuple[str, str], Decimal]


def _month_end(start: date) -> date:
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def compute_statements(entries: Iterable[LedgerEntry]) -> StatementsResult:
    by_customer: dict[str, list[LedgerEntry]] = defaultdict(list)
    for entry in entries:
        by_customer[entry.customer].append(entry)
    statements: list[Statement] = []
    allocations: list[Allocation] = []
    non_qualifying: dict[tuple[str, date], Decimal] = {}
    unapplied: dict[tuple[str, str], Decimal] = {}
    for customer in sorted(by_customer):
        rows = by_customer[customer]
        net: dict[date, Decimal] = defaultdict(lambda: ZERO)
        for row in rows:
            if row.transaction_type in BILLABLE:
                net[row.transaction_date.replace(day=1)] += row.amount
        months = sorted(m for m in net if net[m] > 0)
        non_qualifying.update({(customer, m): net[m] for m in net if net[m] <= 0})
        payments = sorted(
            (r for r in rows if r.transaction_type in PAYMENTS),
            key=lambda r: (r.transaction_date, r.external_id),
        )
        c = [ZERO, *accumulate(net[m] for m in months)]
        q = [ZERO, *accumulate(-p.amount for p in payments)]
        paid = dict.fromkeys(months, ZERO)
        for j, payment in enumerate(payments, start=1):
            given = ZERO
            for i, month in enumerate(months, start=1):
                share = max(ZERO, min(c[i], q[j]) - max(c[i - 1], q[j - 1]))
                if share > 0:
                    paid[month] += share
                    given += share
                    allocations.append(
                        Allocation(
                            customer, payment.external_id, month, payment.transaction_date, share
                        )
                    )
            if -payment.amount > given:
                unapplied[(customer, payment.external_id)] = -payment.amount - given
        for month in months:
            number = f"STMT-{month:%Y}-{month:%m}-{customer}"
            statements.append(
                Statement(
                    customer=customer,
                    external_invoice_id=number,
                    period_start=month,
                    period_end=_month_end(month),
                    issue_date=month,
                    due_date=month + timedelta(days=180),
                    amount=net[month],
                    paid_amount=paid[month],
                )
            )
    return StatementsResult(statements, allocations, non_qualifying, unapplied)
