"""Customers, then ledger entries, pushed to AR through the client, changes only.

The push state in the warehouse (external id, payload hash, last result) decides what is
new or changed; rejected and failed records wait in the dead letter and are tried again
on every run. Ledger entries are taken from those loaded since the last complete push,
so a run that stopped half-way is picked up where it was, and nothing is sent twice
that landed and was recorded. A push that could not send everything fails the step
(and Dagster retries it); records refused by AR fail the asset check instead, with the
server's messages in its metadata.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

from ar_pipelines.client import ARClient
from ar_pipelines.defs.common import (
    NORMALIZED_CUSTOMERS,
    NORMALIZED_LEDGER,
    PUSHED_CUSTOMERS,
    PUSHED_LEDGER,
    PushConfig,
    Stage,
    practice_step,
)
from ar_pipelines.defs.resources import ArApi, Settings, WarehouseResource
from ar_pipelines.normalize import schemas
from ar_pipelines.sync import Kind, SyncReport, push_changes
from ar_pipelines.warehouse import CUSTOMERS, LEDGER_ENTRIES, Warehouse

NO_FAILED_PUSHES = "no_failed_or_rejected_pushes"
CUSTOMER_COLUMNS = tuple(schemas.customers.columns)
LEDGER_COLUMNS = tuple(schemas.ledger_entries.columns)
PUSHED_THROUGH = "ledger_entries_pushed_through"

PUSH = Stage("push", kinds=frozenset({"api"}))


def _check_spec(key: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        NO_FAILED_PUSHES,
        asset=key,
        description="AR took every record sent; none is waiting in the dead letter.",
    )


@PUSH.asset(
    PUSHED_CUSTOMERS,
    deps=[NORMALIZED_CUSTOMERS],
    check_specs=[_check_spec(PUSHED_CUSTOMERS)],
    description="The practice's customers as AR holds them: new and changed ones pushed.",
)
def ar_customers(
    context: dg.AssetExecutionContext,
    config: PushConfig,
    ar: ArApi,
    warehouse: WarehouseResource,
    settings: Settings,
) -> Iterator[dg.MaterializeResult[Any] | dg.AssetCheckResult]:
    with practice_step(context, settings, warehouse, ar.client) as (practice, store, client):
        records = store.read(CUSTOMERS, practice_id=practice.id, columns=CUSTOMER_COLUMNS)
        report = _push(client, store, practice.id, "customers", records, config)
    yield from _outcome(PUSHED_CUSTOMERS, report)


@PUSH.asset(
    PUSHED_LEDGER,
    deps=[NORMALIZED_LEDGER, PUSHED_CUSTOMERS],
    check_specs=[_check_spec(PUSHED_LEDGER)],
    description=(
        "The practice's ledger entries as AR holds them: new, changed and voided ones "
        "pushed; AR re-aggregates the statements of every customer touched."
    ),
)
def ar_ledger_entries(
    context: dg.AssetExecutionContext,
    config: PushConfig,
    ar: ArApi,
    warehouse: WarehouseResource,
    settings: Settings,
) -> Iterator[dg.MaterializeResult[Any] | dg.AssetCheckResult]:
    with practice_step(context, settings, warehouse, ar.client) as (practice, store, client):
        since = None if config.full_repush else store.get_cursor(practice.id, PUSHED_THROUGH)
        records = store.read_after(
            LEDGER_ENTRIES,
            practice_id=practice.id,
            column="loaded_at",
            after=since,
            columns=("loaded_at", *LEDGER_COLUMNS),
        )
        report = _push(client, store, practice.id, "ledger_entries", records, config)
        if len(records):
            store.set_cursor(practice.id, PUSHED_THROUGH, records["loaded_at"].max())
    yield from _outcome(PUSHED_LEDGER, report)


def _push(
    client: ARClient,
    store: Warehouse,
    practice_id: str,
    kind: Kind,
    records: pd.DataFrame,
    config: PushConfig,
) -> SyncReport:
    """Push what changed of ``records``, or every one of them when the run asks for a full
    repush."""
    return push_changes(
        client, store, practice_id=practice_id, kind=kind, records=records, full=config.full_repush
    )


def _outcome(
    key: dg.AssetKey, report: SyncReport
) -> Iterator[dg.MaterializeResult[Any] | dg.AssetCheckResult]:
    summary = report.summary()
    yield dg.MaterializeResult(
        asset_key=key,
        metadata={
            "sent": report.counts.sent,
            "unchanged": report.counts.unchanged,
            "created": report.counts.created,
            "updated": report.counts.updated,
            "push": dg.MetadataValue.json(summary),
        },
    )
    yield dg.AssetCheckResult(
        check_name=NO_FAILED_PUSHES,
        asset_key=key,
        passed=report.clean,
        metadata={
            "failed": report.counts.failed,
            "rejected": report.counts.rejected,
            "in_dead_letter": report.dead_letter_size,
            "samples": dg.MetadataValue.json(report.issue_samples()),
        },
    )


push_assets = PUSH.assets
