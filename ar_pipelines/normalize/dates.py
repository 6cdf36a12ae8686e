"""Transaction dates: ISO ``YYYY-MM-DD``, optionally followed by a time, which is dropped.

Sikka serves dates as ``2020-09-30T00:00:00``: that is 2020-09-30. A time other than
midnight (``2020-09-30T14:05:00``, with or without seconds, fraction or offset) is read
the same way, as the date it is written on: a transaction date is a day in the
practice's own calendar, and shifting it by a time zone would move entries between
statements. A plain ``2020-09-30`` is accepted too.

Calendar checks are done on the numbers (month 1-12, the month's days, leap years), so
that any year parses, however far from today: a year 0999 is "before 1900", not a crash.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum

import numpy as np
import pandas as pd

from ar_pipelines.normalize.text import IntArray, ObjectArray

ISO_DATE = (
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?$"
)
EARLIEST = 1900_01_01
DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


class Problem(IntEnum):
    """What is wrong with a date, in the order the quarantine checks it."""

    NONE = 0
    MISSING = 1
    UNPARSEABLE = 2
    BEFORE_1900 = 3
    IN_FUTURE = 4


def parse_dates(texts: ObjectArray, today: date) -> tuple[ObjectArray, IntArray]:
    """Each text (``str`` or ``None``) as ``"YYYY-MM-DD"`` (or ``None``), with its ``Problem``."""
    series = pd.Series(texts, dtype=object)
    parts = series.str.extract(ISO_DATE)
    matched = parts[0].notna().to_numpy()
    numbers = parts.iloc[:, :3].fillna("0").astype(np.int64).to_numpy()
    year, month, day = numbers[:, 0], numbers[:, 1], numbers[:, 2]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    last_day = DAYS_IN_MONTH[np.where(month_ok, month, 0)] + ((month == 2) & leap)
    valid = matched & month_ok & (day >= 1) & (day <= last_day)
    ordinal = year * 10_000 + month * 100 + day
    latest = today.year * 10_000 + today.month * 100 + today.day

    problem = np.full(len(texts), Problem.NONE, dtype=np.int64)
    problem[valid & (ordinal > latest)] = Problem.IN_FUTURE
    problem[valid & (ordinal < EARLIEST)] = Problem.BEFORE_1900
    problem[~valid] = Problem.UNPARSEABLE
    problem[series.isna().to_numpy()] = Problem.MISSING
    iso = np.full(len(texts), None, dtype=object)
    good = problem == Problem.NONE
    iso[good] = series[good].str.slice(0, 10).to_numpy(dtype=object)
    return iso, problem
