"""The transactions seen in this run, by a 64-bit hash of their ledger ``external_id``.

A run may start with ids seen before it: those the source holds in rows loaded before
this run's increment, so that the rows read now are their later occurrences. Ids that
several keyed rows hold are not judged by what was seen first but by row key
(``Records``).

Eight bytes per distinct transaction, kept in sorted numpy arrays, plus a bitmap of fixed
size, so memory stays flat per row at millions of rows. The hash is Python's own string
hash: it differs between processes, which is harmless because the set lives for one run.
Two distinct ids share a hash with a probability of about n^2 / 2^65 (3e-8 at a million
ids); such a pair would be reported as a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from ar_pipelines.normalize.text import BoolArray, ObjectArray

Hashes = npt.NDArray[np.uint64]
PREFIX_BITS = 25  # a bitmap of 4 MiB; at 3 million keys 9 in 10 new keys find their bit clear


def hashes(external_ids: Iterable[str], count: int) -> Hashes:
    return np.fromiter(map(hash, external_ids), dtype=np.int64, count=count).view(np.uint64)


class SeenKeys:
    """The keys seen, as a few sorted runs, and a bitmap of their prefixes.

    A new batch is a run of its own; two runs merge when the older is no larger than
    the newer, like the digits of a binary counter. So each key is copied a logarithmic
    number of times, where one sorted array copied itself whole for every batch (at
    millions of keys, most of the cost of a chunk). The bitmap has a bit per value of a
    key's top ``PREFIX_BITS`` bits, set for every key held: a clear bit rules a key out
    with one look, and most keys looked up are new, so few are searched for in the runs.
    """

    def __init__(self, earlier: Iterable[str] = ()) -> None:
        self._runs: list[Hashes] = []
        self._prefixes = np.zeros(2**PREFIX_BITS // 8, dtype=np.uint8)
        ids = np.array(list(earlier), dtype=object)
        self._earlier = np.unique(hashes(ids, len(ids)))  # sorted
        self._push(self._earlier)

    def __len__(self) -> int:
        return sum(len(run) for run in self._runs)

    def contains(self, keys: Hashes) -> BoolArray:
        byte, bit = _prefix(keys)
        maybe = np.flatnonzero((self._prefixes[byte] >> bit) & 1)
        candidates = keys[maybe]
        held = np.zeros(len(maybe), dtype=bool)
        for run in self._runs:
            held |= _in_run(run, candidates)
        found = np.zeros(len(keys), dtype=bool)
        found[maybe] = held
        return found

    def add(self, external_ids: npt.NDArray[np.object_]) -> BoolArray:
        """Remember ``external_ids``; true for each one seen before (before the run, earlier
        in it, or earlier in this same batch)."""
        keys = hashes(external_ids, len(external_ids))
        earlier = pd.Series(keys).duplicated(keep="first").to_numpy(copy=True)
        earlier |= self.contains(keys)
        self._push(np.sort(keys[~earlier]))
        found: BoolArray = earlier
        return found

    def earlier(self, external_ids: npt.NDArray[np.object_]) -> BoolArray:
        """Which of ``external_ids`` were seen before the run began (given as ``earlier``)."""
        if not len(self._earlier):
            return np.zeros(len(external_ids), dtype=bool)
        return _in_run(self._earlier, hashes(external_ids, len(external_ids)))

    def _push(self, run: Hashes) -> None:
        if not len(run):
            return
        byte, bit = _prefix(run)
        np.bitwise_or.at(self._prefixes, byte, np.left_shift(np.uint8(1), bit))
        runs = self._runs
        runs.append(run)
        while len(runs) > 1 and len(runs[-2]) <= len(runs[-1]):
            newer = runs.pop()
            # Two sorted runs end to end: the stable sort finds and merges them in one pass.
            runs[-1] = np.sort(np.concatenate([runs[-1], newer]), kind="stable")

    def __contains__(self, external_id: object) -> bool:
        return isinstance(external_id, str) and bool(self.contains(hashes([external_id], 1))[0])


class Records:
    """For ids that several source rows hold at once, each row with a key of its own: the
    row key of the row that is the record of the id (``SourceKeys.records``).

    Such an id is settled by row key, not by the order rows are read in: its record is
    kept whenever it is read, edited or not, and every other row of it is a duplicate.
    Few ids are held twice, so rows are looked up by hash first, as ``SeenKeys`` does.
    """

    def __init__(self, records: Mapping[str, str] | None = None) -> None:
        self._records = dict(records or {})
        ids = np.array(list(self._records), dtype=object)
        self._hashes = np.unique(hashes(ids, len(ids)))

    def __len__(self) -> int:
        return len(self._records)

    def keys_of(self, external_ids: npt.NDArray[np.object_]) -> ObjectArray:
        """The record's row key for each of ``external_ids`` (``None`` for ids not held
        by several keyed rows)."""
        found = np.full(len(external_ids), None, dtype=object)
        if not self._records or not len(external_ids):
            return found
        maybe = np.flatnonzero(_in_run(self._hashes, hashes(external_ids, len(external_ids))))
        found[maybe] = [self._records.get(i) for i in external_ids[maybe]]
        return found


def _prefix(keys: Hashes) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint8]]:
    """Where each key's prefix bit is in the bitmap: its byte and its bit in that byte."""
    prefix = keys >> np.uint64(64 - PREFIX_BITS)
    return prefix >> np.uint64(3), (prefix & np.uint64(7)).astype(np.uint8)


def _in_run(run: Hashes, keys: Hashes) -> BoolArray:
    """Which ``keys`` are in the sorted ``run``."""
    at = np.searchsorted(run, keys)
    found: BoolArray = run[np.minimum(at, len(run) - 1)] == keys
    return found
