"""The sensors that raise alerts (``alerts.jsonl`` and the channels of ``Notifications``):

- ``reconciliation_failures``: one alert per reconciliation that is not clean, for its
  practice, with its counts, its first mismatches, the run and the report;
- ``run_failures``: one alert per failed run of the nightly sync, the weekly full
  reconciliation, the enrollment job or a repair, naming the steps that failed and why (a
  run that failed only on an unclean reconciliation is left to the sensor above: one alert
  each; a push plan the guard refused fails its run, and is alerted here);
- ``stale_sources``: an alert when Sikka reports that a practice's office is not
  refreshing, or when a practice's last clean reconciliation is older than
  ``AR_STALE_AFTER_HOURS`` (26 hours by default).

Sending is at least once: a sensor advances its cursor only after the alerts of a tick
were written and sent (a tick that fails repeats them), and a channel that fails is
retried, then logged, without holding the sensor back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from ar_pipelines.defs.automation import NIGHTLY_JOB, WEEKLY_JOB
from ar_pipelines.defs.common import RECONCILIATION, reconciliations_since
from ar_pipelines.defs.enroll import ENROLL_JOB
from ar_pipelines.defs.health import HEALTH_JOB, practice_health_rows
from ar_pipelines.defs.notifications import Notifications, delivered_to, raise_alert
from ar_pipelines.defs.reconciliation import stale_after
from ar_pipelines.defs.repair import REPAIR_JOB
from ar_pipelines.defs.resources import Settings
from ar_pipelines.health import PracticeHealth, describe_age
from ar_pipelines.notify import Message

COUNTS = ("matched", "amount_mismatch", "paid_mismatch", "missing_in_ar", "unexpected_in_ar")
PARTITION_TAG = "dagster/partition"
WATCHED_JOBS = frozenset({NIGHTLY_JOB, WEEKLY_JOB, ENROLL_JOB, REPAIR_JOB})
# The step of the reconciliation asset: a run that failed there only because its check
# found the reconciliation not clean is reported by ``reconciliation_failures``.
RECONCILIATION_STEP = "reconciliation"
MAX_ERROR_LINES = 10
# On the health page's refresh a reconciliation alert requests: the practices alerted on.
ALERTED_TAG = "ar_pipelines/alerted"


@dg.sensor(
    name="reconciliation_failures",
    job_name=HEALTH_JOB,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts on each reconciliation that is not clean, with its counts and report.",
)
def reconciliation_failures(
    context: dg.SensorEvaluationContext, settings: Settings, notifications: Notifications
) -> dg.SkipReason | dg.SensorResult:
    records = reconciliations_since(context)
    if not records:
        return dg.SkipReason("no reconciliation since the last tick")
    verdicts: list[str] = []
    alerted: list[dg.AssetObservation] = []
    for record in records:
        verdict, observation = _reconciliation(
            context, record.event_log_entry, settings, notifications
        )
        verdicts.append(verdict)
        if observation is not None:
            alerted.append(observation)
    # Moved only once the alerts are sent: a tick that fails repeats them, never loses them.
    cursor = str(records[-1].storage_id)
    if not alerted:
        context.update_cursor(cursor)
        return dg.SkipReason("; ".join(verdicts))
    # A tick that alerted is not a skipped one: it records, on the reconciliation of each
    # practice it alerted for, what it found and where the alert went, and it requests a
    # refresh of the practices' health page, which then shows the practice not clean.
    context.log.info("; ".join(verdicts))
    refresh = dg.RunRequest(
        run_key=f"reconciliation_alerts:{cursor}",
        job_name=HEALTH_JOB,
        tags={ALERTED_TAG: ",".join(sorted({str(o.partition) for o in alerted}))},
    )
    return dg.SensorResult(run_requests=[refresh], cursor=cursor, asset_events=alerted)


def _reconciliation(
    context: dg.SensorEvaluationContext,
    event: dg.EventLogEntry,
    settings: Settings,
    notifications: Notifications,
) -> tuple[str, dg.AssetObservation | None]:
    """Alerts on a reconciliation that is not clean; says what it found."""
    materialization = event.asset_materialization
    if materialization is None:
        return "an event without a materialization", None
    metadata = {key: value.value for key, value in materialization.metadata.items()}
    practice = materialization.partition or "?"
    if metadata.get("clean") is True:
        return f"practice {practice}: reconciliation clean", None
    counts = {status: _count(metadata.get(status)) for status in COUNTS}
    report = str(metadata.get("report", "")) or None
    mismatches = metadata.get("first_mismatches")
    details = [_mismatch_line(row) for row in mismatches] if isinstance(mismatches, list) else []
    deliveries = raise_alert(
        context.log,
        notifications,
        settings,
        kind="reconciliation_not_clean",
        message=Message(
            practice_id=practice,
            title="reconciliation NOT clean",
            counts=counts,
            details=details,
            run_url=notifications.run_url(event.run_id),
            report_path=report,
        ),
        run_id=event.run_id,
        at=datetime.fromtimestamp(event.timestamp, tz=UTC),
    )
    sent = delivered_to(deliveries)
    verdict = f"practice {practice}: reconciliation NOT clean {counts}; report {report}; {sent}"
    context.log.error(verdict)
    observation = dg.AssetObservation(
        asset_key=RECONCILIATION,
        partition=materialization.partition,
        metadata={
            "alert": "reconciliation NOT clean",
            "run_id": event.run_id,
            **counts,
            "delivered": sent,
        },
    )
    return verdict, observation


def _count(value: object) -> int:
    return value if isinstance(value, int) else 0


def _mismatch_line(row: Any) -> str:
    """One mismatch of the reconciliation's metadata as a line: the statement, its status,
    and both sides' amount and paid."""
    if not isinstance(row, dict):
        return str(row)
    where = ", ".join(
        str(row[name]) for name in ("customer_external_id", "period_start") if row.get(name)
    )
    return (
        f"{row.get('key')}{f' ({where})' if where else ''}: {row.get('status')}; "
        f"amount local {row.get('local_amount')} / AR {row.get('ar_amount')}, "
        f"paid local {row.get('local_paid')} / AR {row.get('ar_paid')}"
    )


