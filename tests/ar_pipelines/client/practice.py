"""A practice's ledger for client tests, and what AR should make of it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from ar_demo.entries import Period, customer_rows, draw_ledger, entry_rows
from ar_pipelines.client import ARClient, PushReport
from ar_pipelines.statements.reference import LedgerEntry, compute_statements
from tests.sandbox_server import RunningSandbox

StatementKey = tuple[str, date, Decimal, Decimal]

YEAR = Period(date(2025, 1, 1), 12)


def customers(count: int) -> list[dict[str, Any]]:
    return [dict(row) for row in customer_rows(count, seed=7)]


def entries(customer_count: int, per_customer: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """Charges over a year with some credits and payments, in a shuffled order."""
    count = customer_count * per_customer
    ledger = draw_ledger(count, customer_count, seed=seed, period=YEAR, even=True, shuffle=True)
    return [
        {**row, "transaction_date": row["transaction_date"].isoformat()}
        for row in entry_rows(ledger, procedures=False)
    ]


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


def pushed_through(
    sandbox: RunningSandbox,
    http: httpx.Client,
    customer_count: int,
    rows: list[dict[str, Any]],
    **options: Any,
) -> tuple[PushReport, set[StatementKey]]:
    """A new company's practice pushed by a client over ``http`` (made with ``options``):
    ``customer_count`` customers, then ``rows``. The push's report, and the statements AR
    then holds."""
    company = sandbox.bootstrap()
    key = company["live_key"]
    with ARClient(base_url=sandbox.base_url, api_key=key, http_client=http, **options) as ar:
        ar.customers.bulk_upsert(customers(customer_count))
        report = ar.ledgers.bulk_upsert(rows)
        return report, statements_in_ar(ar)
