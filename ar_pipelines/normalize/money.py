"""Amounts as exact cents: parsed from text with regular expressions, never through float.

An amount is an optional sign, digits and an optional fraction (``"12"``, ``"-0.5"``,
``".75"``, ``"12.340"``). Zeros at the end of the fraction do not count as precision
(``"12.340"`` is 12.34, as AR reads it); any other third decimal is refused, not rounded.
Digits are ASCII only: full-width digits are text, not a number.
"""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum

import numpy as np
import pandas as pd

from ar_pipelines.normalize.text import BoolArray, IntArray, ObjectArray

MAX_WHOLE_DIGITS = 10  # |amount| < 10^10
NUMBER = r"^([+-]?)([0-9]*)(?:\.([0-9]*))?$"
PLAIN = r"-?[0-9]{1,10}\.[0-9]{2}"  # the common case, parsed without the general pattern


class Problem(IntEnum):
    """What is wrong with an amount, in the order the quarantine checks it."""

    NONE = 0
    MISSING = 1
    UNPARSEABLE = 2
    TOO_PRECISE = 3
    OUT_OF_RANGE = 4


def parse_cents(texts: ObjectArray) -> tuple[IntArray, IntArray]:
    """Each text (``str`` or ``None``) as cents, with its ``Problem`` (cents 0 unless NONE).

    Amounts written as Sikka writes them (``"-120.50"``) take a fast path: drop the point
    and read the digits as an integer. Anything else goes through the general pattern.
    """
    series = pd.Series(texts, dtype=object)
    cents = np.zeros(len(texts), dtype=np.int64)
    problem = np.full(len(texts), Problem.NONE, dtype=np.int64)
    missing = series.isna().to_numpy()
    problem[missing] = Problem.MISSING
    plain = series.str.fullmatch(PLAIN).fillna(False).to_numpy(dtype=bool)
    if plain.any():
        digits = series[plain].str.replace(".", "", regex=False)
        cents[plain] = pd.to_numeric(digits).to_numpy(dtype=np.int64)
    other = ~plain & ~missing
    if other.any():
        cents[other], problem[other] = _parse_general(series[other])
    return cents, problem


def _parse_general(series: pd.Series) -> tuple[IntArray, IntArray]:
    parts = series.str.extract(NUMBER)
    sign, whole, fraction = parts[0], parts[1], parts[2].fillna("")
    matched = whole.notna().to_numpy() & (
        (whole.fillna("").str.len() + fraction.str.len()).to_numpy() > 0
    )
    fraction = fraction.str.rstrip("0")
    whole = whole.fillna("").str.lstrip("0")
    too_precise = matched & (fraction.str.len().to_numpy() > 2)
    too_large = matched & (whole.str.len().to_numpy() > MAX_WHOLE_DIGITS)

    problem = np.full(len(series), Problem.NONE, dtype=np.int64)
    problem[too_large] = Problem.OUT_OF_RANGE
    problem[too_precise] = Problem.TOO_PRECISE
    problem[~matched] = Problem.UNPARSEABLE

    good = problem == Problem.NONE
    cents = np.zeros(len(series), dtype=np.int64)
    if good.any():
        units = pd.to_numeric(whole[good].replace("", "0")).to_numpy(dtype=np.int64)
        hundredths = pd.to_numeric(fraction[good].str.pad(2, side="right", fillchar="0"))
        value = units * 100 + hundredths.to_numpy(dtype=np.int64)
        cents[good] = np.where(sign[good].to_numpy() == "-", -value, value)
    return cents, problem


def decimals(cents: IntArray, present: BoolArray) -> ObjectArray:
    """Cents as ``Decimal`` with 2 places (``None`` where not present).

    One ``Decimal`` per distinct amount, shared by the rows that carry it: amounts repeat,
    so this costs a fraction of building one per row.
    """
    out = np.full(len(cents), None, dtype=object)
    if present.any():
        distinct, inverse = np.unique(cents[present], return_inverse=True)
        values = np.array([Decimal(int(c)).scaleb(-2) for c in distinct], dtype=object)
        out[present] = values[inverse]
    return out
