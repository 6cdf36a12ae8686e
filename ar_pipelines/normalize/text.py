"""Source text, cleaned once per distinct value.

A column of a million rows holds far fewer distinct values (a few practices, types and
dates; amounts and patients repeat), so each column is factorized and only its distinct
values are trimmed, normalized and parsed; results are mapped back to the rows with one
``take``. Surrounding whitespace (NBSP included) is trimmed everywhere and text is put in
Unicode NFC; what remains inside a value is the value.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from unicodedata import normalize as _nfc

import numpy as np
import numpy.typing as npt
import pandas as pd

# Characters no one can see in an id or a number: C0/C1 controls, soft hyphen, zero-width
# and direction marks, word joiners, variation selectors, BOM, tags, lone surrogates, and
# spaces other than the ASCII one.
INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\xa0\xad\u034f\u061c\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180f"
    "\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\ufff0-\ufffb\ud800-\udfff\U000e0000-\U000e0fff]"
)
# What AR refuses in any text (NUL, lone surrogates) and other controls that have no place
# in a name or a description; tabs and line breaks are kept.
UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

TRUE_FLAGS = frozenset({"1", "true", "yes"})

ObjectArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Codes = npt.NDArray[np.intp]


def has_invisible(text: str) -> bool:
    """Whether ``text`` holds a character of ``INVISIBLE``. In ASCII those are exactly the
    characters that are not printable (C0 controls and DEL), which Python tells without
    the pattern: most source text is ASCII."""
    if text.isascii():
        return not text.isprintable()
    return INVISIBLE.search(text) is not None


def given(values: npt.NDArray[Any]) -> BoolArray:
    """Where ``values`` (an object array) holds something other than ``None``."""
    missing: BoolArray = pd.isna(values)
    return ~missing


def _as_text(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value if isinstance(value, str) else str(value)


def addresses(values: ObjectArray) -> npt.NDArray[np.intp]:
    """Where each object of ``values`` lives (CPython's ``id``), read from the array's own
    pointers: asking each object for its id would touch every one of them."""
    values = np.ascontiguousarray(values)
    pointers = (ctypes.c_ssize_t * len(values)).from_address(values.ctypes.data)
    found: npt.NDArray[np.intp] = np.frombuffer(memoryview(pointers), dtype=np.intp)
    return found.copy()  # the copy outlives ``values``


def first_appearances(codes: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Where each code first appears, for codes numbered in order of first appearance (as
    ``pd.factorize`` numbers them): a new code raises the running maximum of the codes."""
    return np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)


