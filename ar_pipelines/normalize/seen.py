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
import pandas as pd

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
        earlier = self.contains(keys) | pd.Series(keys).duplicated(keep="first").to_numpy()
        new = np.unique(keys[~earlier])
        self._sorted = np.insert(self._sorted, np.searchsorted(self._sorted, new), new)
        return earlier

    def __contains__(self, external_id: object) -> bool:
        return isinstance(external_id, str) and bool(self.contains(hashes([external_id], 1))[0])
