"""What the index of a practice's source rows settles about an increment, without a key
scan of the source.

The index (``warehouse.TRANSACTION_ROWS``) holds a row per live source row the runs have
seen: its ledger ``external_id`` and its row key. A scan of the source's keys (or a whole
read) writes it afresh; a nightly run changes the rows its increment read. For each
number the increment names, the rows the source holds now are then the index's rows of
that number that the increment did not read again, and the increment's own live rows:
exactly what the key scan would list for it, so the number is settled as a run with the
scan settles it (``present.SourceKeys``).

Only a scan can settle a number when that view is not exact and the answer depends on
it, that is when the number is held by two rows or more by the view and:

- the increment holds a deletion of it that names no row (a ``practice_events`` event, a
  flagged row without a row key): any one of its rows may be the one deleted, and which
  decides its record;
- the index holds a row of it and one of its rows has no row key (or shares its key
  with another): rows without keys cannot be told apart, so a row of it read now may be
  an edit of a row the index holds or a new row beside it, and only the source's count
  of its rows says which (``SourceKeys.unkeyed_repeats``). A source without row keys is
  therefore scanned on most nights, its lookback reading numbers read before.

A number held by one row at most is the same in every case (no record to choose, no
row loaded before the increment to repeat). A deletion that names no row leaves, in
place of the index's one row of its number, a row without a key: the number may still be
held, and a later run that finds it held by more rows scans rather than guesses. Rows
that vanish without a trace are not in any increment: the index keeps them until the
next scan.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ar_pipelines.normalize.present import (
    ROW_KEY,
    SourceKeys,
    key_ids,
    keys_of_rows,
    row_key,
)
from ar_pipelines.normalize.text import BoolArray, ObjectArray, given

INDEX_COLUMNS = ("external_id", "row_key")


def _keys(values: Iterable[object]) -> ObjectArray:
    return np.array([row_key(v) for v in values], dtype=object)


@dataclass(frozen=True)
class IncrementKeys:
    """Each row of an increment: its ``external_id`` and row key (``None`` where it has
    none), and whether it is a deletion."""

    ids: ObjectArray
    keys: ObjectArray
    deleted: BoolArray

    @classmethod
    def of(cls, frames: Iterable[pd.DataFrame]) -> IncrementKeys:
        """From frames of ``practice_id``, ``transaction_sr_no``, ``row_key`` and
        ``is_deleted``, as the warehouse holds the increment."""
        ids, keys, deleted = [], [], []
        for frame in frames:
            ids.append(key_ids(frame))
            keys.append(_keys(frame[ROW_KEY].to_numpy(dtype=object)))
            deleted.append(frame["is_deleted"].notna().to_numpy())
        if not ids:
            empty = np.zeros(0, dtype=object)
            return cls(empty, empty, np.zeros(0, dtype=bool))
        return cls(np.concatenate(ids), np.concatenate(keys), np.concatenate(deleted))

    @property
    def numbers(self) -> list[str]:
        """The ``external_id`` of every number the increment names."""
        return sorted({i for i in self.ids.tolist() if i is not None})

    @property
    def row_keys(self) -> list[str]:
        """Every row key the increment holds, of live and deleted rows."""
        return sorted({k for k in self.keys.tolist() if k is not None})

    @property
    def live(self) -> BoolArray:
        """Rows with an id that the source holds now (not deletions)."""
        found: BoolArray = given(self.ids) & ~self.deleted
        return found


@dataclass(frozen=True)
class Settled:
    """What the index settles of an increment: the source's rows of the increment's
    numbers as the key scan would give them (``keys``), and how the index changes."""

    keys: SourceKeys
    keys_gone: list[str]  # index rows to delete by row key: every row read again
    ids_gone: list[str]  # index rows to delete by number: those a deletion may have removed
    added: pd.DataFrame  # index rows to add: ``external_id``, ``row_key``


def settle(increment: IncrementKeys, indexed: pd.DataFrame) -> Settled | None:
    """Settle ``increment`` by ``indexed`` (the index's rows, ``external_id`` and
    ``row_key``, of the increment's numbers and of its row keys); ``None`` where only a
    scan of the source can (see the module's docstring)."""
    numbers = set(increment.numbers)
    read_again = set(increment.row_keys)
    index_ids = indexed["external_id"].to_numpy(dtype=object)
    index_keys = _keys(indexed["row_key"].to_numpy(dtype=object))
    kept = np.array(
        [
            i in numbers and (k is None or k not in read_again)
            for i, k in zip(index_ids.tolist(), index_keys.tolist(), strict=True)
        ],
        dtype=bool,
    )
    kept_ids, kept_keys = index_ids[kept], index_keys[kept]
    live = increment.live
    view_ids = np.concatenate([kept_ids, increment.ids[live]])
    view_keys = np.concatenate([kept_keys, increment.keys[live]])
    held = Counter(view_ids.tolist())
    of_index = set(kept_ids.tolist())
    unnamed = increment.deleted & given(increment.ids) & ~given(increment.keys)
    deleted_unnamed = set(increment.ids[unnamed].tolist())
    for number in of_index:
        if held[number] < 2:
            continue
        if number in deleted_unnamed:
            return None
        keys = [
            k for i, k in zip(view_ids.tolist(), view_keys.tolist(), strict=True) if i == number
        ]
        if None in keys or len(set(keys)) < len(keys):
            return None
    # A deletion naming no row of a number the index holds (in one row, by now) leaves
    # a row without a key in its place: the number may or may not be held still.
    ids_gone = sorted(deleted_unnamed & of_index)
    added = pd.DataFrame(
        {
            "external_id": pd.Series([*increment.ids[live].tolist(), *ids_gone], dtype=object),
            "row_key": pd.Series(
                [*increment.keys[live].tolist(), *([None] * len(ids_gone))], dtype=object
            ),
        }
    )
    return Settled(
        keys=keys_of_rows(view_ids, view_keys, len(view_ids)),
        keys_gone=sorted(read_again),
        ids_gone=ids_gone,
        added=added,
    )


def index_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The index's rows of a key scan's frame (``practice_id``, ``transaction_sr_no``,
    ``row_key``): one per row with an id."""
    ids = key_ids(frame)
    with_id = given(ids)
    keys = (
        _keys(frame[ROW_KEY].to_numpy(dtype=object))
        if ROW_KEY in frame.columns
        else np.full(len(frame), None, dtype=object)
    )
    return pd.DataFrame(
        {
            "external_id": pd.Series(ids[with_id], dtype=object),
            "row_key": pd.Series(keys[with_id], dtype=object),
        }
    )
