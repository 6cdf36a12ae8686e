"""Amounts as exact cents: parsed from text with regular expressions, never through float.

An amount is an optional sign, digits and an optional fraction (``"12"``, ``"-0.5"``,
``".75"``, ``"12.340"``). Sikka serves four decimals (``"24.0000"``, ``"-61.5000"``):
zeros past the cents, however many, do not count as precision (``"24.0000"`` is exactly
24.00, as AR reads it); any other digit past the cents (``"24.1250"``, ``"24.0001"``) is
refused (``amount_too_precise``), never rounded. Digits are ASCII only: full-width
digits are text, not a number.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import IntEnum

import numpy as np
import pandas as pd

from ar_pipelines.normalize.text import BoolArray, Coded, IntArray, ObjectArray

MAX_WHOLE_DIGITS = 10  # |amount| < 10^10
NUMBER = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?")
PLAIN = re.compile(r"-?[0-9]{1,10}\.[0-9]{2}")  # cents, read without NUMBER
SIKKA = re.compile(r"-?[0-9]{1,10}\.[0-9]{2}00")  # Sikka's four decimals, whole cents


class Problem(IntEnum):
    """What is wrong with an amount, in the order the quarantine checks it."""

    NONE = 0
    MISSING = 1
    UNPARSEABLE = 2
    TOO_PRECISE = 3
    OUT_OF_RANGE = 4


class Amounts:
    """Amount texts as cents, each text parsed once per run.

    ``parse`` takes a column's distinct values (``text.Coded``) and gives each one's
    cents (0 unless its ``Problem`` is NONE) and ``Problem``. Amount texts repeat from
    chunk to chunk (fees, copays, estimates), and looking one up costs a fraction of
    parsing it. At most ``limit`` texts are kept.
    """

    def __init__(self, limit: int = 1_000_000) -> None:
        self._known: dict[str | None, tuple[int, Problem]] = {}
        self._limit = limit

    def parse(self, texts: ObjectArray) -> tuple[IntArray, IntArray]:
        known = self._known
        parsed = list(map(known.get, texts))
        for at, found in enumerate(parsed):
            if found is None:
                text = texts[at]
                parsed[at] = found = _cents(text)
                if len(known) < self._limit:
                    known[text] = found
        return _arrays(parsed)  # type: ignore[arg-type]


def _arrays(parsed: list[tuple[int, Problem]]) -> tuple[IntArray, IntArray]:
    cents = np.fromiter((c for c, _ in parsed), dtype=np.int64, count=len(parsed))
    problem = np.fromiter((p for _, p in parsed), dtype=np.int64, count=len(parsed))
    return cents, problem


def _cents(text: str | None) -> tuple[int, Problem]:
    if text is None:
        return 0, Problem.MISSING
    if SIKKA.fullmatch(text):  # as Sikka serves amounts: "-120.5000"
        return int(text[:-2].replace(".", "")), Problem.NONE
    if PLAIN.fullmatch(text):  # "-120.50"
        return int(text.replace(".", "")), Problem.NONE
    number = NUMBER.fullmatch(text)
    if number is None or not (number[2] or number[3]):
        return 0, Problem.UNPARSEABLE
    sign, whole, fraction = number[1], number[2].lstrip("0"), (number[3] or "").rstrip("0")
    if len(fraction) > 2:
        return 0, Problem.TOO_PRECISE
    if len(whole) > MAX_WHOLE_DIGITS:
        return 0, Problem.OUT_OF_RANGE
    value = int(whole or "0") * 100 + int(fraction.ljust(2, "0"))
    return (-value if sign == "-" else value), Problem.NONE


class Decimals:
    """Cents as ``Decimal`` with 2 places, each distinct amount built once per run.

    Rows that carry the same amount share one ``Decimal``, within a chunk and across
    chunks: amounts repeat (fees, copays), and building a ``Decimal`` costs far more than
    finding one. At most ``limit`` amounts are kept; beyond that new ones are built per
    chunk, so junk input cannot grow the cache without bound.
    """

    def __init__(self, limit: int = 1_000_000) -> None:
        self._known: dict[int, Decimal] = {}
        self._limit = limit

    def __call__(self, cents: IntArray, present: BoolArray) -> Coded:
        """``cents`` as decimals, ``None`` where not ``present``: one per distinct amount."""
        codes = np.full(len(cents), -1, dtype=np.intp)
        inverse, distinct = pd.factorize(cents[present])
        codes[present] = inverse
        amounts = distinct.tolist()
        values = list(map(self._known.get, amounts))
        for at, value in enumerate(values):
            if value is None:
                values[at] = self._new(amounts[at])
        # fromiter, as np.array would ask every Decimal whether it is a sequence
        decimals = np.fromiter(values, dtype=object, count=len(values))
        return Coded(codes=codes, values=decimals)

    def _new(self, cents: int) -> Decimal:
        value = Decimal(cents).scaleb(-2)
        if len(self._known) < self._limit:
            self._known[cents] = value
        return value
