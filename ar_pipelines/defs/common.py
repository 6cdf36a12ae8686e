"""What every asset module shares: the practice partitions, keys, retries and run config."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import dagster as dg
import httpx
import sqlalchemy.exc

from ar_pipelines.client import (
    ApiConnectionError,
    InternalServerError,
    RateLimitError,
    RequestTimeoutError,
)
from ar_pipelines.defs.practices import Practice, PracticesConfig
from ar_pipelines.defs.resources import Settings
from ar_pipelines.sources.base import DailyQuotaSpent, SourceNotReady, SourceUnavailable

# Run tag carrying the name of the variable that holds the practice's AR key; dagster.yaml
# limits runs per distinct value, so one key is never driven by two runs at once.
AR_KEY_TAG = "ar_pipelines/ar_key"

RAW_PATIENTS = dg.AssetKey(["raw", "patients"])
RAW_TRANSACTIONS = dg.AssetKey(["raw", "transactions"])
NORMALIZED_CUSTOMERS = dg.AssetKey(["normalized", "customers"])
# The dbt project's source: this key is also what dagster-dbt names the source.
NORMALIZED_LEDGER = dg.AssetKey(["normalized", "ledger_entries"])
QUARANTINE = dg.AssetKey(["normalized", "quarantine"])
PUSHED_CUSTOMERS = dg.AssetKey(["ar", "customers"])
PUSHED_LEDGER = dg.AssetKey(["ar", "ledger_entries"])
AR_STATEMENTS = dg.AssetKey(["ar", "statements"])
LOCAL_STATEMENTS = dg.AssetKey(["statements"])  # the dbt mart
RECONCILIATION = dg.AssetKey(["reconciliation"])

# Sources, AR and the warehouse fail transiently (timeouts, restarts, rate limits): such a
# step is tried again, later each time. Any other error (a refused key, a bad file) fails
# it at once. A push that had to stop is transient when what stopped it is.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ApiConnectionError,
    RateLimitError,
    InternalServerError,
    RequestTimeoutError,
    httpx.TransportError,
    sqlalchemy.exc.OperationalError,
    SourceUnavailable,
    SourceNotReady,  # Sikka is loading the office: it will have finished later
)
# Transient in kind, but not within a run's retries: tomorrow's run reads again.
NOT_RETRIED: tuple[type[BaseException], ...] = (DailyQuotaSpent,)
MAX_RETRIES = 3
RETRY_SECONDS_ENV = "AR_RETRY_SECONDS"
DEFAULT_RETRY_SECONDS = 10.0


@contextmanager
def retried_when_transient(
    context: dg.AssetExecutionContext | dg.OpExecutionContext,
) -> Iterator[None]:
    """Ask Dagster to run the step again, with exponential back-off, when what failed
    is transient."""
    try:
        yield
    except Exception as err:
        if not is_transient(err):
            raise
        base = float(os.environ.get(RETRY_SECONDS_ENV) or DEFAULT_RETRY_SECONDS)
        context.log.warning(f"transient failure, the step will be retried: {err}")
        raise dg.RetryRequested(
            max_retries=MAX_RETRIES, seconds_to_wait=base * 2**context.retry_number
        ) from err


def practice_partitions(config: PracticesConfig) -> dg.StaticPartitionsDefinition:
    return dg.StaticPartitionsDefinition(config.ids)


def tagged_by_ar_key(
    partitions: dg.PartitionsDefinition, config: PracticesConfig
) -> dg.PartitionedConfig[dg.PartitionsDefinition]:
    """Every run of a practice, however launched (schedule, UI, backfill), carries the
    name of its AR key's variable, which dagster.yaml limits to one run at a time."""
    keys = {practice.id: practice.ar_key_env for practice in config.practices}
    return dg.PartitionedConfig(
        partitions_def=partitions,
        run_config_for_partition_key_fn=lambda _key: {},
        tags_for_partition_key_fn=lambda key: {AR_KEY_TAG: keys[key]},
    )


def practice_of(
    context: dg.AssetExecutionContext | dg.OpExecutionContext, settings: Settings
) -> Practice:
    return settings.practice(context.partition_key)


def utc_now() -> datetime:
    """Timestamps stored in the warehouse: naive UTC, the same on DuckDB and Postgres."""
    return datetime.now(UTC).replace(tzinfo=None)


def is_transient(error: BaseException) -> bool:
    """Whether ``error``, or what caused it (a push that stopped says why), is transient;
    never when anything in the chain is a failure no retry within the run can get past."""
    chain: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None:
        chain.append(seen)
        seen = seen.__cause__
    if any(isinstance(link, NOT_RETRIED) for link in chain):
        return False
    return any(isinstance(link, TRANSIENT_ERRORS) for link in chain)


class ExtractConfig(dg.Config):
    """``full_refresh``: read every source row again instead of those loaded since the cursor."""

    full_refresh: bool = False


class PushConfig(dg.Config):
    """``full_repush``: send every record again, changed or not."""

    full_repush: bool = False