def by_identity(values: ObjectArray) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Codes numbering the objects of ``values``, told apart by identity, in order of first
    appearance, and the rows where each object first appears."""
    codes, _ = pd.factorize(addresses(values))
    return codes, first_appearances(codes)


def factorize(values: ObjectArray) -> tuple[npt.NDArray[np.intp], ObjectArray]:
    """``pd.factorize(values, use_na_sentinel=True)``, for less when rows share objects.

    Source frames give equal values one shared object, so the rows are first told apart
    by address (integers hash and compare far faster than objects), and only the
    distinct objects by value. Objects are numbered in order of first appearance, and so
    then are their values: the codes and uniques are exactly pandas'.
    """
    by_object, first = by_identity(values)
    codes, uniques = pd.factorize(values[first], use_na_sentinel=True)
    return codes[by_object].astype(np.intp, copy=False), np.asarray(uniques, dtype=object)


@dataclass(frozen=True)
class Coded:
    """A column as codes into its values: row ``i`` holds ``values[codes[i]]``, or nothing
    where ``codes[i]`` is ``-1``.

    Kept in this form, a column is cleaned, parsed, looked up and judged once per value
    rather than once per row, and spread over the rows with one ``take``. ``values`` may
    hold values no row uses (they are judged all the same, which can only make a check
    stricter) and, in a column joined from two (``transactions``), a value twice.
    """

    codes: Codes
    values: ObjectArray

    @classmethod
    def as_given(cls, column: pd.Series) -> Coded:
        """The column's distinct values as given, as text."""
        codes, uniques = factorize(column.to_numpy(dtype=object))
        raw = np.asarray(uniques, dtype=object)
        if pd.api.types.infer_dtype(raw, skipna=True) not in ("string", "empty"):
            raw = np.array([_as_text(v) for v in raw], dtype=object)
        return cls(codes=codes.astype(np.intp, copy=False), values=raw)

    @classmethod
    def of(cls, column: pd.Series) -> Coded:
        """The column's distinct values as cleaned text (``cleaned``)."""
        return cls.as_given(column).cleaned()

    def cleaned(self) -> Coded:
        """The same column, its text values (as ``as_given`` makes them) trimmed and in NFC,
        ``None`` where nothing is left."""
        # One pass per distinct value: NFC (which leaves ASCII as it is), then Python's
        # strip(), which knows every Unicode space, NBSP included. Source text is mostly
        # ASCII, which one look at all the values together tells.
        values = self.values.tolist()
        if "".join(values).isascii():
            cleaned = [v.strip() or None for v in values]
        else:
            cleaned = [(v if v.isascii() else _nfc("NFC", v)).strip() or None for v in values]
        return self.with_values(np.fromiter(cleaned, dtype=object, count=len(cleaned)))

    def with_values(self, values: ObjectArray) -> Coded:
        """The same rows over other ``values``, one for each of these (parsed, say)."""
        return Coded(codes=self.codes, values=values)

    def take(self, per_value: npt.ArrayLike, missing: Any) -> npt.NDArray[Any]:
        """``per_value`` (one item per value) spread over the rows, ``missing`` where a
        row has no value."""
        values = np.asarray(per_value)
        padded = np.append(values, np.array([missing], dtype=values.dtype))
        taken: npt.NDArray[Any] = padded[self.codes]  # code -1 picks the appended item
        return taken

    def rows(self) -> ObjectArray:
        """The column, one item per row (``None`` where a row has no value)."""
        return self.take(self.values, None)

    def candidates(self) -> ObjectArray:
        """Every value a row may hold: ``values``, and ``None`` when a row is missing."""
        if len(self.codes) and int(self.codes.min()) < 0:
            return np.append(self.values, np.array([None], dtype=object))
        return self.values

    def at(self, rows: BoolArray | npt.NDArray[np.intp]) -> Coded:
        """The same column over the selected ``rows``."""
        return Coded(codes=self.codes[rows], values=self.values)

    def compact(self) -> Coded:
        """Only the values some row uses, numbered in order of first use: for a column
        drawn from a large table (every customer) of which a chunk uses a few."""
        used = self.codes >= 0
        codes, positions = pd.factorize(self.codes[used])
        compacted = np.full(len(self.codes), -1, dtype=np.intp)
        compacted[used] = codes
        return Coded(codes=compacted, values=self.values[positions])

    def present(self) -> BoolArray:
        """Rows that hold a value other than ``None``."""
        return self.take(given(self.values), False).astype(bool, copy=False)

    def invisible(self) -> BoolArray:
        """Rows whose text holds a character of ``INVISIBLE``."""
        values = self.values.tolist()
        together = "".join(filter(None, values))
        if not together.isascii():
            found = [v is not None and has_invisible(v) for v in values]
        elif together.isprintable():  # the common case, told in one look
            return np.zeros(len(self.codes), dtype=bool)
        else:  # in ASCII the invisible characters are the unprintable ones
            found = [v is not None and not v.isprintable() for v in values]
        return self.take(np.array(found, dtype=bool), False).astype(bool, copy=False)

    def lengths(self) -> IntArray:
        """Characters in each row's text (0 when missing)."""
        per_value = np.array([0 if v is None else len(v) for v in self.values], dtype=np.int64)
        return self.take(per_value, 0).astype(np.int64, copy=False)

    def map_text(
        self,
        lookup: dict[str, Any],
        missing: Any,
        dtype: Any = object,
        key: Callable[[str], str] | None = None,
    ) -> npt.NDArray[Any]:
        """Each row's text looked up in ``lookup`` (after ``key``), else ``missing``."""
        per_value = np.array(
            [
                missing if v is None else lookup.get(key(v) if key else v, missing)
                for v in self.values
            ],
            dtype=dtype,
        )
        return self.take(per_value, missing)

    def pairs(
        self, other: Coded, lookup: Callable[[ObjectArray, ObjectArray], npt.NDArray[Any]]
    ) -> npt.NDArray[Any]:
        """``lookup`` of (this column, ``other``) per row, called once per distinct pair."""
        key = (self.codes.astype(np.int64, copy=False) + 1) * (len(other.values) + 1) + (
            other.codes + 1
        )
        inverse, _ = pd.factorize(key)
        first = first_appearances(inverse)
        per_pair = np.asarray(lookup(self.at(first).rows(), other.at(first).rows()))
        found: npt.NDArray[Any] = per_pair[inverse]
        return found


def pick(
    values: npt.NDArray[Any], positions: npt.NDArray[np.int64], missing: Any
) -> npt.NDArray[Any]:
    """``values[positions]``, with ``missing`` where a position is negative."""
    out = np.full(len(positions), missing, dtype=values.dtype if len(values) else object)
    known = positions >= 0
    out[known] = values[positions[known]]
    return out


def free_text(values: ObjectArray, limit: int) -> ObjectArray:
    """Names and descriptions as AR stores them: storable characters, at most ``limit``."""
    series = pd.Series(values, dtype=object)
    cleaned = series.str.replace(UNSTORABLE, "", regex=True).str.slice(0, limit).str.strip()
    return np.array([v or None for v in cleaned.where(cleaned.notna(), None)], dtype=object)


def truthy(values: ObjectArray) -> BoolArray:
    """Flags as Sikka serves them: "1", "true", "yes" (any case) are true, all else false."""
    return np.array(
        [isinstance(v, str) and v.strip().lower() in TRUE_FLAGS for v in values],
        dtype=bool,
    )
