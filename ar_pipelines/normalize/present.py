"""The ledger ``external_id`` of every transaction a source holds now.

A run compares them with what it pushed before: an entry no source row names any more
disappeared and is voided. Ids are made exactly as the normalizer makes them (cleaned
text, ``"{practice_id}-{transaction_sr_no}"``), so a row that is still there is never
taken for gone.

The same scan tells which ids the source holds more than once. An incremental run reads
the rows loaded since its cursor (less a lookback); when it reads fewer rows of such an
id than the source holds, the others were loaded before them, so every row of it read
now repeats a row read in an earlier run (``earlier_external_ids``).
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


@dataclass(frozen=True)
class SourceKeys:
    """Every id the source holds (``present``), those it holds in more than one row with
    how many (``repeated``), and how many rows it holds, with an id or without."""

    present: set[str]
    rows: int
    repeated: dict[str, int] = field(default_factory=dict)


def key_ids(frame: pd.DataFrame) -> ObjectArray:
    """The ``external_id`` of each row of a frame with ``practice_id`` and
    ``transaction_sr_no`` (``None`` where either is missing)."""
    texts = [Coded.of(frame[name].reset_index(drop=True)).rows() for name in KEY_COLUMNS]
    return external_ids(*texts)


def source_keys(keys: Iterable[pd.DataFrame]) -> SourceKeys:
    """``keys``: frames of ``practice_id`` and ``transaction_sr_no`` (as
    ``Source.transaction_keys`` gives them). Rows missing either have no id."""
    rows = 0
    parts = []
    for frame in keys:
        rows += len(frame)
        ids = key_ids(frame)
        parts.append(ids[given(ids)])
    ids = np.concatenate(parts) if parts else np.zeros(0, dtype=object)
    present: set[str] = set(ids.tolist())
    if len(present) == len(ids):  # the usual case: no id twice, told without counting
        return SourceKeys(present, rows)
    every = pd.Series(ids, dtype=object)
    counts = every[every.duplicated(keep=False)].value_counts()
    return SourceKeys(present, rows, {str(i): int(n) for i, n in counts.items()})


def present_external_ids(keys: Iterable[pd.DataFrame]) -> set[str]:
    """The ids of ``source_keys``, without counting repeats."""
    return source_keys(keys).present


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
