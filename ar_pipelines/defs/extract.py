"""Raw rows from a practice's source into the warehouse: patients and guarantors whole,
transactions incrementally from the practice's cursor.

Rows are stored under the project's id for the practice, whatever Sikka's
``practice_id`` inside the office is. The cursor a read returns is kept as *pending*;
normalization promotes it once the rows are normalized and stored, so a run that fails
in between reads the same rows again. A read that fails part-way (Sikka started loading
the office, a quota ran out) leaves no increment behind: nothing of it is normalized,
voided or moves a cursor.
"""

from datetime import datetime
from typing import Any

import dagster as dg
import pandas as pd

from ar_pipelines.clock import utc_now
from ar_pipelines.defs.common import (
    RAW_PATIENTS,
    RAW_TRANSACTIONS,
    ExtractConfig,
    Stage,
    practice_of,
    retried_when_transient,
)
from ar_pipelines.defs.resources import Settings, Sources, WarehouseResource
from ar_pipelines.sources.base import SourceStatus
from ar_pipelines.sources.frames import Extract, as_practice
from ar_pipelines.sources.schema import TRANSACTION_COLUMNS
from ar_pipelines.sync.normalized import CURSOR, PENDING_CURSOR, WHOLE_READ
from ar_pipelines.warehouse import Warehouse, tables

EXTRACT = Stage("extract", kinds=frozenset({"sql"}))


@EXTRACT.asset(
    RAW_PATIENTS,
    description=(
        "The practice's patients, and its guarantors, as the source has them now, as text."
    ),
)
def raw_patients(
    context: dg.AssetExecutionContext,
    sources: Sources,
    warehouse: WarehouseResource,
    settings: Settings,
) -> dg.MaterializeResult[Any]:
    practice = practice_of(context, settings)
    extracted_at = utc_now()
    with retried_when_transient(context), sources.open(practice) as source:
        patients = source.patients(practice_id=practice.sikka_practice_id)
        guarantors = source.guarantors(practice_id=practice.sikka_practice_id)
    patients = as_practice(patients, practice.id).assign(extracted_at=extracted_at)
    guarantors = as_practice(guarantors, practice.id).assign(extracted_at=extracted_at)
    with retried_when_transient(context), warehouse.open() as store:
        store.replace(tables.RAW_PATIENTS, patients, practice_id=practice.id)
        store.replace(tables.RAW_GUARANTORS, guarantors, practice_id=practice.id)
    return dg.MaterializeResult(metadata={"rows": len(patients), "guarantors": len(guarantors)})


@EXTRACT.asset(
    RAW_TRANSACTIONS,
    description=(
        "The practice's transactions changed since its cursor (less a lookback), and "
        "the deletions reported in that window, as text: this run's increment."
    ),
)
def raw_transactions(
    context: dg.AssetExecutionContext,
    config: ExtractConfig,
    sources: Sources,
    warehouse: WarehouseResource,
    settings: Settings,
) -> dg.MaterializeResult[Any]:
    practice = practice_of(context, settings)
    with retried_when_transient(context), warehouse.open() as store:
        since = None if config.full_refresh else store.get_cursor(practice.id, CURSOR)
        extracted_at = utc_now()
        with sources.open(practice) as source:
            status = source.status()
            extract = source.transactions(practice_id=practice.sikka_practice_id, since=since)
            deletions = _store_increment(store, practice.id, extract, extracted_at)
        if extract.cursor is not None:
            store.set_cursor(practice.id, PENDING_CURSOR, extract.cursor)
        _mark_whole_read(store, practice.id, whole=since is None, at=extracted_at)
    warning = status.warning()
    if warning is not None:
        context.log.warning(f"practice {practice.id}: {warning}")
    return dg.MaterializeResult(
        metadata={
            "rows": extract.rows,
            "deletions": deletions,
            "read": "every row" if since is None else "incremental",
            "since": _describe(since),
            "new_cursor": _describe(extract.cursor),
            **_status_metadata(status),
        }
    )


def _store_increment(store: Warehouse, practice_id: str, extract: Extract, at: datetime) -> int:
    """Store the increment a chunk at a time (the first chunk replaces the last increment),
    and return how many of its rows are deletions. A read that fails part-way leaves the
    practice's increment empty, so nothing of it can be normalized."""
    empty = True
    deletions = 0
    try:
        for chunk in extract:
            rows = as_practice(chunk, practice_id).assign(extracted_at=at)
            deletions += int(rows["is_deleted"].notna().sum())
            if empty:
                store.replace(tables.RAW_TRANSACTIONS, rows, practice_id=practice_id)
                empty = False
            else:
                store.append(tables.RAW_TRANSACTIONS, rows)
    except BaseException:
        if not empty:
            _clear_increment(store, practice_id)
        raise
    if empty:
        _clear_increment(store, practice_id)
    return deletions


def _clear_increment(store: Warehouse, practice_id: str) -> None:
    nothing = pd.DataFrame(columns=list(TRANSACTION_COLUMNS))
    store.replace(tables.RAW_TRANSACTIONS, nothing, practice_id=practice_id)


def _mark_whole_read(store: Warehouse, practice_id: str, *, whole: bool, at: datetime) -> None:
    if whole:
        store.set_cursor(practice_id, WHOLE_READ, at)
    else:
        store.delete(tables.CURSORS, practice_id=practice_id, column="name", values=[WHOLE_READ])


def _status_metadata(status: SourceStatus) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if status.sync_status is not None:
        metadata["source_sync_status"] = status.sync_status
    if status.data_insert_date is not None:
        metadata["source_data_loaded"] = status.data_insert_date
    warning = status.warning()
    if warning is not None:
        metadata["stale_source_warning"] = warning
    return metadata


def _describe(moment: datetime | None) -> str:
    return "the beginning" if moment is None else moment.isoformat(sep=" ")


extract_assets = EXTRACT.assets
