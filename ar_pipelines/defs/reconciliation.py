"""AR's statements read back, and reconciled against the local ones to the cent.

The report (HTML with a chart of billed, paid and outstanding by month, local against AR,
and a CSV of every statement) goes under the reports directory; the asset's metadata
holds the summary, and its check fails, with samples, unless every statement matched.
"""

from collections.abc import Iterator
from datetime import date
from typing import Any

import dagster as dg

from ar_pipelines.clock import utc_now
from ar_pipelines.defs.common import (
    AR_STATEMENTS,
    LOCAL_STATEMENTS,
    PUSHED_LEDGER,
    RECONCILIATION,
    Stage,
    practice_of,
    retried_when_transient,
)
from ar_pipelines.defs.resources import ArApi, Settings, WarehouseResource
from ar_pipelines.reconcile import reconcile, write_report
from ar_pipelines.reconcile.readback import read_statements
from ar_pipelines.statements.dbt import practice_schema
from ar_pipelines.warehouse import Warehouse, tables

RECONCILIATION_CLEAN = "reconciliation_clean"

RECONCILE = Stage("reconcile", kinds=frozenset({"api"}))


@RECONCILE.asset(
    AR_STATEMENTS,
    deps=[PUSHED_LEDGER],
    description=(
        "Every statement AR holds for the practice, read back through the client a month at a time."
    ),
)
def ar_statements(
    context: dg.AssetExecutionContext,
    ar: ArApi,
    warehouse: WarehouseResource,
    settings: Settings,
) -> dg.MaterializeResult[Any]:
    practice = practice_of(context, settings)
    with retried_when_transient(context), warehouse.open() as store:
        months = _ledger_months(store, practice.id)
    with retried_when_transient(context), ar.client(practice) as client:
        frame = read_statements(client, months, concurrency=ar.concurrency)
    frame = frame.assign(practice_id=practice.id, read_at=utc_now())
    with retried_when_transient(context), warehouse.open() as store:
        store.replace(tables.AR_STATEMENTS, frame, practice_id=practice.id)
    return dg.MaterializeResult(metadata={"statements": len(frame)})


@RECONCILE.asset(
    RECONCILIATION,
    deps=[AR_STATEMENTS, LOCAL_STATEMENTS],
    kinds={"pandas", "html"},
    check_specs=[
        dg.AssetCheckSpec(
            RECONCILIATION_CLEAN,
            asset=RECONCILIATION,
            description="Every statement matches AR to the cent: amount and paid.",
        )
    ],
    description="AR against the local statements, statement by statement, for finance.",
)
def reconciliation(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    settings: Settings,
) -> Iterator[dg.MaterializeResult[Any] | dg.AssetCheckResult]:
    practice = practice_of(context, settings)
    with warehouse.open() as store:
        schema = practice_schema(practice, store.schema_prefix)
        local = store.read_model(schema, "statements")
        ar = store.read(tables.AR_STATEMENTS, practice_id=practice.id)
    result = reconcile(practice.id, local, ar)
    files = write_report(result, settings.reports_path)
    summary = result.summary()
    yield dg.MaterializeResult(
        asset_key=RECONCILIATION,
        metadata={
            "clean": result.clean,
            **{status: count for status, count in result.counts().items()},
            "summary": dg.MetadataValue.json(summary),
            "report": dg.MetadataValue.path(str(files.html)),
            "csv": dg.MetadataValue.path(str(files.csv)),
        },
    )
    yield dg.AssetCheckResult(
        check_name=RECONCILIATION_CLEAN,
        asset_key=RECONCILIATION,
        passed=result.clean,
        metadata={
            **{status: count for status, count in result.counts().items()},
            "mismatches": dg.MetadataValue.json(result.mismatches(limit=20)),
            "report": dg.MetadataValue.path(str(files.html)),
        },
    )


def _ledger_months(store: Warehouse, practice_id: str) -> list[date]:
    """The first and last month of the practice's ledger: where its statements are."""
    bounds = store.bounds(tables.LEDGER_ENTRIES, practice_id=practice_id, column="transaction_date")
    return [d for d in bounds if isinstance(d, date)]


reconciliation_assets = RECONCILE.assets
