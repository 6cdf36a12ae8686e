"""The marts dbt builds, as ``export_marts`` writes them to CSV: which columns, in which
row order. Rows are ordered by the bytes of their text keys on every database, so that
the files are the same to the byte from DuckDB and from Postgres."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MartExport:
    """A mart's columns as written to CSV, and the order its rows are written in."""

    columns: tuple[str, ...]
    order: tuple[str, ...]
    text_order: frozenset[str]  # order columns compared as text, by their bytes


MART_EXPORTS: dict[str, MartExport] = {
    "statements": MartExport(
        columns=(
            "external_invoice_id",
            "customer_external_id",
            "period_start",
            "period_end",
            "issue_date",
            "due_date",
            "amount",
            "paid_amount",
            "outstanding",
        ),
        order=("customer_external_id", "period_start"),
        text_order=frozenset({"customer_external_id"}),
    ),
    "payment_allocations": MartExport(
        columns=(
            "allocation_id",
            "customer_external_id",
            "payment_external_id",
            "external_invoice_id",
            "period_start",
            "transaction_date",
            "allocated_amount",
        ),
        # The payment order (docs/contract.md#payment-order), then the statements oldest first.
        order=("customer_external_id", "transaction_date", "payment_external_id", "period_start"),
        text_order=frozenset({"customer_external_id", "payment_external_id"}),
    ),
    "customer_credits": MartExport(
        columns=(
            "customer_external_id",
            "billed_amount",
            "statement_amount",
            "non_qualifying_months",
            "non_qualifying_net",
            "payments_total",
            "allocated_amount",
            "unapplied_payments",
        ),
        order=("customer_external_id",),
        text_order=frozenset({"customer_external_id"}),
    ),
}


def export_query(mart: str, relation: str, *, bytewise: str) -> str:
    """``select`` of a mart in its export order. ``bytewise`` makes a text column compare
    by its bytes, ``{}`` standing for the column."""
    spec = MART_EXPORTS[mart]
    order = ", ".join(
        bytewise.format(column) if column in spec.text_order else column for column in spec.order
    )
    # Names from MART_EXPORTS and a relation the warehouse quoted: nothing from outside.
    return f"select {', '.join(spec.columns)} from {relation} order by {order}"  # noqa: S608


@dataclass(frozen=True)
class ExportedFile:
    path: Path
    rows: int
