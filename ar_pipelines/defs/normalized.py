"""Normalized customers, ledger entries and the quarantine, from the raw rows: the
assets that run ``sync.normalize_practice`` for a practice and report what it did.

The quarantine's asset check fails when the run quarantined more than the practice's
``quarantine_threshold`` of the rows it read. Their kinds are ``pandas`` (the
normalizer works on data frames) and the warehouse's (``resources.warehouse_kind``).
"""

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import dagster as dg

from ar_pipelines.defs.common import (
    NORMALIZED_CUSTOMERS,
    NORMALIZED_LEDGER,
    QUARANTINE,
    RAW_PATIENTS,
    RAW_TRANSACTIONS,
    partitioned_checks,
    practice_step,
)
from ar_pipelines.defs.resources import Settings, Sources, WarehouseResource, warehouse_kind
from ar_pipelines.sync import NormalizeOutcome, normalize_practice

QUARANTINE_SHARE_CHECK = "quarantine_share_under_threshold"


class NormalizeConfig(dg.Config):
    """``full_deletion_scan``: scan every key of the source, to void the entries of rows
    deleted without a trace and to write the index of source rows afresh. A source that
    reports its deletions is otherwise not scanned at night (the weekly run sets this);
    one that reports none is scanned every run."""

    full_deletion_scan: bool = False


def normalized_assets(
    partitions: dg.PartitionsDefinition, pool: str | None = None
) -> list[dg.AssetsDefinition]:
    kinds = {"pandas", warehouse_kind()}
    as_assets = dg.multi_asset(
        pool=pool,
        specs=[
            dg.AssetSpec(
                NORMALIZED_CUSTOMERS,
                deps=[RAW_PATIENTS],
                description="One AR customer per pushable patient (or guarantor).",
                kinds=kinds,
            ),
            dg.AssetSpec(
                NORMALIZED_LEDGER,
                deps=[RAW_TRANSACTIONS, RAW_PATIENTS],
                description=(
                    "Every ledger entry of the practice as last loaded, voids included: "
                    "the dbt project's source."
                ),
                kinds=kinds,
            ),
            dg.AssetSpec(
                QUARANTINE,
                deps=[RAW_TRANSACTIONS, RAW_PATIENTS],
                description="Source rows that cannot become records, each with its reason.",
                kinds=kinds,
            ),
        ],
        check_specs=partitioned_checks(
            [
                dg.AssetCheckSpec(
                    QUARANTINE_SHARE_CHECK,
                    asset=QUARANTINE,
                    description=(
                        "This run quarantined at most the practice's threshold of its rows."
                    ),
                )
            ],
            partitions,
        ),
        partitions_def=partitions,
        group_name="normalize",
        can_subset=False,
    )
    return [as_assets(normalized)]


def normalized(
    context: dg.AssetExecutionContext,
    config: NormalizeConfig,
    sources: Sources,
    warehouse: WarehouseResource,
    settings: Settings,
) -> Iterator[dg.MaterializeResult[Any] | dg.AssetCheckResult]:
    with practice_step(context, settings, warehouse, sources.open) as (practice, store, source):
        outcome = normalize_practice(
            store,
            source,
            practice,
            settings=practice.mapping,
            full_deletion_scan=config.full_deletion_scan,
        )
    yield from _results(outcome, practice.quarantine_threshold)


def _results(
    outcome: NormalizeOutcome, threshold: float
) -> Iterator[dg.MaterializeResult[Any] | dg.AssetCheckResult]:
    """The run's outcome as the three assets' metadata and the quarantine's check."""
    yield dg.MaterializeResult(
        asset_key=NORMALIZED_CUSTOMERS, metadata=asdict(outcome.customer_counts)
    )
    yield dg.MaterializeResult(asset_key=NORMALIZED_LEDGER, metadata=asdict(outcome.ledger_counts))
    yield dg.MaterializeResult(
        asset_key=QUARANTINE,
        metadata={
            "quarantined_this_run": outcome.quarantined_this_run,
            "open_in_quarantine": outcome.open_in_quarantine,
            "by_reason": dg.MetadataValue.json(outcome.open_by_reason),
        },
    )
    share = outcome.quarantine_share
    yield dg.AssetCheckResult(
        check_name=QUARANTINE_SHARE_CHECK,
        asset_key=QUARANTINE,
        passed=share <= threshold,
        metadata={
            "share": round(share, 6),
            "threshold": threshold,
            "rows_read": outcome.rows_read,
            "quarantined": outcome.quarantined_this_run,
            "by_reason": dg.MetadataValue.json(outcome.quarantined_by_reason),
        },
    )
