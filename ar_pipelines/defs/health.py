"""``practices_health``: how each practice stands, on one page and in one table.

The asset reads nothing but the Dagster instance: for each practice of the practices file
(including those never run) the latest run of the nightly sync, the weekly
reconciliation or the enrollment job, and the latest materializations of its
partition's assets, whose metadata says what each stage did. It writes
``practices.html`` into the reports directory and records the same rows as a table in
its own metadata. The sensor ``practices_health_refresh`` asks for a run of
``practices_health_job`` each time runs of those jobs end, so the page follows the
practices without a schedule.

Where each column comes from (the metadata the stages record):

- last run: the run records of the three jobs, tagged ``dagster/partition`` = the
  practice;
- quarantine: the last normalization's ``normalized/quarantine`` (``quarantined_this_run``,
  ``open_in_quarantine``) with the rows it read, from ``normalized/ledger_entries``
  (``transactions_read``) and ``normalized/customers`` (``patients_read``) of the same run:
  the share the quarantine's asset check compares with the practice's threshold;
- pushes refused: ``rejected`` (and ``dead_letter_size``) in the ``push`` summary of the
  last ``ar/customers`` and ``ar/ledger_entries``, added up;
- reconciliation: the last ``reconciliation``'s ``clean`` and counts, and the last one
  whose ``clean`` was true;
- outstanding in AR: ``totals.ar_outstanding`` of the last reconciliation's ``summary``:
  the warehouse's exact sum over every statement of the practice's stored reconciliation
  (each as AR last read it back), written as text, read back as ``Decimal``;
- source: the last ``raw/transactions``'s ``source_sync_status``, ``source_data_loaded``
  and ``stale_source_warning`` (set only when Sikka reports the office not refreshing).
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import dagster as dg

from ar_pipelines.clock import utc_now
from ar_pipelines.defs.automation import NIGHTLY_JOB, WEEKLY_JOB
from ar_pipelines.defs.common import (
    NORMALIZED_CUSTOMERS,
    NORMALIZED_LEDGER,
    PUSHED_CUSTOMERS,
    PUSHED_LEDGER,
    QUARANTINE,
    RAW_TRANSACTIONS,
    RECONCILIATION,
)
from ar_pipelines.defs.enroll import ENROLL_JOB
from ar_pipelines.defs.practices import Practice, PracticesConfig
from ar_pipelines.defs.reconciliation import stale_after
from ar_pipelines.defs.repair import REPAIR_JOB
from ar_pipelines.defs.resources import Settings
from ar_pipelines.health import (
    COUNT_NAMES,
    PracticeHealth,
    problems,
    stale_reasons,
    write_page,
)

PRACTICES_HEALTH = dg.AssetKey(["practices_health"])
# The page's group: the practice jobs select every asset but this group's (automation).
HEALTH_GROUP = "health"
HEALTH_JOB = "practices_health_job"
HEALTH_SENSOR = "practices_health_refresh"
# The runs of a practice the page follows; a run of any of them ending refreshes it.
MONITORED_JOBS = (NIGHTLY_JOB, WEEKLY_JOB, ENROLL_JOB, REPAIR_JOB)
PARTITION_TAG = "dagster/partition"
# Tag of a refresh run: the run whose end asked for it.
AFTER_RUN_TAG = "ar_pipelines/after_run"
RunEnd = Literal[
    dg.DagsterEventType.RUN_SUCCESS,
    dg.DagsterEventType.RUN_FAILURE,
    dg.DagsterEventType.RUN_CANCELED,
]
RUN_ENDS: tuple[RunEnd, ...] = (
    dg.DagsterEventType.RUN_SUCCESS,
    dg.DagsterEventType.RUN_FAILURE,
    dg.DagsterEventType.RUN_CANCELED,
)
# Run ends read per kind per tick; a longer backlog is read over several ticks.
ENDS_PER_TICK = 500
# Reconciliations read per page while looking back for the last clean one.
LOOK_BACK_PAGE = 100


def practice_health_rows(
    instance: dg.DagsterInstance, practices: PracticesConfig
) -> list[PracticeHealth]:
    """A row per practice of ``practices``, in the file's order, from what ``instance``
    recorded of its runs and of its partition's materializations."""
    return [_practice_health(instance, practice) for practice in practices.practices]


