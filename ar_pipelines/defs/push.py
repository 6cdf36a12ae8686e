"""Customers, then ledger entries, pushed to AR through the client, changes only
(``sync.push_customers``, ``sync.push_ledger_entries``).

The push state in the warehouse (external id, payload hash, last result) decides what is
new or changed; rejected and failed records wait in the dead letter and are tried again
on every run. A push that could not send everything fails the step (and Dagster retries
it); records refused by AR fail the asset check instead, with the server's messages in
its metadata. Both pushes wait for the push plan (``ar/push_plan``, ``defs.plan``):
when its blocking check refuses the plan, nothing is pushed.
"""

from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg

from ar_pipelines.defs.common import (
    NORMALIZED_CUSTOMERS,
    NORMALIZED_LEDGER,
    PUSHED_CUSTOMERS,
    PUSHED_LEDGER,
    PushConfig,
    Stage,
    practice_step,
)
from ar_pipelines.defs.plan import PUSH_PLAN
from ar_pipelines.defs.resources import ArApi, Settings, WarehouseResource
from ar_pipelines.sync import SyncReport, push_customers, push_ledger_entries

NO_FAILED_PUSHES = "no_failed_or_rejected_pushes"

PUSH = Stage("push", kinds=frozenset({"api"}))


def _push_asset(
    key: dg.AssetKey,
    *,
    deps: list[dg.AssetKey],
    description: str,
    push: Callable[..., SyncReport],
) -> None:
    """Declare the asset of one kind's push: ``push(client, store, practice_id=..., full=...)``."""

    @PUSH.asset(
        key,
        deps=deps,
        check_specs=[
            dg.AssetCheckSpec(
                NO_FAILED_PUSHES,
                asset=key,
                description="AR took every record sent; none is waiting in the dead letter.",
            )
        ],
        description=description,
    )
    def pushed(
        context: dg.AssetExecutionContext,
        config: PushConfig,
        ar: ArApi,
        warehouse: WarehouseResource,
        settings: Settings,
    ) -> Iterator[dg.MaterializeResult[Any] | dg.AssetCheckResult]:
        with practice_step(context, settings, warehouse, ar.client) as (practice, store, client):
            report = push(client, store, practice_id=practice.id, full=config.full_repush)
        yield from _outcome(key, report)


_push_asset(
    PUSHED_CUSTOMERS,
    deps=[NORMALIZED_CUSTOMERS, PUSH_PLAN],
    description="The practice's customers as AR holds them: new and changed ones pushed.",
    push=push_customers,
)
_push_asset(
    PUSHED_LEDGER,
    deps=[NORMALIZED_LEDGER, PUSHED_CUSTOMERS, PUSH_PLAN],
    description=(
        "The practice's ledger entries as AR holds them: new, changed and voided ones "
        "pushed; AR re-aggregates the statements of every customer touched."
    ),
    push=push_ledger_entries,
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