@dg.run_failure_sensor(
    name="run_failures",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Alerts on each failed run of the nightly sync, the weekly full reconciliation, the "
        "enrollment job or a repair: the practice, the steps that failed and why."
    ),
)
def run_failures(
    context: dg.RunFailureSensorContext, settings: Settings, notifications: Notifications
) -> dg.SkipReason | None:
    run = context.dagster_run
    if run.job_name not in WATCHED_JOBS:
        return dg.SkipReason(f"run {run.run_id} of {run.job_name}: not a job alerts watch")
    failures = context.get_step_failure_events()
    if _only_unclean_reconciliation(failures):
        return dg.SkipReason(
            f"run {run.run_id}: failed on its reconciliation's check, which "
            "reconciliation_failures reports"
        )
    practice = run.tags.get(PARTITION_TAG, "?")
    details = [_step_failure_line(event) for event in failures[:MAX_ERROR_LINES]]
    if not details and context.failure_event.message:
        details = [context.failure_event.message]
    deliveries = raise_alert(
        context.log,
        notifications,
        settings,
        kind="run_failed",
        message=Message(
            practice_id=practice,
            title=f"{run.job_name} run failed",
            counts={"steps_failed": len(failures)},
            details=details,
            run_url=notifications.run_url(run.run_id),
        ),
        run_id=run.run_id,
        record={"job": run.job_name},
    )
    context.log.error(
        f"practice {practice}: {run.job_name} run {run.run_id} failed "
        f"({len(failures)} steps); {delivered_to(deliveries)}"
    )
    return None


def _step_failure_line(event: dg.DagsterEvent) -> str:
    """The step and the first line of the innermost cause of its error: what a reader needs
    first (Dagster's own wrapper says only which op failed)."""
    error = getattr(event.event_specific_data, "error", None)
    while error is not None and error.cause is not None:
        error = error.cause
    text = error.message if error is not None else (event.message or "")
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return f"{event.step_key}: {first}"


