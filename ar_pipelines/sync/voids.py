"""Voids for ledger entries whose source rows are gone.

AR has no DELETE: an entry that disappeared from the source is pushed again with
amount 0 (``docs/sources.md#from-rows-to-ledger-entries``). The entries pushed before
are those in ``push.state``; their customer, date and type come from
``normalized.ledger_entries``. A void that already landed is not made again: its
payload hash is the one that landed.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from ar_pipelines.normalize import schemas
from ar_pipelines.normalize.transactions import ledger_frame
from ar_pipelines.sync.payloads import KINDS, payload_hashes
from ar_pipelines.sync.state import LANDED, looked_up
from ar_pipelines.warehouse import LEDGER_ENTRIES, PUSH_STATE, Warehouse

VOID_AMOUNT = Decimal("0.00")
# What a void says of the entry it voids, read from ``normalized.ledger_entries``.
PUSHED_COLUMNS = ("external_id", "customer_external_id", "transaction_date", "transaction_type")


def voids_for_missing(
    warehouse: Warehouse, *, practice_id: str, present_external_ids: Collection[str]
) -> pd.DataFrame:
    """Void records (amount 0, the same ``external_id``, customer, date and type) for
    every ledger entry of the practice in ``push.state`` whose ``external_id`` is not in
    ``present_external_ids``, except voids that already landed. Shaped and validated
    like the normalizer's ``ledger_entries``.

    ``present_external_ids`` must name every entry the source still has (a full list,
    not an increment). Entries absent from ``normalized.ledger_entries`` cannot be
    described, so they are left alone.
    """
    spec = KINDS["ledger_entries"]
    state = warehouse.read(
        PUSH_STATE,
        practice_id=practice_id,
        columns=["external_id", "payload_hash", "last_result"],
        where={"kind": spec.kind},
    )
    gone = state.loc[~state["external_id"].isin(pd.Index(list(present_external_ids)))]
    if gone.empty:
        return _voids(pd.DataFrame(columns=list(PUSHED_COLUMNS)))
    entries = warehouse.read(LEDGER_ENTRIES, practice_id=practice_id, columns=list(PUSHED_COLUMNS))
    described = entries.loc[entries["external_id"].isin(gone["external_id"])]
    voids = _voids(described)
    landed = gone.loc[gone["last_result"].isin(LANDED)].set_index("external_id")["payload_hash"]
    already = looked_up(landed, voids["external_id"]).to_numpy(dtype=object) == payload_hashes(
        voids, spec
    )
    return schemas.ledger_entries.validate(voids.loc[~already].reset_index(drop=True))


def _voids(entries: pd.DataFrame) -> pd.DataFrame:
    size = len(entries)
    nothing = np.full(size, None, dtype=object)
    dates = entries["transaction_date"].to_numpy(dtype=object)
    frame = ledger_frame(
        {
            "external_id": entries["external_id"].to_numpy(dtype=object),
            "customer_external_id": entries["customer_external_id"].to_numpy(dtype=object),
            "transaction_date": np.array(
                [d.isoformat() if isinstance(d, date) else d for d in dates], dtype=object
            ),
            "transaction_type": entries["transaction_type"].to_numpy(dtype=object),
            "amount": np.full(size, VOID_AMOUNT, dtype=object),
            "amount_paid": nothing,
            "estimated_insurance": nothing,
            "payment_link_id": nothing,
            "procedure_code": nothing,
            "description": nothing,
        }
    )
    return schemas.ledger_entries.validate(frame)
