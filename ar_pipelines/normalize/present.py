"""The ledger ``external_id`` of every transaction a source holds now.

A run compares them with what it pushed before: an entry no source row names any more
disappeared and is voided. Ids are made exactly as the normalizer makes them (cleaned
text, ``"{practice_id}-{transaction_sr_no}"``), so a row that is still there is never
taken for gone.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ar_pipelines.normalize.chunk import Chunk


def present_external_ids(keys: Iterable[pd.DataFrame]) -> set[str]:
    """``keys``: frames of ``practice_id`` and ``transaction_sr_no`` (as
    ``Source.transaction_keys`` gives them). Rows missing either have no id."""
    present: set[str] = set()
    for frame in keys:
        ids = Chunk.of(frame).external_id
        present.update(i for i in ids if i is not None)
    return present