def _only_unclean_reconciliation(failures: Sequence[dg.DagsterEvent]) -> bool:
    """Whether the run failed only because the reconciliation's blocking check failed."""
    if not failures:
        return False
    for event in failures:
        error = getattr(event.event_specific_data, "error", None)
        if event.step_key != RECONCILIATION_STEP or error is None:
            return False
        if error.cls_name != "DagsterAssetCheckFailedError":
            return False
    return True


STALE_INTERVAL_SECONDS = 15 * 60


@dg.sensor(
    name="stale_sources",
    minimum_interval_seconds=STALE_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Alerts on a practice whose Sikka office reports it is not refreshing, or whose last "
        "clean reconciliation is older than AR_STALE_AFTER_HOURS (default 26); once each."
    ),
)
def stale_sources(
    context: dg.SensorEvaluationContext, settings: Settings, notifications: Notifications
) -> dg.SkipReason:
    now = datetime.now(UTC)
    seen: dict[str, dict[str, str]] = json.loads(context.cursor) if context.cursor else {}
    rows = practice_health_rows(context.instance, settings.practices())
    verdicts = []
    for row in rows:
        before = seen.get(row.practice_id, {})
        found = staleness(row, now, stale_after())
        for kind, (occurrence, reason) in found.items():
            if before.get(kind) == occurrence:
                continue  # alerted already: once per occurrence
            deliveries = raise_alert(
                context.log,
                notifications,
                settings,
                kind=kind,
                message=Message(
                    practice_id=row.practice_id,
                    title=STALE_TITLES[kind],
                    details=[reason, *_stale_context(row)],
                    run_url=notifications.run_url(row.last_run_id) if row.last_run_id else None,
                ),
                run_id=row.last_run_id,
                at=now,
            )
            verdicts.append(f"practice {row.practice_id}: {reason}; {delivered_to(deliveries)}")
            context.log.error(verdicts[-1])
        # What is stale now; an occurrence that ended is forgotten, so its return alerts.
        seen[row.practice_id] = {kind: occurrence for kind, (occurrence, _) in found.items()}
    context.update_cursor(json.dumps(seen, sort_keys=True))
    if verdicts:
        return dg.SkipReason("; ".join(verdicts))
    known = [f"{practice} {kind}" for practice, kinds in seen.items() for kind in kinds]
    if known:
        return dg.SkipReason(f"nothing new; already alerted: {', '.join(known)}")
    return dg.SkipReason("every source refreshing, every practice fresh")


SOURCE_NOT_REFRESHING = "source_not_refreshing"
RECONCILIATION_STALE = "reconciliation_stale"
STALE_TITLES = {
    SOURCE_NOT_REFRESHING: "source not refreshing",
    RECONCILIATION_STALE: "no clean reconciliation lately",
}


def staleness(row: PracticeHealth, now: datetime, max_age: timedelta) -> dict[str, tuple[str, str]]:
    """What is stale about a practice at ``now``: per kind, the occurrence (what names it:
    the extraction that read the stale status, the clean reconciliation that grew old) and
    the reason in words. A practice never reconciled clean is left to the alerts on its
    runs and reconciliations."""
    found: dict[str, tuple[str, str]] = {}
    if row.source_stale:
        occurrence = row.extracted_at.isoformat() if row.extracted_at else "unknown"
        reason = f"Sikka reports the office is not refreshing: {row.source_warning or ''}"
        found[SOURCE_NOT_REFRESHING] = (occurrence, reason.rstrip(": "))
    if row.last_clean_at is not None and now - row.last_clean_at > max_age:
        found[RECONCILIATION_STALE] = (
            row.last_clean_at.isoformat(),
            f"last clean reconciliation {describe_age(now - row.last_clean_at)} ago, "
            f"more than {describe_age(max_age)}",
        )
    return found


def _stale_context(row: PracticeHealth) -> list[str]:
    lines = []
    if row.source_data_loaded:
        lines.append(f"source data last loaded {row.source_data_loaded}")
    if row.last_clean_at is not None:
        lines.append(f"last clean reconciliation {row.last_clean_at.isoformat()}")
    if row.last_run_status:
        lines.append(f"last run {row.last_run_status} ({row.last_run_job})")
    return lines
