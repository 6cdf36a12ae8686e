"""Raw rows from a practice's source into the warehouse (``sync.extract``): patients and
guarantors whole, transactions incrementally from the practice's cursor."""

from datetime import datetime
from typing import Any

import dagster as dg

from ar_pipelines.defs.common import (
    RAW_PATIENTS,
    RAW_TRANSACTIONS,
    ExtractConfig,
    Stage,
    practice_step,
)
from ar_pipelines.defs.resources import Settings, Sources, WarehouseResource, warehouse_kind
from ar_pipelines.sources.base import SourceStatus
from ar_pipelines.sync import extract_patients, extract_transactions

# Read with SQL (or the REST API), stored in the warehouse.
EXTRACT = Stage("extract", kinds=frozenset({"sql", warehouse_kind()}))


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
    with practice_step(context, settings, warehouse, sources.open) as (practice, store, source):
        stored = extract_patients(store, source, practice)
    return dg.MaterializeResult(metadata={"rows": stored.patients, "guarantors": stored.guarantors})


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
    with practice_step(context, settings, warehouse, sources.open) as (practice, store, source):
        read = extract_transactions(store, source, practice, full_refresh=config.full_refresh)
    warning = read.status.warning()
    if warning is not None:
        context.log.warning(f"practice {practice.id}: {warning}")
    return dg.MaterializeResult(
        metadata={
            "rows": read.rows,
            "deletions": read.deletions,
            "read": "every row" if read.whole else "incremental",
            "since": _describe(read.since),
            "new_cursor": _describe(read.cursor),
            **_status_metadata(read.status),
        }
    )


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
