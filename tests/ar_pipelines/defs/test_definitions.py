"""The code location loads: its graph, checks, jobs, schedule and sensor."""

from __future__ import annotations

import importlib
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.errors import DagsterUserCodeLoadError, user_code_error_boundary
from dagster._utils.error import serializable_error_info_from_exc_info

from ar_pipelines.defs.automation import full_run_config
from ar_pipelines.defs.common import AR_KEY_TAG
from ar_pipelines.defs.practices import Practice, PracticeConfigError, SikkaSettings
from ar_pipelines.defs.statements_dbt import DBT_EXECUTABLE, dbt_resource
from tests.ar_pipelines.defs.conftest import Pipeline

REPOSITORY = Path(__file__).resolve().parents[3]
GRAPH = {
    "raw/patients",
    "raw/transactions",
    "normalized/customers",
    "normalized/ledger_entries",
    "normalized/quarantine",
    "ar/customers",
    "ar/ledger_entries",
    "local/stg_ledger_entries",
    "local/statements",
    "local/payment_allocations",
    "local/customer_credits",
    "ar/statements",
    "reconciliation",
}


def test_the_definitions_load_with_the_whole_graph_and_its_checks(pipeline: Pipeline) -> None:
    definitions = pipeline.definitions()
    dg.Definitions.validate_loadable(definitions)
    graph = definitions.resolve_asset_graph()
    keys = {"/".join(key.path) for key in graph.get_all_asset_keys()}
    assert keys >= GRAPH
    checks = {(("/".join(c.asset_key.path)), c.name) for c in graph.asset_check_keys}
    assert {
        ("normalized/quarantine", "quarantine_share_under_threshold"),
        ("ar/customers", "no_failed_or_rejected_pushes"),
        ("ar/ledger_entries", "no_failed_or_rejected_pushes"),
        ("reconciliation", "reconciliation_clean"),
    } <= checks
    # dbt's data tests are asset checks of the models they test.
    assert any(asset == "local/statements" and "unique" in name for asset, name in checks)
    partitions = graph.get(dg.AssetKey("reconciliation")).partitions_def
    assert partitions is not None
    assert partitions.get_partition_keys() == ["P001", "P002"]


def test_the_dbt_source_is_the_normalized_ledger_asset(pipeline: Pipeline) -> None:
    graph = pipeline.definitions().resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["local", "stg_ledger_entries"]))
    assert dg.AssetKey(["normalized", "ledger_entries"]) in staging.parent_keys


def test_the_nightly_schedule_asks_for_every_practice_at_two_tagged_with_its_key(
    pipeline: Pipeline,
) -> None:
    definitions = pipeline.definitions()
    schedule = definitions.resolve_schedule_def("nightly_sync_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    when = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    context = dg.build_schedule_context(
        scheduled_execution_time=when, repository_def=definitions.get_repository_def()
    )
    requests = list(schedule.evaluate_tick(context).run_requests or [])
    assert [(r.partition_key, r.tags[AR_KEY_TAG]) for r in requests] == [
        ("P001", "AR_API_KEY_P001"),
        ("P002", "AR_API_KEY_P002"),
    ]
    # However a run is launched, it carries its practice's key variable.
    for name in ("nightly_sync", "enroll_statements"):
        partitioned = definitions.resolve_job_def(name).partitioned_config
        assert partitioned is not None
        assert partitioned.get_tags_for_partition_key("P002")[AR_KEY_TAG] == "AR_API_KEY_P002"
    assert definitions.resolve_sensor_def("reconciliation_failures") is not None
    assert definitions.resolve_job_def("enroll_statements") is not None


