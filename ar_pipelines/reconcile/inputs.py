"""Both sides of a reconciliation, brought to one shape at the door.

Money arrives as ``Decimal``, as text, or as float64 from a database driver; every
value leaves as a ``Decimal`` quantized to the cent, half up. A float goes through its
shortest ``repr`` (the decimal the driver meant), never through ``Decimal(float)``,
the binary value's full expansion: 0.1 + 0.2 is 0.30. Dates arrive as ``date``,
``datetime``, pandas ``Timestamp`` or ISO text and leave as ``date``. Anything that
is not a number or a date (NaN, None, "n/a") is refused with the statement it sits on.

Each distinct value is converted once (``pd.factorize``) and spread back to its rows:
statements share few months and many amounts, and a Python call per row would be the
slow part of a reconciliation of a quarter of a million statements.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ar_pipelines.client.models import Statement

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
KEY = "external_invoice_id"
STATEMENT_NUMBER = r"^STMT-[0-9]{4}-[0-9]{2}-(.+)$"
LOCAL_COLUMNS = (KEY, "customer_external_id", "period_start", "amount", "paid_amount")
AR_COLUMNS = (KEY, "period_start", "amount", "paid_amount")
AR_OPTIONAL_TEXT = {
    "id": "ar_statement_id",
    "status": "ar_status",
    "enrollment_status": "enrollment_status",
}

ObjectArray = npt.NDArray[np.object_]


class ReconcileInputError(ValueError):
    """An input frame that cannot be reconciled: a missing column, a duplicated
    statement, or a value that is not money or not a date."""


def ar_statements_frame(statements: Iterable[Statement]) -> pd.DataFrame:
    """AR's statements as a frame with one column per ``Statement`` field."""
    names = list(Statement.model_fields)
    fields = attrgetter(*names)  # one C-level call per statement, not one per field
    return pd.DataFrame.from_records(list(map(fields, statements)), columns=names)


def local_side(frame: pd.DataFrame) -> pd.DataFrame:
    """The local statements (the dbt mart's shape) as ``key, customer_external_id,
    period_start, local_amount, local_paid, local_outstanding``."""
    _require(frame, LOCAL_COLUMNS, "local")
    keys = _keys(frame, "local")
    amount = to_money(frame["amount"], keys, "local amount")
    paid = to_money(frame["paid_amount"], keys, "local paid_amount")
    return pd.DataFrame(
        {
            "key": keys,
            "customer_external_id": _text(frame["customer_external_id"]),
            "period_start": to_dates(frame["period_start"], keys, "local period_start"),
            "local_amount": amount,
            "local_paid": paid,
            "local_outstanding": _outstanding(frame, keys, amount, paid, "local"),
        }
    )


def ar_side(frame: pd.DataFrame) -> pd.DataFrame:
    """AR's statements as ``key, ar_period_start, ar_amount,
    ar_paid, ar_outstanding, ar_statement_id, ar_status, enrollment_status``."""
    _require(frame, AR_COLUMNS, "AR")
    keys = _keys(frame, "AR")
    amount = to_money(frame["amount"], keys, "AR amount")
    paid = to_money(frame["paid_amount"], keys, "AR paid_amount")
    side = pd.DataFrame(
        {
            "key": keys,
            "ar_period_start": to_dates(frame["period_start"], keys, "AR period_start"),
            "ar_amount": amount,
            "ar_paid": paid,
            "ar_outstanding": _outstanding(frame, keys, amount, paid, "AR"),
        }
    )
    for column, name in AR_OPTIONAL_TEXT.items():
        values = frame[column] if column in frame else pd.Series([None] * len(frame))
        side[name] = _text(values)
    return side


def customers_in_numbers(keys: ObjectArray) -> ObjectArray:
    """The customer external id in each statement number (``STMT-YYYY-MM-{id}``), or
    ``None``: AR knows its customers by UUID, the number carries the external id."""
    return _text(pd.Series(keys, dtype=object).str.extract(STATEMENT_NUMBER)[0])


def to_money(values: pd.Series[Any], keys: ObjectArray, what: str) -> ObjectArray:
    """Each value as a ``Decimal`` to the cent; refuses missing and non-numeric values."""
    return _convert(values, keys, what, _money)


def to_dates(values: pd.Series[Any], keys: ObjectArray, what: str) -> ObjectArray:
    """Each value as a ``date``; refuses missing and unparseable values."""
    return _convert(values, keys, what, _date)


def _convert(
    values: pd.Series[Any], keys: ObjectArray, what: str, convert: Callable[[Any], object]
) -> ObjectArray:
    codes, distinct = pd.factorize(values.to_numpy(dtype=object))
    missing = np.flatnonzero(codes < 0)
    if missing.size:
        raise ReconcileInputError(
            f"{what} of {keys[missing[0]]} is missing or NaN ({missing.size} statement(s) in all)"
        )
    converted = np.empty(len(distinct), dtype=object)
    for at, value in enumerate(distinct):
        try:
            converted[at] = convert(value)
        except (ValueError, TypeError, ArithmeticError) as err:
            first = keys[np.argmax(codes == at)]
            raise ReconcileInputError(f"{what} of {first} is not valid: {value!r}") from err
    out: ObjectArray = converted[codes]
    return out


def _money(value: object) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool | np.bool_):
        raise TypeError("a boolean is not money")
    elif isinstance(value, float | np.floating):
        number = Decimal(repr(float(value)))
    elif isinstance(value, int | np.integer):
        number = Decimal(int(value))
    elif isinstance(value, str):
        number = Decimal(value.strip())
    else:
        raise TypeError(f"{type(value).__name__} is not money")
    if not number.is_finite():
        raise InvalidOperation("money must be finite")
    cents = number.quantize(CENT, rounding=ROUND_HALF_UP)
    return ZERO if cents == 0 else cents  # no "-0.00" in reports


def _date(value: object) -> date:
    if isinstance(value, datetime):  # pandas Timestamp included
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    if isinstance(value, str):
        return datetime.fromisoformat(value.strip()).date()
    raise TypeError(f"{type(value).__name__} is not a date")


def _require(frame: pd.DataFrame, columns: Iterable[str], side: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReconcileInputError(f"the {side} statements lack column(s): {', '.join(missing)}")


def _keys(frame: pd.DataFrame, side: str) -> ObjectArray:
    keys = frame[KEY]
    if keys.isna().any():
        raise ReconcileInputError(f"{int(keys.isna().sum())} {side} statement(s) have no {KEY}")
    text: ObjectArray = keys.astype(str).to_numpy(dtype=object)
    repeated = pd.Series(text).duplicated()
    if repeated.any():
        first = text[repeated.to_numpy()][0]
        raise ReconcileInputError(
            f"{side} statements repeat {KEY} {first} ({int(repeated.sum())} repeat(s) in all)"
        )
    return text


def _outstanding(
    frame: pd.DataFrame, keys: ObjectArray, amount: ObjectArray, paid: ObjectArray, side: str
) -> ObjectArray:
    """As the side states it; amount - paid where it does not say."""
    if "outstanding" in frame:
        return to_money(frame["outstanding"], keys, f"{side} outstanding")
    derived: ObjectArray = amount - paid
    return derived


def _text(values: pd.Series[Any]) -> ObjectArray:
    """Text as ``str``, missing as ``None`` (never NaN)."""
    array = values.to_numpy(dtype=object)
    out: ObjectArray = np.array([str(v) for v in array], dtype=object)
    out[pd.isna(array)] = None
    return out
