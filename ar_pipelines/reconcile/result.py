"""A reconciliation's outcome: one row per statement, sums by month, and JSON-safe views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

import numpy as np
import pandas as pd

from ar_pipelines.reconcile.inputs import ZERO
from ar_pipelines.warehouse.tables import PRACTICE_ID, RECONCILED, RECONCILED_MONEY


class Status(StrEnum):
    """How a statement compares; the values are what ``rows["status"]`` holds."""

    MATCHED = "matched"
    AMOUNT_MISMATCH = "amount_mismatch"
    PAID_MISMATCH = "paid_mismatch"
    MISSING_IN_AR = "missing_in_ar"
    UNEXPECTED_IN_AR = "unexpected_in_ar"


STATUS_MEANINGS = {
    Status.MATCHED: "In both, amount and paid amount equal to the cent (or kept in AR at "
    "zero after its month stopped qualifying).",
    Status.AMOUNT_MISMATCH: "In both, but AR bills a different amount than the ledger gives.",
    Status.PAID_MISMATCH: "Same amount, but AR applies a different sum of payments to it.",
    Status.MISSING_IN_AR: "Computed from the ledger, absent from AR: entries not pushed yet?",
    Status.UNEXPECTED_IN_AR: "In AR, not computed from the ledger: entries voided, moved or "
    "pushed from elsewhere?",
}

# A row of a reconciliation is a row of the stored one (``reconcile.statements``), less
# the practice: its columns are declared once, with the warehouse's tables.
MONEY_COLUMNS = RECONCILED_MONEY
ROW_COLUMNS = tuple(name for name in RECONCILED.column_names if name != PRACTICE_ID)
TOTALS = {
    "local_billed": "local_amount",
    "local_paid": "local_paid",
    "local_outstanding": "local_outstanding",
    "ar_billed": "ar_amount",
    "ar_paid": "ar_paid",
    "ar_outstanding": "ar_outstanding",
}


@dataclass(frozen=True)
class Reconciliation:
    """One practice's local statements against AR's.

    ``rows``: one row per statement number (``ROW_COLUMNS``), sorted by ``key``;
    money is ``Decimal``, a side's values are ``None`` where it lacks the statement,
    differences are AR - local with a missing side counted as 0.
    ``by_month``: ``month`` and billed, paid and outstanding of each side (``Decimal``).

    A reconciliation read from the warehouse (``stored``) holds only the rows that
    differ, with the counts and totals of every row in ``counted`` and ``summed``.
    """

    practice_id: str
    rows: pd.DataFrame
    by_month: pd.DataFrame
    counted: dict[str, int] | None = None
    summed: dict[str, Decimal] | None = None

    @property
    def clean(self) -> bool:
        """Every statement matched."""
        return bool((self.rows["status"] == Status.MATCHED).all())

    def counts(self) -> dict[str, int]:
        """Statements per status (all five, zero-filled), ``total`` and ``zeroed_in_ar``."""
        if self.counted is not None:
            return dict(self.counted)
        found = self.rows["status"].value_counts()
        counts = {status.value: int(found.get(status.value, 0)) for status in Status}
        counts["total"] = len(self.rows)
        counts["zeroed_in_ar"] = int(self.rows["zeroed_in_ar"].sum())
        return counts

    def totals(self) -> dict[str, Decimal]:
        """Billed, paid and outstanding of each side over every statement."""
        if self.summed is not None:
            return dict(self.summed)
        return {
            name: sum(self.rows[column].dropna().tolist(), ZERO) for name, column in TOTALS.items()
        }

    def summary(self) -> dict[str, object]:
        """Counts, totals (as text) and ``clean``: JSON-safe, for run metadata."""
        return {
            "practice_id": self.practice_id,
            "clean": self.clean,
            "counts": self.counts(),
            "totals": {name: money_text(value) for name, value in self.totals().items()},
        }

    def mismatches(self, limit: int = 20) -> list[dict[str, object]]:
        """Up to ``limit`` statements that did not match, largest differences first,
        JSON-safe (money as text, dates ISO)."""
        return [_json_row(row) for row in self.differing().head(limit).to_dict("records")]

    def differing(self) -> pd.DataFrame:
        """Every statement that did not match, by size of amount then paid difference
        (largest first), then key."""
        rows = self.rows[self.rows["status"] != Status.MATCHED]
        by_size = rows.assign(
            _amount=np.abs(rows["amount_difference"].to_numpy(dtype=object)),
            _paid=np.abs(rows["paid_difference"].to_numpy(dtype=object)),
        ).sort_values(["_amount", "_paid", "key"], ascending=[False, False, True], kind="stable")
        return by_size.drop(columns=["_amount", "_paid"])


def money_text(value: Decimal) -> str:
    """Plain two-decimal text: ``-1234.50``."""
    return f"{value:.2f}"


def _json_row(row: dict[object, object]) -> dict[str, object]:
    return {str(name): _json_value(value) for name, value in row.items()}


def _json_value(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return money_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    return str(value)