def _practice_health(instance: dg.DagsterInstance, practice: Practice) -> PracticeHealth:
    pid = practice.id
    return PracticeHealth(
        practice_id=pid,
        # The practices file has no display name today; a ``name`` field would show here.
        name=getattr(practice, "name", None),
        quarantine_threshold=practice.quarantine_threshold,
        **_last_run(instance, pid),
        **_quarantine(instance, pid),
        **_pushes(instance, pid),
        **_reconciliation(instance, pid),
        **_source(instance, pid),
    )


@dataclass(frozen=True)
class _Materialized:
    """A materialization's time, run and metadata values."""

    at: datetime
    run_id: str
    metadata: Mapping[str, Any]


def _latest(instance: dg.DagsterInstance, key: dg.AssetKey, pid: str) -> _Materialized | None:
    found = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[pid]), limit=1, ascending=False
    ).records
    return _materialized(found[0]) if found else None


def _materialized(record: dg.EventLogRecord) -> _Materialized:
    materialization = record.asset_materialization
    metadata = materialization.metadata if materialization is not None else {}
    return _Materialized(
        at=_utc(record.timestamp),
        run_id=record.run_id,
        metadata={name: value.value for name, value in metadata.items()},
    )


def _last_run(instance: dg.DagsterInstance, pid: str) -> dict[str, Any]:
    """The latest run (by creation) of the monitored jobs for the practice."""
    latest: dg.RunRecord | None = None
    for job in MONITORED_JOBS:
        found = instance.get_run_records(
            filters=dg.RunsFilter(job_name=job, tags={PARTITION_TAG: pid}), limit=1
        )
        if found and (latest is None or found[0].create_timestamp > latest.create_timestamp):
            latest = found[0]
    if latest is None:
        return {}
    run = latest.dagster_run
    return {
        "last_run_id": run.run_id,
        "last_run_job": run.job_name,
        "last_run_status": run.status.value,
        "last_run_ended_at": _utc(latest.end_time) if latest.end_time is not None else None,
    }


def _quarantine(instance: dg.DagsterInstance, pid: str) -> dict[str, Any]:
    quarantine = _latest(instance, QUARANTINE, pid)
    if quarantine is None:
        return {}
    quarantined = _int(quarantine.metadata.get("quarantined_this_run"))
    found: dict[str, Any] = {
        "normalized_at": quarantine.at,
        "quarantined": quarantined,
        "open_in_quarantine": _int(quarantine.metadata.get("open_in_quarantine")),
    }
    # The three are materialized by one step: the rows read are in the other two.
    ledger = _latest(instance, NORMALIZED_LEDGER, pid)
    customers = _latest(instance, NORMALIZED_CUSTOMERS, pid)
    if ledger is None or customers is None or quarantined is None:
        return found
    if not ledger.run_id == customers.run_id == quarantine.run_id:
        return found
    transactions = _int(ledger.metadata.get("transactions_read"))
    patients = _int(customers.metadata.get("patients_read"))
    if transactions is not None and patients is not None:
        read = transactions + patients
        found["quarantine_share"] = quarantined / read if read else 0.0
    return found


def _pushes(instance: dg.DagsterInstance, pid: str) -> dict[str, Any]:
    summaries = []
    at = []
    for key in (PUSHED_CUSTOMERS, PUSHED_LEDGER):
        pushed = _latest(instance, key, pid)
        if pushed is not None and isinstance(pushed.metadata.get("push"), Mapping):
            summaries.append(pushed.metadata["push"])
            at.append(pushed.at)
    if not summaries:
        return {}
    return {
        "pushed_at": max(at),
        "pushes_refused": sum(_int(summary.get("rejected")) or 0 for summary in summaries),
        "in_dead_letter": sum(_int(summary.get("dead_letter_size")) or 0 for summary in summaries),
    }


def _reconciliation(instance: dg.DagsterInstance, pid: str) -> dict[str, Any]:
    latest = _latest(instance, RECONCILIATION, pid)
    if latest is None:
        return {}
    clean = latest.metadata.get("clean") is True
    found: dict[str, Any] = {
        "reconciled_at": latest.at,
        "reconciliation_clean": clean,
        **{name: _int(latest.metadata.get(name)) for name in COUNT_NAMES},
        "ar_outstanding": _ar_outstanding(latest.metadata.get("summary")),
        "last_clean_at": latest.at if clean else _last_clean(instance, pid),
    }
    return found


