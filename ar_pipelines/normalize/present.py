"""The ledger ``external_id`` of every transaction a source holds now.

A run compares them with what it pushed before: an entry no source row names any more
disappeared and is voided. Ids are made exactly as the normalizer makes them (cleaned
text, ``"{practice_id}-{transaction_sr_no}"``), so a row that is still there is never
taken for gone.

The same scan tells which ids the source holds in more than one row: those rows are
duplicates of each other, and one of them is the record of the number.

- When every row of such an id has a row key (a landed database with ``key_column``),
  the rows are told apart by it: the record is the row whose key comes first
  (``row_key_order``), whenever and in whatever order the rows are read, and however
  often they are edited (``SourceKeys.held``).
- Without row keys the rows cannot be told apart, and the first one loaded is the record.
  An incremental run reads the rows loaded since its cursor (less a lookback); when it
  reads fewer rows of such an id than the source holds, the others were loaded before
  them, so every row of it read now repeats a row read in an earlier run
  (``earlier_external_ids``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ar_pipelines.normalize.customers import external_ids
from ar_pipelines.normalize.text import Coded, ObjectArray, given

KEY_COLUMNS = ("practice_id", "transaction_sr_no")
ROW_KEY = "row_key"  # the loader's row key, as readers name it in their frames


@dataclass(frozen=True)
class SourceKeys:
    """Every id the source holds (``present``), those it holds in more than one row with
    how many (``repeated``), and how many rows it holds, with an id or without.

    ``held``: of the repeated ids, those whose every row has a row key, with the keys in
    ``row_key_order``: the first is the record's, the others are its duplicates'."""

    present: set[str]
    rows: int
    repeated: dict[str, int] = field(default_factory=dict)
    held: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def records(self) -> dict[str, str]:
        """The row key of the record of each id of ``held``."""
        return {external_id: keys[0] for external_id, keys in self.held.items()}

    @property
    def unkeyed_repeats(self) -> dict[str, int]:
        """The repeated ids whose rows cannot all be told apart by a row key."""
        return {i: n for i, n in self.repeated.items() if i not in self.held}


def row_key_order(key: str) -> tuple[int, int, str]:
    """How row keys sort: whole numbers by value (as an autoincrement key counts rows in
    the order they were loaded), before any other text, which sorts by code point."""
    if key.isascii() and key.isdigit():
        return (0, int(key), key)
    return (1, 0, key)


def row_key(value: object) -> str | None:
    """A row key as a frame gives it, as the text it is compared by (trimmed; ``None``
    when there is none)."""
    if value is None:
        return None
    return str(value).strip() or None


def _raw_row_keys(frame: pd.DataFrame) -> ObjectArray:
    if ROW_KEY not in frame.columns:
        return np.full(len(frame), None, dtype=object)
    keys: ObjectArray = frame[ROW_KEY].to_numpy(dtype=object)
    return keys


def key_ids(frame: pd.DataFrame) -> ObjectArray:
    """The ``external_id`` of each row of a frame with ``practice_id`` and
    ``transaction_sr_no`` (``None`` where either is missing)."""
    texts = [Coded.of(frame[name].reset_index(drop=True)).rows() for name in KEY_COLUMNS]
    return external_ids(*texts)


def source_keys(keys: Iterable[pd.DataFrame]) -> SourceKeys:
    """``keys``: frames of ``practice_id``, ``transaction_sr_no`` and (when the source
    has one) ``row_key``, as ``Source.transaction_keys`` gives them. Rows missing either
    part of the id have no id."""
    rows = 0
    parts, key_parts = [], []
    for frame in keys:
        rows += len(frame)
        ids = key_ids(frame)
        with_id = given(ids)
        parts.append(ids[with_id])
        key_parts.append(_raw_row_keys(frame)[with_id])  # read only for repeated ids
    ids = np.concatenate(parts) if parts else np.zeros(0, dtype=object)
    row_keys = np.concatenate(key_parts) if key_parts else np.zeros(0, dtype=object)
    return keys_of_rows(ids, row_keys, rows)


def keys_of_rows(ids: ObjectArray, row_keys: ObjectArray, rows: int) -> SourceKeys:
    """``SourceKeys`` of source rows given by their ``external_id`` (each given) and row
    key (``None`` where a row has none); ``rows`` counts the rows without an id too."""
    present: set[str] = set(ids.tolist())
    if len(present) == len(ids):  # the usual case: no id twice, told without counting
        return SourceKeys(present, rows)
    every = pd.Series(ids, dtype=object)
    twice = every.duplicated(keep=False).to_numpy()
    counts = every[twice].value_counts()
    repeated = {str(i): int(n) for i, n in counts.items()}
    return SourceKeys(present, rows, repeated, _held(ids[twice], row_keys[twice]))


def _held(ids: ObjectArray, keys: ObjectArray) -> dict[str, tuple[str, ...]]:
    """The row keys of each id, in ``row_key_order``, for ids whose rows each have a key
    of their own (a key missing, or given twice, tells no row apart)."""
    found: dict[str, list[str | None]] = {}
    for external_id, key in zip(ids.tolist(), keys.tolist(), strict=True):
        found.setdefault(external_id, []).append(row_key(key))
    held: dict[str, tuple[str, ...]] = {}
    for external_id, given_keys in found.items():
        distinct = {key for key in given_keys if key is not None}
        if len(distinct) == len(given_keys):
            held[external_id] = tuple(sorted(distinct, key=row_key_order))
    return held


def earlier_external_ids(
    repeated: Mapping[str, int], increment: Iterable[pd.DataFrame]
) -> set[str]:
    """The ids of ``repeated`` (ids the source holds in that many rows) of which the
    increment (frames with ``practice_id`` and ``transaction_sr_no``) holds fewer rows: the
    source holds a row of each loaded before the increment. Only when ``repeated`` names
    some is the increment read."""
    if not repeated:
        return set()
    wanted = pd.Index(list(repeated), dtype=object)
    read: Counter[str] = Counter()
    for frame in increment:
        ids = key_ids(frame)
        read.update(ids[pd.Series(ids, dtype=object).isin(wanted).to_numpy()].tolist())
    return {i for i, rows in repeated.items() if read[i] < rows}
