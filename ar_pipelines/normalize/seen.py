"""The transactions seen in this run, by a 64-bit hash of their ledger ``external_id``.

Eight bytes per distinct transaction, kept sorted in one numpy array, so memory stays
flat per row at millions of rows. The hash is Python's own string hash: it differs
between processes, which is harmless because the set lives for one run. Two distinct
ids share a hash with a probability of about n^2 / 2^65 (3e-8 at a million ids); such a
pair would be reported as a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from ar_pipelines.normalize.text import BoolArray

Hashes = npt.NDArray[np.uint64]


def hashes(external_ids: Iterable[str], count: int) -> Hashes:
    return np.fromiter(map(hash, external_ids), dtype=np.int64, count=count).view(np.uint64)


class SeenKeys:
    def __init__(self) -> None:
        self._sorted: Hashes = np.zeros(0, dtype=np.uint64)

    def __len__(self) -> int:
        return len(self._sorted)

    def contains(self, keys: Hashes) -> BoolArray:
        if not len(self._sorted):
            return np.zeros(len(keys), dtype=bool)
        at = np.searchsorted(self._sorted, keys)
        found: BoolArray = (at < len(self._sorted)) & (
            self._sorted[np.minimum(at, len(self._sorted) - 1)] == keys
        )
        return found

    def add(self, external_ids: npt.NDArray[np.object_]) -> BoolArray:
        """Remember ``external_ids``; true for each one seen before (earlier in the run, or
        earlier in this same batch)."""
        keys = hashes(external_ids, len(external_ids))
        # In sorted order (stable, so the first occurrence leads its repeats), a repeat
        # within the batch equals its neighbour, and the lookups walk the set in order.
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        repeat = np.zeros(len(ordered), dtype=bool)
        repeat[1:] = ordered[1:] == ordered[:-1]
        at = np.searchsorted(self._sorted, ordered)
        if len(self._sorted):
            repeat |= (at < len(self._sorted)) & (
                self._sorted[np.minimum(at, len(self._sorted) - 1)] == ordered
            )
        self._sorted = np.insert(self._sorted, at[~repeat], ordered[~repeat])
        earlier = np.empty(len(keys), dtype=bool)
        earlier[order] = repeat
        return earlier

    def __contains__(self, external_id: object) -> bool:
        return isinstance(external_id, str) and bool(self.contains(hashes([external_id], 1))[0])