def _last_clean(instance: dg.DagsterInstance, pid: str) -> datetime | None:
    """When the practice last reconciled clean: its reconciliations read back from the
    newest, a page at a time, until a clean one."""
    cursor = None
    while True:
        page = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=RECONCILIATION, asset_partitions=[pid]),
            limit=LOOK_BACK_PAGE,
            cursor=cursor,
            ascending=False,
        )
        for record in page.records:
            if _materialized(record).metadata.get("clean") is True:
                return _utc(record.timestamp)
        if not page.has_more:
            return None
        cursor = page.cursor


def _ar_outstanding(summary: object) -> Decimal | None:
    """AR's outstanding total from a reconciliation's summary (money as text)."""
    if not isinstance(summary, Mapping):
        return None
    totals = summary.get("totals")
    text = totals.get("ar_outstanding") if isinstance(totals, Mapping) else None
    if not isinstance(text, str):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _source(instance: dg.DagsterInstance, pid: str) -> dict[str, Any]:
    extracted = _latest(instance, RAW_TRANSACTIONS, pid)
    if extracted is None:
        return {}
    warning = extracted.metadata.get("stale_source_warning")
    return {
        "extracted_at": extracted.at,
        "source_sync_status": _text(extracted.metadata.get("source_sync_status")),
        "source_data_loaded": _text(extracted.metadata.get("source_data_loaded")),
        "source_warning": _text(warning),
        # The extraction records the warning only when Sikka reports no refresh.
        "source_stale": warning is not None,
    }


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


# The table in the asset's metadata: a column per field of the row, with Dagster's type
# names; money and times go as text (two decimals; ISO 8601 UTC).
_TYPES = {"bool": "bool", "bool | None": "bool", "int | None": "int", "float | None": "float"}
TABLE_COLUMNS = tuple((f.name, _TYPES.get(str(f.type), "string")) for f in fields(PracticeHealth))


def table_schema() -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, type=kind, description=_COLUMN_HELP.get(name))
            for name, kind in TABLE_COLUMNS
        ]
        + [
            dg.TableColumn("reconciliation", description="clean, NOT clean or never"),
            dg.TableColumn("problems", description="What is wrong, '; '-separated"),
        ]
    )


_COLUMN_HELP = {
    "last_run_status": "SUCCESS, FAILURE, CANCELED, STARTED... of the latest run",
    "quarantine_share": "Share of the rows the last normalization read that it quarantined",
    "pushes_refused": "Records AR refused in the last push of customers and ledger entries",
    "ar_outstanding": "AR's outstanding over every statement, as of the last reconciliation",
    "source_stale": "Sikka reports the office is not refreshing",
}


def table_record(row: PracticeHealth, found: list[str]) -> dg.TableRecord:
    data: dict[str, str | int | float | bool | None] = {}
    for name, _ in TABLE_COLUMNS:
        value = getattr(row, name)
        if isinstance(value, datetime):
            data[name] = value.astimezone(UTC).isoformat()
        elif isinstance(value, Decimal):
            data[name] = f"{value:.2f}"
        else:
            data[name] = value
    data["reconciliation"] = row.reconciliation_status
    data["problems"] = "; ".join(found)
    return dg.TableRecord(data)


class HealthPage(dg.Config):
    """Nothing to set by default: the age past which a last clean reconciliation is
    stale is ``AR_STALE_AFTER_HOURS`` (26 hours), as the alerts have it;
    ``stale_after_hours`` overrides it for one run."""

    stale_after_hours: float | None = None


