"""Join local and AR statements on their number and say, per statement, how they compare."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ar_pipelines.client.models import Statement
from ar_pipelines.reconcile.inputs import (
    ZERO,
    ObjectArray,
    ar_side,
    ar_statements_frame,
    customers_in_numbers,
    local_side,
)
from ar_pipelines.reconcile.result import ROW_COLUMNS, Reconciliation, Status

BoolArray = np.ndarray[tuple[int], np.dtype[np.bool_]]


def reconcile(
    practice_id: str, local: pd.DataFrame, ar: pd.DataFrame | Iterable[Statement]
) -> Reconciliation:
    """Compare one practice's local statements with AR's, to the cent.

    ``local`` is shaped like the dbt mart ``statements``; ``ar`` is what
    ``ARClient.statements.list()`` gives, or a frame with the same field names.
    Raises ``ReconcileInputError`` for input that is not statements.
    """
    ar_frame = ar if isinstance(ar, pd.DataFrame) else ar_statements_frame(ar)
    joined = pd.merge(
        local_side(local), ar_side(ar_frame), on="key", how="outer", indicator=True, sort=True
    )
    where = joined.pop("_merge").to_numpy(dtype=object)
    has_local: BoolArray = where != "right_only"
    has_ar: BoolArray = where != "left_only"
    rows = _rows(joined, has_local, has_ar)
    return Reconciliation(practice_id=practice_id, rows=rows, by_month=_by_month(rows))


def _rows(joined: pd.DataFrame, has_local: BoolArray, has_ar: BoolArray) -> pd.DataFrame:
    local_amount = _or_zero(joined["local_amount"], has_local)
    local_paid = _or_zero(joined["local_paid"], has_local)
    ar_amount = _or_zero(joined["ar_amount"], has_ar)
    ar_paid = _or_zero(joined["ar_paid"], has_ar)
    both = has_local & has_ar
    amounts_agree = np.asarray(local_amount == ar_amount, dtype=bool)
    paid_agrees = np.asarray(local_paid == ar_paid, dtype=bool)
    # An enrolled statement whose month stopped qualifying stays in AR at amount = paid = 0
    # (docs/contract.md#a-month-that-stops-qualifying); no local statement is the books'
    # way of saying the same.
    zeroed = (
        has_ar
        & ~has_local
        & np.asarray(ar_amount == ZERO, dtype=bool)
        & np.asarray(ar_paid == ZERO, dtype=bool)
    )
    status = np.select(
        [both & ~amounts_agree, both & ~paid_agrees, both | zeroed, has_local],
        [Status.AMOUNT_MISMATCH, Status.PAID_MISMATCH, Status.MATCHED, Status.MISSING_IN_AR],
        default=Status.UNEXPECTED_IN_AR,
    ).astype(object)
    columns = {
        "key": joined["key"].to_numpy(dtype=object),
        "customer_external_id": _customers(joined, has_local),
        "period_start": _first_known(joined["period_start"], joined["ar_period_start"], has_local),
        "status": status,
        "local_amount": _present(joined["local_amount"], has_local),
        "ar_amount": _present(joined["ar_amount"], has_ar),
        "amount_difference": ar_amount - local_amount,
        "local_paid": _present(joined["local_paid"], has_local),
        "ar_paid": _present(joined["ar_paid"], has_ar),
        "paid_difference": ar_paid - local_paid,
        "local_outstanding": _present(joined["local_outstanding"], has_local),
        "ar_outstanding": _present(joined["ar_outstanding"], has_ar),
        "ar_statement_id": _present(joined["ar_statement_id"], has_ar),
        "ar_status": _present(joined["ar_status"], has_ar),
        "enrollment_status": _present(joined["enrollment_status"], has_ar),
    }
    # Object columns throughout, so that a missing value is None for text as for money
    # (pandas would otherwise infer its string dtype and make it NaN).
    rows = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in columns.items()})
    rows["zeroed_in_ar"] = zeroed
    return rows[list(ROW_COLUMNS)]


def _by_month(rows: pd.DataFrame) -> pd.DataFrame:
    """Billed, paid and outstanding per statement month, each side's sums to the cent."""
    has_local = rows["local_amount"].notna().to_numpy()
    has_ar = rows["ar_amount"].notna().to_numpy()
    months = rows["period_start"].to_numpy(dtype=object)
    codes, distinct = pd.factorize(months)
    firsts = np.array([d.replace(day=1) for d in distinct], dtype=object)
    frame = pd.DataFrame(
        {
            "month": firsts[codes] if len(codes) else np.array([], dtype=object),
            "local_billed": _or_zero(rows["local_amount"], has_local),
            "local_paid": _or_zero(rows["local_paid"], has_local),
            "local_outstanding": _or_zero(rows["local_outstanding"], has_local),
            "ar_billed": _or_zero(rows["ar_amount"], has_ar),
            "ar_paid": _or_zero(rows["ar_paid"], has_ar),
            "ar_outstanding": _or_zero(rows["ar_outstanding"], has_ar),
        }
    )
    if frame.empty:
        return frame.astype(object)
    return frame.groupby("month", sort=True).sum().reset_index()


def _customers(joined: pd.DataFrame, has_local: BoolArray) -> ObjectArray:
    customers = _present(joined["customer_external_id"], has_local)
    ar_only = ~has_local
    if ar_only.any():
        customers[ar_only] = customers_in_numbers(joined["key"].to_numpy(dtype=object)[ar_only])
    return customers


def _or_zero(column: pd.Series[Any], present: BoolArray) -> ObjectArray:
    values = column.to_numpy(dtype=object).copy()
    values[~present] = ZERO
    return values


def _present(column: pd.Series[Any], present: BoolArray) -> ObjectArray:
    """The side's value where it has the statement, ``None`` (never NaN) elsewhere."""
    values = column.to_numpy(dtype=object).copy()
    values[~present | pd.isna(values)] = None
    return values


def _first_known(local: pd.Series[Any], ar: pd.Series[Any], has_local: BoolArray) -> ObjectArray:
    values = np.where(has_local, local.to_numpy(dtype=object), ar.to_numpy(dtype=object))
    values[pd.isna(values)] = None
    return values.astype(object)
