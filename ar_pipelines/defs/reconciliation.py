"""AR's statements read back, and reconciled against the local ones to the cent.

The report (HTML with a chart of billed, paid and outstanding by month, local against AR,
and a CSV of every statement) goes under the reports directory; the asset's metadata
holds the summary, and its check fails, with samples, unless every statement matched.
When it is not clean, AR is asked why (``reconcile.why``): the causes go into a CSV
beside the report, into the page, and, counted, into the metadata of the asset and
its check.
"""

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dagster as dg

from ar_pipelines.defs.common import (
    AR_STATEMENTS,
    LOCAL_STATEMENTS,
    PUSHED_LEDGER,
    RECONCILIATION,
    Stage,
    practice_of,
    practice_step,
)
from ar_pipelines.defs.resources import ArApi, Settings, WarehouseResource
from ar_pipelines.reconcile import Causes, read_back_statements, reconcile_practice
from ar_pipelines.statements.dbt import practice_schema

RECONCILIATION_CLEAN = "reconciliation_clean"
# How old a practice's last reconciliation may grow: a nightly run a day apart, and two
# hours' slack for a slow night. The stale-source alert reads the same variable.
STALE_AFTER_HOURS_ENV = "AR_STALE_AFTER_HOURS"
DEFAULT_STALE_AFTER_HOURS = 26.0
# The mismatches a reconciliation's metadata carries for alerts (the check carries more).
ALERT_MISMATCHES = 10


def stale_after() -> timedelta:
    """The age past which a practice's last reconciliation is stale (``AR_STALE_AFTER_HOURS``)."""
    hours = os.environ.get(STALE_AFTER_HOURS_ENV, "").strip()
    return timedelta(hours=float(hours) if hours else DEFAULT_STALE_AFTER_HOURS)


def reconciliation_freshness() -> dg.FreshnessPolicy:
    """Fails once the last reconciliation is older than ``stale_after()``; warns two hours
    before (when that leaves a warning window)."""
    fail = stale_after()
    warn = fail - timedelta(hours=2)
    return dg.FreshnessPolicy.time_window(
        fail_window=fail, warn_window=warn if warn > timedelta(0) else None
    )


RECONCILE = Stage("reconcile", kinds=frozenset({"api"}))


class ReadBackConfig(dg.Config):
    """``full_reconciliation``: read back every statement AR holds, not only those of the
    customers the push touched (the weekly job sets it)."""

    full_reconciliation: bool = False


@RECONCILE.asset(
    AR_STATEMENTS,
    deps=[PUSHED_LEDGER],
    description=(
        "AR's statements read back through the client: those of the customers the push "
        "touched, or every one on the first run and the weekly full reconciliation."
    ),
)
def ar_statements(
    context: dg.AssetExecutionContext,
    config: ReadBackConfig,
    ar: ArApi,
    warehouse: WarehouseResource,
    settings: Settings,
) -> dg.MaterializeResult[Any]:
    with practice_step(context, settings, warehouse, ar.client) as (practice, store, client):
        read = read_back_statements(
            client,
            store,
            practice_id=practice.id,
            concurrency=ar.concurrency,
            full=config.full_reconciliation,
        )
    return dg.MaterializeResult(
        metadata={
            "statements": read.statements,
            "customers": read.customers,
            "full": read.full,
            "listing": read.listing.value,
            "read_back": dg.MetadataValue.json(read.metadata()),
        }
    )


@RECONCILE.asset(
    RECONCILIATION,
    deps=[AR_STATEMENTS, LOCAL_STATEMENTS],
    kinds={"pandas", "html"},
    check_specs=[
        dg.AssetCheckSpec(
            RECONCILIATION_CLEAN,
            asset=RECONCILIATION,
            description="Every statement matches AR to the cent: amount and paid.",
            # A reconciliation that is not clean fails its run: the run is red in the UI,
            # and its alert goes out (see ``alerts``).
            blocking=True,
        )
    ],
    freshness_policy=reconciliation_freshness(),
    description="AR against the local statements, statement by statement, for finance.",
)
def reconciliation(
    context: dg.AssetExecutionContext,
    ar: ArApi,
    warehouse: WarehouseResource,
    settings: Settings,
) -> Iterator[dg.MaterializeResult[Any] | dg.AssetCheckResult]:
    practice = practice_of(context, settings)
    with warehouse.open() as store:
        done = reconcile_practice(
            store,
            practice_id=practice.id,
            local_schema=practice_schema(practice, store.schema_prefix),
            reports_dir=settings.reports_path,
            # Opened only when some statement differs, to ask AR why.
            open_client=lambda: ar.client(practice),
        )
    result, files, coverage, causes = done.result, done.files, done.coverage, done.causes
    summary = result.summary()
    why = _causes_metadata(causes, files.causes)
    if done.causes_error is not None:
        context.log.warning(f"AR could not be asked why statements differ: {done.causes_error}")
        why["causes_error"] = done.causes_error
    yield dg.MaterializeResult(
        asset_key=RECONCILIATION,
        metadata={
            "clean": result.clean,
            **{status: count for status, count in result.counts().items()},
            "full": coverage.full,
            "statements_verified": coverage.statements,
            "customers_verified": coverage.customers,
            "verified": dg.MetadataValue.json(coverage.summary()),
            "summary": dg.MetadataValue.json(summary),
            "report": dg.MetadataValue.path(str(files.html)),
            "csv": dg.MetadataValue.path(str(files.csv)),
            **(
                {"workbook": dg.MetadataValue.path(str(files.workbook))}
                if files.workbook is not None
                else {}
            ),
            "first_mismatches": dg.MetadataValue.json(
                _with_causes(result.mismatches(limit=ALERT_MISMATCHES), causes)
            ),
            **why,
        },
    )
    yield dg.AssetCheckResult(
        check_name=RECONCILIATION_CLEAN,
        asset_key=RECONCILIATION,
        passed=result.clean,
        metadata={
            **{status: count for status, count in result.counts().items()},
            "full": coverage.full,
            "mismatches": dg.MetadataValue.json(_with_causes(result.mismatches(limit=20), causes)),
            "report": dg.MetadataValue.path(str(files.html)),
            **why,
        },
    )


def _causes_metadata(causes: Causes | None, path: object) -> dict[str, Any]:
    """The causes counted, whether the limit cut them, and their CSV (nothing when the
    reconciliation was clean)."""
    if causes is None:
        return {}
    return {
        "causes": dg.MetadataValue.json(causes.counts()),
        "causes_capped": causes.capped,
        "causes_csv": dg.MetadataValue.path(str(path)),
    }


def _with_causes(rows: list[dict[str, object]], causes: Causes | None) -> list[dict[str, object]]:
    """Each mismatch with its causes (``cause``: comma-separated, ``None`` when not
    looked at)."""
    if causes is None:
        return rows
    found = causes.by_statement()
    return [
        {**row, "cause": ", ".join(found[str(row["key"])]) if str(row["key"]) in found else None}
        for row in rows
    ]


reconciliation_assets = RECONCILE.assets