def health_definitions(config: PracticesConfig) -> dg.Definitions:
    """The ``practices_health`` asset over the practices of ``config``, the job that
    materializes it, and the sensor that asks for that job when a practice's run ends.
    The asset needs the ``settings`` resource (the reports directory)."""
    practices = config  # the asset's own run config is named ``config``

    @dg.asset(
        key=PRACTICES_HEALTH,
        group_name=HEALTH_GROUP,
        kinds={"html", "dagster"},
        description=(
            "How each practice stands: its last run, quarantine, refused pushes, "
            "reconciliation, AR's outstanding and its source's freshness; practices.html "
            "in the reports directory, a row per practice of the practices file."
        ),
    )
    def practices_health(
        context: dg.AssetExecutionContext, config: HealthPage, settings: Settings
    ) -> dg.MaterializeResult[Any]:
        now = utc_now()
        max_clean_age = stale_after()
        if config.stale_after_hours is not None:
            max_clean_age = timedelta(hours=config.stale_after_hours)
        rows = practice_health_rows(context.instance, practices)
        path = write_page(
            rows, settings.reports_path, generated_at=now, max_clean_age=max_clean_age
        )
        found = {row.practice_id: problems(row, now, max_clean_age) for row in rows}
        stale = [row.practice_id for row in rows if stale_reasons(row, now, max_clean_age)]
        return dg.MaterializeResult(
            metadata={
                "practices": dg.MetadataValue.table(
                    records=[table_record(row, found[row.practice_id]) for row in rows],
                    schema=table_schema(),
                ),
                "page": dg.MetadataValue.path(str(path)),
                "practices_count": len(rows),
                "not_clean": sum(row.reconciliation_clean is False for row in rows),
                "failed": sum(row.last_run_failed for row in rows),
                "stale": len(stale),
                "with_problems": sum(bool(listed) for listed in found.values()),
                "dagster/row_count": len(rows),
            }
        )

    job = dg.define_asset_job(
        HEALTH_JOB,
        selection=dg.AssetSelection.assets(PRACTICES_HEALTH),
        description="Rewrites practices.html and the practices_health table.",
    )

    @dg.sensor(
        name=HEALTH_SENSOR,
        job=job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description=(
            f"Asks for {HEALTH_JOB} once runs of {', '.join(MONITORED_JOBS)} have ended "
            "(success, failure or cancellation): one refresh per tick, keyed by the last "
            "run that ended, so that a run's end asks for one refresh at most."
        ),
    )
    def practices_health_refresh(
        context: dg.SensorEvaluationContext,
    ) -> dg.SensorResult | dg.SkipReason:
        if context.cursor is None:
            # Started (or reset): from now on; history is already on the page, or a run
            # of the job by hand puts it there.
            newest = _newest_end(context.instance)
            context.update_cursor(str(newest))
            return dg.SkipReason(f"started: refreshes after runs that end from now on ({newest})")
        ended, cursor = runs_ended_since(context.instance, int(context.cursor))
        watched = [entry for entry in ended if entry.job_name in MONITORED_JOBS]
        if not watched:
            context.update_cursor(str(cursor))
            return dg.SkipReason("no run of a practice has ended since the last tick")
        last = watched[-1]
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(run_key=f"after_run:{last.run_id}", tags={AFTER_RUN_TAG: last.run_id})
            ],
            cursor=str(cursor),
        )

    return dg.Definitions(assets=[practices_health], jobs=[job], sensors=[practices_health_refresh])


def runs_ended_since(
    instance: dg.DagsterInstance, after: int
) -> tuple[list[dg.EventLogEntry], int]:
    """The run ends (success, failure, cancellation) of any job stored after the event
    ``after``, oldest first, and the event to read from next time. At most
    ``ENDS_PER_TICK`` of each kind: where a kind has more, this read stops at the last one
    of it read, and the ends past that point, of every kind, wait for the next read."""
    read: list[dg.EventLogRecord] = []
    bound: int | None = None
    for kind in RUN_ENDS:
        records = instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(kind, after_storage_id=after),
            limit=ENDS_PER_TICK,
            ascending=True,
        ).records
        read.extend(records)
        if len(records) == ENDS_PER_TICK:
            last = records[-1].storage_id
            bound = last if bound is None else min(bound, last)
    kept = sorted(
        (record for record in read if bound is None or record.storage_id <= bound),
        key=lambda record: record.storage_id,
    )
    cursor = bound if bound is not None else max((r.storage_id for r in kept), default=after)
    return [record.event_log_entry for record in kept], cursor


def _newest_end(instance: dg.DagsterInstance) -> int:
    """The storage id of the newest run end of any kind (0 when none is stored)."""
    newest = 0
    for kind in RUN_ENDS:
        records = instance.fetch_run_status_changes(kind, limit=1, ascending=False).records
        if records:
            newest = max(newest, records[0].storage_id)
    return newest
