"""What the sync tests read back: AR's ledger and the warehouse's push tables."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pandas as pd

from ar_pipelines.client import ARClient
from ar_pipelines.warehouse import DEAD_LETTER, PUSH_STATE, Warehouse


def ar_amounts(ar: ARClient) -> dict[str, Decimal]:
    """Every ledger entry AR holds, by ``external_id``; an id held twice fails here."""
    amounts: dict[str, Decimal] = {}
    for entry in ar.ledgers.list(per_page=100):
        if entry.transaction_type == "payment_allocation":
            continue
        assert entry.external_id not in amounts, f"{entry.external_id} is in AR twice"
        amounts[entry.external_id] = entry.amount
    return amounts


def state(warehouse: Warehouse, kind: str = "ledger_entries") -> pd.DataFrame:
    return warehouse.read(PUSH_STATE, practice_id="P1", where={"kind": kind}).set_index(
        "external_id"
    )


def dead_letters(warehouse: Warehouse, kind: str = "ledger_entries") -> pd.DataFrame:
    return warehouse.read(DEAD_LETTER, practice_id="P1", where={"kind": kind}).set_index(
        "external_id"
    )


def sent_external_ids(requests: list[httpx.Request]) -> list[str]:
    """The ``external_id`` of every record in the bulk requests, in order."""
    ids: list[str] = []
    for request in requests:
        if request.method == "POST" and request.url.path.endswith("/bulk"):
            (records,) = json.loads(request.content).values()
            ids.extend(record["external_id"] for record in records)
    return ids
