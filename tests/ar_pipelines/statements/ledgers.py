"""Ledgers for the statement tests: pushed to AR, written as CSV files, and the files
the reference says they give. Random ledgers come from ``tests.ledger_strategies``."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ar_pipelines.client import ARClient
from ar_pipelines.normalize.transactions import LEDGER_COLUMNS
from ar_pipelines.statements.reference import (
    BILLABLE,
    PAYMENTS,
    LedgerEntry,
    StatementsResult,
    compute_statements,
)
from ar_pipelines.warehouse import MART_EXPORTS

LEDGER_HEADER = LEDGER_COLUMNS  # the normalized ledger's columns, as normalize writes them


def push_ledger(ar: ARClient, entries: list[LedgerEntry]) -> None:
    """The ledger's customers, then its entries, pushed to AR; both accepted whole."""
    customers = sorted({e.customer for e in entries})
    records = [{"external_id": c, "email": f"{c.lower()}@example.com"} for c in customers]
    assert ar.customers.bulk_upsert(records).complete
    pushed = ar.ledgers.bulk_upsert(
        {
            "external_id": e.external_id,
            "customer_external_id": e.customer,
            "transaction_date": e.transaction_date,
            "transaction_type": e.transaction_type,
            "amount": e.amount,
        }
        for e in entries
    )
    assert pushed.complete


def write_ledger_csv(entries: Iterable[LedgerEntry], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(LEDGER_HEADER)
        for e in entries:
            row = [e.external_id, e.customer, e.transaction_date.isoformat(), e.transaction_type]
            writer.writerow([*row, f"{e.amount:.2f}", "", "", "", "", ""])
    return path


def money(value: Decimal) -> str:
    return f"{abs(value) if value == 0 else value:.2f}"


@dataclass(frozen=True)
class ExpectedFiles:
    """The three CSV files, as text, that the contract gives for a ledger."""

    statements: str
    payment_allocations: str
    customer_credits: str

    def as_dict(self) -> dict[str, str]:
        return {
            "statements": self.statements,
            "payment_allocations": self.payment_allocations,
            "customer_credits": self.customer_credits,
        }


def expected_files(entries: list[LedgerEntry]) -> ExpectedFiles:
    """The reference's statements, allocations and credits, written as
    ``compute_local_statements`` writes them."""
    result = compute_statements(entries)
    statement_number = {
        (s.customer, s.period_start): s.external_invoice_id for s in result.statements
    }
    statements = [
        (
            s.external_invoice_id,
            s.customer,
            s.period_start.isoformat(),
            s.period_end.isoformat(),
            s.issue_date.isoformat(),
            s.due_date.isoformat(),
            money(s.amount),
            money(s.paid_amount),
            money(s.outstanding),
        )
        for s in sorted(result.statements, key=lambda s: (s.customer, s.period_start))
    ]
    allocations = [
        (
            f"ALLOC-{a.payment_external_id}-{statement_number[(a.customer, a.period_start)]}",
            a.customer,
            a.payment_external_id,
            statement_number[(a.customer, a.period_start)],
            a.period_start.isoformat(),
            a.transaction_date.isoformat(),
            money(a.amount),
        )
        for a in sorted(
            result.allocations,
            key=lambda a: (a.customer, a.transaction_date, a.payment_external_id, a.period_start),
        )
    ]
    return ExpectedFiles(
        statements=_csv(STATEMENT_HEADER, statements),
        payment_allocations=_csv(ALLOCATION_HEADER, allocations),
        customer_credits=_csv(CREDIT_HEADER, _credits(entries, result)),
    )


def _credits(entries: list[LedgerEntry], result: StatementsResult) -> list[tuple[str, ...]]:
    billed: dict[str, Decimal] = defaultdict(Decimal)
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for e in entries:
        if e.transaction_type in BILLABLE:
            billed[e.customer] += e.amount
        elif e.transaction_type in PAYMENTS:
            paid[e.customer] -= e.amount
    stated: dict[str, Decimal] = defaultdict(Decimal)
    for s in result.statements:
        stated[s.customer] += s.amount
    allocated: dict[str, Decimal] = defaultdict(Decimal)
    for a in result.allocations:
        allocated[a.customer] += a.amount
    months: dict[str, list[Decimal]] = defaultdict(list)
    for (customer, _), net in result.non_qualifying_net.items():
        months[customer].append(net)
    rows = []
    for customer in sorted({e.customer for e in entries}):
        rows.append(
            (
                customer,
                money(billed[customer]),
                money(stated[customer]),
                str(len(months[customer])),
                money(sum(months[customer], Decimal(0))),
                money(paid[customer]),
                money(allocated[customer]),
                money(paid[customer] - allocated[customer]),
            )
        )
    return rows


# The files' columns, as the marts are exported (their headers are pinned, as text, by
# the small ledger's files in ``conftest``).
STATEMENT_HEADER = MART_EXPORTS["statements"].columns
ALLOCATION_HEADER = MART_EXPORTS["payment_allocations"].columns
CREDIT_HEADER = MART_EXPORTS["customer_credits"].columns


def _csv(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    return "".join(",".join(row) + "\n" for row in [header, *rows])


def read_files(files: dict[str, Path]) -> dict[str, str]:
    return {name: path.read_text(encoding="utf-8") for name, path in files.items()}
