"""The declared shapes of the normalizer's outputs, checked before they leave it.

Text columns are ``object`` holding ``str`` or ``None``; money columns hold ``Decimal``
with 2 places (or ``None``), within AR's bounds; ledger signs follow the AR API's
contract (credit types zero or less, the others zero or more) and lengths the bounds
AR stores.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from decimal import Decimal
from functools import partial

import numpy as np
import numpy.typing as npt
import pandas as pd
import pandera.pandas as pa

from ar_pipelines.normalize.checks import MAX_EXTERNAL_ID, MAX_LINK, MAX_PROCEDURE_CODE
from ar_pipelines.normalize.customers import MAX_CUSTOMER_ID, MAX_NAME
from ar_pipelines.normalize.quarantine import QUARANTINE_COLUMNS
from ar_pipelines.normalize.reasons import Reason
from ar_pipelines.normalize.text import Coded, ObjectArray, by_identity
from ar_pipelines.normalize.transactions import (
    CREDIT_TYPES,
    LEDGER_TYPES,
    MAX_DESCRIPTION,
    ledger_frame,
)
from ar_pipelines.normalize.validation import validate

CENT = Decimal("0.01")
ZERO = Decimal(0)
HUNDRED = Decimal(100)
MONEY_LIMIT = 10**10
NON_POSITIVE = CREDIT_TYPES
NON_NEGATIVE = tuple(kind for kind in LEDGER_TYPES if kind not in CREDIT_TYPES)
E164 = r"^\+[1-9][0-9]{1,14}$"
ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"


def _is_money(value: object) -> bool:
    return (
        type(value) is Decimal
        and value.is_finite()
        and value == value.quantize(CENT)
        and abs(value) < MONEY_LIMIT
    )


def _distinct(series: pd.Series) -> tuple[npt.NDArray[np.intp], ObjectArray]:
    """The column as codes into its distinct objects, told apart by identity.

    Rows that share one object (as the normalizer's outputs do: one ``Decimal`` per
    distinct amount, one ``str`` per distinct text) share a verdict, so each object is
    judged once; equal values held in distinct objects are simply judged apart. Every
    object is alive in ``series`` while its id is read, so ids cannot collide.
    """
    values = series.to_numpy(dtype=object)
    codes, first = by_identity(values)
    return codes.astype(np.intp), values[first]


def _money(series: pd.Series, *, required: bool) -> pd.Series:
    """Each value a ``Decimal`` of at most 2 decimals below 10^10 (or ``None`` unless
    ``required``); judged once per distinct object.

    Decimal arithmetic over the distinct values (numpy runs it in C): a value times 100
    must be a whole number of cents. Anything odd is judged value by value instead.
    """
    codes, distinct = _distinct(series)
    present = np.array([value is not None for value in distinct], dtype=bool)
    kept = distinct[present]
    verdict = np.full(len(distinct), not required, dtype=bool)
    try:
        if pd.api.types.infer_dtype(kept) not in ("decimal", "empty"):
            raise TypeError("not all decimals")
        scaled = kept * HUNDRED
        cents = scaled.astype(np.int64)
        verdict[present] = (scaled == cents) & (np.abs(cents) < MONEY_LIMIT * 100)
    except (TypeError, ValueError, OverflowError, ArithmeticError):
        verdict[present] = [_is_money(value) for value in kept]
    return pd.Series(verdict[codes], index=series.index)


def _signs_follow_types(frame: pd.DataFrame) -> pd.Series:
    codes, amount = _distinct(frame["amount"])
    try:
        negative, positive = amount < ZERO, amount > ZERO
    except TypeError:  # not all money: the amount's own check reports which
        negative = np.array([_is_money(v) and v < ZERO for v in amount], dtype=bool)
        positive = np.array([_is_money(v) and v > ZERO for v in amount], dtype=bool)
    kind = frame["transaction_type"]
    wrong = (kind.isin(NON_NEGATIVE).to_numpy(dtype=bool) & negative.astype(bool)[codes]) | (
        kind.isin(NON_POSITIVE).to_numpy(dtype=bool) & positive.astype(bool)[codes]
    )
    return pd.Series(~wrong, index=frame.index)


def _iso_dates(series: pd.Series) -> pd.Series:
    """Each value a ``YYYY-MM-DD`` text; judged once per distinct value (a missing one,
    code -1, fails)."""
    codes, distinct = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
    iso = re.compile(ISO_DATE)
    judged = [type(v) is str and iso.fullmatch(v) is not None for v in distinct]
    return pd.Series(np.append(judged, False)[codes], index=series.index)


def _texts(series: pd.Series, *, nullable: bool, max_length: int | None) -> pd.Series:
    """Each value a ``str`` of at most ``max_length`` characters, not empty unless the
    column is nullable (then ``None`` too).

    Ids are mostly distinct per row, so the column is judged whole: one C pass confirms
    every value is text, then only lengths are read per value.
    """
    values = series.to_numpy(dtype=object)
    missing = pd.isna(values) if nullable else np.zeros(len(values), dtype=bool)
    kept = values[~missing] if nullable else values
    shortest, longest = (0 if nullable else 1), (max_length or sys.maxsize)
    if pd.api.types.infer_dtype(kept, skipna=False) in ("string", "empty"):
        lengths = np.fromiter(map(len, kept), dtype=np.int64, count=len(kept))
        fits = (lengths >= shortest) & (lengths <= longest)
    else:  # not all text: judged value by value, so the report names each bad one
        fits = np.array([type(v) is str and shortest <= len(v) <= longest for v in kept], bool)
    judged = missing.copy()
    judged[~missing] = fits
    return pd.Series(judged, index=series.index)


def _text(*, nullable: bool, max_length: int | None = None, **kwargs: object) -> pa.Column:
    check = partial(_texts, nullable=nullable, max_length=max_length)
    name = "text" if max_length is None else f"text_of_at_most_{max_length}"
    if not nullable:
        name = f"required_{name}"
    # The check refuses a missing value itself where one is not allowed, so pandera's
    # own null scan (a second pass over the column) is left out.
    return pa.Column(
        object,
        checks=pa.Check(check, name=name, ignore_na=False),
        nullable=True,
        **kwargs,  # type: ignore[arg-type]
    )


def _money_column(*, nullable: bool) -> pa.Column:
    # The check itself tells None from money: pandera's own null handling would test
    # every Decimal for NaN, which costs more than the check.
    return pa.Column(
        object,
        checks=pa.Check(partial(_money, required=not nullable), name="is_money", ignore_na=False),
        nullable=True,
    )


def _has_contact(frame: pd.DataFrame) -> pd.Series:
    return frame["email"].notna() | frame["phone"].notna()


customers = pa.DataFrameSchema(
    {
        "external_id": _text(nullable=False, max_length=MAX_CUSTOMER_ID, unique=True),
        "first_name": _text(nullable=True, max_length=MAX_NAME),
        "last_name": _text(nullable=True, max_length=MAX_NAME),
        "email": _text(nullable=True, max_length=320),
        "phone": pa.Column(object, pa.Check.str_matches(E164), nullable=True),
    },
    checks=pa.Check(_has_contact, name="email_or_phone", ignore_na=False),
    strict=True,
    ordered=True,
    name="customers",
)

SIGN_CHECK = "sign_follows_type"

ledger_entries = pa.DataFrameSchema(
    {
        "external_id": _text(nullable=False, max_length=MAX_EXTERNAL_ID, unique=True),
        "customer_external_id": _text(nullable=False, max_length=MAX_CUSTOMER_ID),
        "transaction_date": pa.Column(
            object, pa.Check(_iso_dates, name="iso_date", ignore_na=False), nullable=True
        ),
        "transaction_type": pa.Column(
            object, pa.Check.isin(LEDGER_TYPES, ignore_na=False), nullable=True
        ),
        "amount": _money_column(nullable=False),
        "amount_paid": _money_column(nullable=True),
        "estimated_insurance": _money_column(nullable=True),
        "payment_link_id": _text(nullable=True, max_length=MAX_LINK),
        "procedure_code": _text(nullable=True, max_length=MAX_PROCEDURE_CODE),
        "description": _text(nullable=True, max_length=MAX_DESCRIPTION),
    },
    checks=pa.Check(_signs_follow_types, name=SIGN_CHECK, ignore_na=False),
    strict=True,
    ordered=True,
    name="ledger_entries",
)

quarantine = pa.DataFrameSchema(
    {
        "source": pa.Column(object, pa.Check.isin(("transactions", "patients", "guarantors"))),
        "practice_id": _text(nullable=True),
        "source_id": _text(nullable=True),
        "row_number": pa.Column("int64", pa.Check.ge(1)),
        "loaded_date": _text(nullable=True),
        "reason": pa.Column(object, pa.Check.isin([reason.value for reason in Reason])),
        "detail": _text(nullable=False),
        "raw": _text(nullable=False),
    },
    strict=True,
    ordered=True,
    unique=["source", "row_number"],
    name="quarantine",
)
assert tuple(quarantine.columns) == QUARANTINE_COLUMNS

# The frame-wide ledger check judges each row on its own, from these columns only.
LEDGER_ROW_CHECKS = {SIGN_CHECK: ("transaction_type", "amount")}


def valid_ledger_entries(columns: Mapping[str, ObjectArray | Coded]) -> pd.DataFrame:
    """The ledger entries frame of ``columns``, validated against ``ledger_entries``;
    ``Coded`` columns are judged once per distinct value (``validation.validate``)."""
    frame = ledger_frame(columns)
    distinct = {name: c for name, c in columns.items() if isinstance(c, Coded)}
    return validate(ledger_entries, frame, distinct=distinct, row_checks=LEDGER_ROW_CHECKS)
