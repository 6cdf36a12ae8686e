"""How the sync tests push practice P1's records, and what they read back: AR's ledger
and the warehouse's push tables."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pandas as pd

from ar_pipelines.client import ARClient
from ar_pipelines.sync import SyncReport, push_changes
from ar_pipelines.warehouse import DEAD_LETTER, PUSH_STATE, Warehouse
from tests.ar_pipelines.warehouse.frames import customer_row, customers


def push(
    ar: ARClient, warehouse: Warehouse, kind: str, records: pd.DataFrame, **options: Any
) -> SyncReport:
    """``push_changes`` of practice P1, the practice of every sync test."""
    return push_changes(ar, warehouse, practice_id="P1", kind=kind, records=records, **options)


def push_customers(ar: ARClient, warehouse: Warehouse, *external_ids: str) -> SyncReport:
    """Practice P1's customers of these ids, as ``customer_row`` makes them, pushed."""
    records = customers(*(customer_row(external_id) for external_id in external_ids))
    return push(ar, warehouse, "customers", records)


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
