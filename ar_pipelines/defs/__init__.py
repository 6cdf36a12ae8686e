"""Dagster wiring: assets, checks, jobs, schedule, sensor and resources.

Each module holds one concern and calls the pure layers (sources, normalize, sync,
statements, reconcile); this one only puts them together. Resources are chosen by
environment:

- ``AR_PRACTICES_FILE``: the practices (partitions), their sources and key variables;
  default ``practices.toml``.
- ``AR_BASE_URL``: AR's External API, the sandbox or the real service (needed at run time).
- each practice's ``ar_key_env``: that practice's AR key (needed at run time).
- ``AR_WAREHOUSE_URL``: ``duckdb:///path`` or ``postgresql://...``; default
  ``duckdb:///data/warehouse.duckdb``.
- ``AR_REPORTS_DIR``: reconciliation reports; default ``data/reports``.
- ``AR_SCHEDULE_TIMEZONE``: the schedules' time zone (nightly and weekly); default ``UTC``.
- ``AR_RETRY_SECONDS``: the first wait before a step that failed transiently runs again.
- ``AR_ALERT_SLACK_WEBHOOK_URL``, ``AR_ALERT_WEBHOOK_URL``, ``AR_ALERT_SMTP_URL`` with
  ``AR_ALERT_EMAIL_FROM`` and ``AR_ALERT_EMAIL_TO``: where alerts go (none by default);
  ``AR_DAGSTER_UI_URL``: the UI's address, for the link to the run in each alert.
- ``AR_STALE_AFTER_HOURS``: how old a practice's last clean reconciliation may grow before
  it is alerted on and the reconciliation counts as stale; default 26.
"""

from __future__ import annotations

import os

import dagster as dg

from ar_pipelines.defs.alerts import reconciliation_failures, run_failures, stale_sources
from ar_pipelines.defs.automation import nightly_sync, weekly_reconciliation
from ar_pipelines.defs.common import practice_partitions
from ar_pipelines.defs.enroll import enroll_job
from ar_pipelines.defs.extract import extract_assets
from ar_pipelines.defs.health import health_definitions
from ar_pipelines.defs.normalized import normalized_assets
from ar_pipelines.defs.notifications import notifications_from_environment
from ar_pipelines.defs.plan import push_plan_assets
from ar_pipelines.defs.practices import PracticesConfig, load_practices
from ar_pipelines.defs.push import push_assets
from ar_pipelines.defs.reconciliation import reconciliation_assets
from ar_pipelines.defs.repair import repair_definitions
from ar_pipelines.defs.resources import (
    DEFAULT_REPORTS_DIR,
    DEFAULT_WAREHOUSE_URL,
    WAREHOUSE_URL_ENV,
    ArApi,
    Settings,
    Sources,
    WarehouseResource,
    warehouse_pool,
)
from ar_pipelines.defs.statements_dbt import dbt_resource, dbt_statement_assets

REPORTS_DIR_ENV = "AR_REPORTS_DIR"


def default_resources(config: PracticesConfig) -> dict[str, object]:
    # A warehouse URL may hold a password: when it comes from the environment it stays
    # an EnvVar, resolved at run time and shown in the UI by name only.
    warehouse_url: str | dg.EnvVar = (
        dg.EnvVar(WAREHOUSE_URL_ENV) if os.environ.get(WAREHOUSE_URL_ENV) else DEFAULT_WAREHOUSE_URL
    )
    return {
        "ar": ArApi(base_url=dg.EnvVar("AR_BASE_URL")),
        "sources": Sources(),
        "warehouse": WarehouseResource(url=warehouse_url),
        "settings": Settings(
            practices_file=str(config.path),
            reports_dir=os.environ.get(REPORTS_DIR_ENV) or DEFAULT_REPORTS_DIR,
        ),
        "dbt": dbt_resource(),
        "notifications": notifications_from_environment(),
    }


def build_definitions(
    config: PracticesConfig | None = None, resources: dict[str, object] | None = None
) -> dg.Definitions:
    config = config or load_practices()
    partitions = practice_partitions(config)
    pool = warehouse_pool()
    everything_else = dg.Definitions(
        assets=[
            *extract_assets(partitions, pool),
            *normalized_assets(partitions, pool),
            *push_assets(partitions, pool),
            *push_plan_assets(partitions, pool),
            *dbt_statement_assets(partitions, pool),
            *reconciliation_assets(partitions, pool),
        ],
        jobs=[enroll_job(partitions, config)],
        sensors=[reconciliation_failures, run_failures, stale_sources],
        resources={**default_resources(config), **(resources or {})},
    )
    return dg.Definitions.merge(
        nightly_sync(partitions, config),
        health_definitions(config),
        repair_definitions(partitions, config),
        weekly_reconciliation(partitions, config),
        everything_else,
    )
