"""The nightly sync and the weekly full reconciliation: each a job and a schedule that
starts a run per practice partition. (The sensors that raise alerts are in ``alerts``.)

Each night verifies what that night changed: the statements of the customers its push
touched. Each week a full run verifies everything: it reads back and reconciles every
statement AR holds, rebuilds every local statement, and scans the source in full for
deleted rows (the key scan of a database; a full read of the REST API).
"""

import os
from collections.abc import Iterator
from typing import Any

import dagster as dg

from ar_pipelines.defs.common import AR_KEY_TAG, tagged_by_ar_key
from ar_pipelines.defs.practices import Practice, PracticesConfig

TIMEZONE_ENV = "AR_SCHEDULE_TIMEZONE"
NIGHTLY_JOB = "nightly_sync"
NIGHTLY_CRON = "0 2 * * *"
WEEKLY_JOB = "weekly_reconciliation"
WEEKLY_CRON = "0 3 * * 0"  # Sundays at 03:00
# A practice's assets: every asset but the health page over all practices (group health),
# which refreshes after the runs on its own.
PRACTICE_ASSETS = dg.AssetSelection.all() - dg.AssetSelection.groups("health")


def nightly_sync(partitions: dg.PartitionsDefinition, config: PracticesConfig) -> dg.Definitions:
    """The nightly job, a practice's whole sync, and the schedule that starts it."""
    job = dg.define_asset_job(
        NIGHTLY_JOB,
        selection=PRACTICE_ASSETS,
        description="A practice's whole sync: extract, normalize, push, statements, reconcile.",
        config=tagged_by_ar_key(partitions, config),
    )
    schedule = _every_practice(
        NIGHTLY_JOB,
        config,
        name="nightly_sync_schedule",
        cron=NIGHTLY_CRON,
        description="Every practice at 02:00; runs sharing an AR key queue behind each other.",
    )
    return dg.Definitions(jobs=[job], schedules=[schedule])


def weekly_reconciliation(
    partitions: dg.PartitionsDefinition, config: PracticesConfig
) -> dg.Definitions:
    """The weekly job, a practice's whole sync verified in full, and its schedule."""
    job = dg.define_asset_job(
        WEEKLY_JOB,
        selection=PRACTICE_ASSETS,
        description=(
            "A practice's whole sync, verified in full: the source scanned for deleted rows, "
            "every local statement rebuilt, every statement in AR read back and reconciled."
        ),
        config=tagged_by_ar_key(partitions, config, full_run_config),
    )
    schedule = _every_practice(
        WEEKLY_JOB,
        config,
        name="weekly_reconciliation_schedule",
        cron=WEEKLY_CRON,
        description="Every practice on Sundays at 03:00, after the night's sync.",
    )
    return dg.Definitions(jobs=[job], schedules=[schedule])


def full_run_config(practice: Practice) -> dict[str, Any]:
    """The run config of a whole sync verified in full, for ``practice``: the full
    deletion scan (a full read where the source is the REST API, whose keys cannot be
    scanned cheaply), every local statement rebuilt, every statement read back."""
    ops: dict[str, Any] = {
        "normalized": {"config": {"full_deletion_scan": True}},
        "statement_models": {"config": {"dbt_full_refresh": True}},
        "ar__statements": {"config": {"full_reconciliation": True}},
    }
    if practice.sikka is not None:
        ops["raw__transactions"] = {"config": {"full_refresh": True}}
    return {"ops": ops}


def _every_practice(
    job_name: str,
    config: PracticesConfig,
    *,
    name: str,
    cron: str,
    description: str,
) -> dg.ScheduleDefinition:
    """A schedule, stopped until turned on, that starts the job for every practice."""
    keys = {practice.id: practice.ar_key_env for practice in config.practices}

    @dg.schedule(
        name=name,
        cron_schedule=cron,
        job_name=job_name,
        execution_timezone=os.environ.get(TIMEZONE_ENV) or "UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=description,
    )
    def every_practice(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest]:
        stamp = context.scheduled_execution_time.isoformat()
        for practice_id, key_env in keys.items():
            yield dg.RunRequest(
                run_key=f"{practice_id}:{stamp}",
                partition_key=practice_id,
                tags={AR_KEY_TAG: key_env},
            )

    return every_practice
