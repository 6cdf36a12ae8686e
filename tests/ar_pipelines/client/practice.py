"""A practice's ledger for client tests, and what AR should make of it."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

from ar_pipelines.client import ARClient
from ar_pipelines.statements.reference import LedgerEntry, compute_statements

StatementKey = tuple[str, date, Decimal, Decimal]

CHARGE_TYPES = ("charge", "charge", "charge", "charge", "adjustment", "other_debit")


def customers(count: int) -> list[dict[str, Any]]:
    return [
        {"external_id": f"PT-{n:05}", "email": f"pt{n}@example.com", "firstName": f"P{n}"}
        for n in range(count)
    ]


def entries(customer_count: int, per_customer: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """Charges over a year with some credits and payments, in a shuffled order."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for n in range(customer_count):
        for k in range(per_customer):
            day = date(2025, rng.randint(1, 12), rng.randint(1, 28))
            roll = rng.random()
            if roll < 0.2:
                kind = rng.choice(("patient_payment", "insurance_payment"))
                amount = -Decimal(rng.randint(100, 20_000)) / 100
            elif roll < 0.25:
                kind, amount = "other_credit", -Decimal(rng.randint(100, 5_000)) / 100
            else:
                kind, amount = rng.choice(CHARGE_TYPES), Decimal(rng.randint(0, 40_000)) / 100
            rows.append(
                {
                    "external_id": f"TX-{n:05}-{k:03}",
                    "customer_external_id": f"PT-{n:05}",
                    "transaction_date": day.isoformat(),
                    "transaction_type": kind,
                    "amount": amount,
                }
            )
    rng.shuffle(rows)
    return rows


def expected_statements(rows: list[dict[str, Any]]) -> set[StatementKey]:
    ledger = [
        LedgerEntry(
            external_id=row["external_id"],
            customer=row["customer_external_id"],
            transaction_date=date.fromisoformat(row["transaction_date"]),
            transaction_type=row["transaction_type"],
            amount=Decimal(row["amount"]),
        )
        for row in rows
    ]
    return {
        (s.external_invoice_id, s.period_start, s.amount, s.paid_amount)
        for s in compute_statements(ledger).statements
    }


def statements_in_ar(ar: ARClient) -> set[StatementKey]:
    return {
        (s.external_invoice_id, s.period_start, s.amount, s.paid_amount)
        for s in ar.statements.list()
    }


def raw_entry_count(ar: ARClient) -> int:
    return sum(1 for e in ar.ledgers.list() if e.transaction_type != "payment_allocation")