def test_the_weekly_reconciliation_asks_for_every_practice_on_sundays_at_three_verified_in_full(
    pipeline: Pipeline,
) -> None:
    definitions = pipeline.definitions()
    schedule = definitions.resolve_schedule_def("weekly_reconciliation_schedule")
    assert schedule.cron_schedule == "0 3 * * 0"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    when = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    context = dg.build_schedule_context(
        scheduled_execution_time=when, repository_def=definitions.get_repository_def()
    )
    assert schedule.job_name == "weekly_reconciliation"
    requests = list(schedule.evaluate_tick(context).run_requests or [])
    assert [(r.partition_key, r.tags[AR_KEY_TAG]) for r in requests] == [
        ("P001", "AR_API_KEY_P001"),
        ("P002", "AR_API_KEY_P002"),
    ]
    partitioned = definitions.resolve_job_def("weekly_reconciliation").partitioned_config
    assert partitioned is not None
    # A database source: its key scan; no full read.
    assert partitioned.get_run_config_for_partition_key("P001") == {
        "ops": {
            "normalized": {"config": {"full_deletion_scan": True}},
            "statement_models": {"config": {"dbt_full_refresh": True}},
            "ar__statements": {"config": {"full_reconciliation": True}},
        }
    }
    nightly = definitions.resolve_job_def("nightly_sync").partitioned_config
    assert nightly is not None
    assert nightly.get_run_config_for_partition_key("P001") == {}


def test_the_weekly_run_reads_a_rest_source_in_full_to_find_its_deleted_rows() -> None:
    rest = Practice(
        id="R1",
        ar_key_env="AR_API_KEY_R1",
        sikka=SikkaSettings("https://api.example.com/v4", "office", "APP_ID", "APP_KEY"),
    )
    ops = full_run_config(rest)["ops"]
    assert ops["raw__transactions"] == {"config": {"full_refresh": True}}
    assert ops["ar__statements"] == {"config": {"full_reconciliation": True}}


def test_the_schedule_runs_in_the_configured_time_zone(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AR_SCHEDULE_TIMEZONE", "America/Chicago")
    for name in ("nightly_sync_schedule", "weekly_reconciliation_schedule"):
        schedule = pipeline.definitions().resolve_schedule_def(name)
        assert schedule.execution_timezone == "America/Chicago"


def test_the_module_dagster_dev_loads_builds_from_the_repositorys_practices_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AR_PRACTICES_FILE", str(REPOSITORY / "practices.toml"))
    module = importlib.import_module("ar_pipelines.definitions")
    module = importlib.reload(module)
    dg.Definitions.validate_loadable(module.defs)
    workspace = (REPOSITORY / "workspace.yaml").read_text()
    assert "ar_pipelines.definitions" in workspace


def test_a_mistake_in_the_practices_file_is_the_first_line_of_the_locations_load_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "practices.toml"
    path.write_text(
        '[[practices]]\nid = "P001"\nar_key_env = "AR_KEY"\nsource = "sqlite:///s.db"\n'
        'quarantine_threshold = "high"\n'
    )
    monkeypatch.setenv("AR_PRACTICES_FILE", str(path))
    monkeypatch.delitem(sys.modules, "ar_pipelines.definitions", raising=False)
    # As Dagster's code server loads a location: importing it inside the boundary that
    # wraps an error of user code in "Error occurred during the loading of ...".
    with (
        pytest.raises(PracticeConfigError) as raised,
        user_code_error_boundary(DagsterUserCodeLoadError, lambda: "loading the location"),
    ):
        importlib.import_module("ar_pipelines.definitions")

    shown = serializable_error_info_from_exc_info((raised.type, raised.value, raised.tb))
    line = f"{path}: practice P001: quarantine_threshold: must be a number between 0 and 1"
    first = shown.to_string().splitlines()[0]
    assert first == f"ar_pipelines.definitions.PracticesFileError: {line}"
    assert str(raised.value) == line
    assert shown.cause is None
    assert shown.context is None


def test_the_dbt_resource_knows_the_version_the_dbt_command_reports() -> None:
    reported = subprocess.run(
        [str(DBT_EXECUTABLE), "--version"], capture_output=True, text=True, check=True
    ).stdout
    known = dbt_resource()._cli_version

    assert f"installed: {known}" in reported
