"""Runs whose worker died: found by the launcher's health check (run monitoring asks it)
and by the demo's start-up, on a real instance. The launcher uses Dagster's public API
only, so its answers are checked against Dagster's own statuses and run monitoring."""

from __future__ import annotations

import ast
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import EngineEventData
from dagster._core.launcher import WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._core.test_utils import instance_for_test
from dagster._daemon.monitoring.run_monitoring import monitor_started_run

from ar_pipelines import run_workers
from ar_pipelines.cli.demo import DemoPaths, instance_home
from ar_pipelines.run_workers import (
    WORKER_HOST_TAG,
    WORKER_PID_TAG,
    WatchedRunLauncher,
    fail_dead_runs,
    this_host_tags,
)


@dg.op
def noop() -> None:
    pass


@dg.job
def a_job() -> None:
    noop()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    launcher = {"module": "ar_pipelines.run_workers", "class": "WatchedRunLauncher"}
    # As both instance files set it: a dead worker's run fails, it is never resumed.
    monitoring = {"enabled": True, "max_resume_run_attempts": 0}
    overrides = {"run_launcher": launcher, "run_monitoring": monitoring}
    with instance_for_test(overrides=overrides) as instance:
        yield instance


def a_gone_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def started_run(instance: dg.DagsterInstance, tags: dict[str, str]) -> dg.DagsterRun:
    return instance.create_run_for_job(a_job, status=dg.DagsterRunStatus.STARTED, tags=tags)


def started_by_code_server(instance: dg.DagsterInstance, pid: int, host: str) -> dg.DagsterRun:
    """A run as a code server starts it: its address in a tag, its process in an event."""
    run = started_run(instance, {GRPC_INFO_TAG: json.dumps({"host": host, "port": 4266})})
    instance.report_engine_event(
        f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid)
    )
    return run


def launcher_of(instance: dg.DagsterInstance) -> WatchedRunLauncher:
    launcher = instance.run_launcher
    assert isinstance(launcher, WatchedRunLauncher)
    return launcher


def test_the_launcher_sees_a_worker_on_this_host_whose_process_is_gone_as_failed(
    instance: dg.DagsterInstance,
) -> None:
    pid = a_gone_pid()
    health = launcher_of(instance).check_run_worker_health(
        started_by_code_server(instance, pid, "localhost")
    )

    assert health.status == WorkerStatus.FAILED
    assert f"(pid {pid}) is gone" in str(health.msg)


def test_the_launcher_sees_a_worker_whose_process_runs_as_running(
    instance: dg.DagsterInstance,
) -> None:
    run = started_by_code_server(instance, os.getpid(), "127.0.0.1")

    assert launcher_of(instance).check_run_worker_health(run).status == WorkerStatus.RUNNING


def test_the_launcher_leaves_a_worker_on_another_host_to_the_runtime_limit(
    instance: dg.DagsterInstance,
) -> None:
    run = started_by_code_server(instance, a_gone_pid(), "code-server.internal")

    assert launcher_of(instance).check_run_worker_health(run).status == WorkerStatus.RUNNING


def status_of(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dg.DagsterRunStatus:
    stored = instance.get_run_by_id(run.run_id)
    assert stored is not None
    return stored.status


def monitored(instance: dg.DagsterInstance, run: dg.DagsterRun) -> None:
    """One pass of Dagster's own run monitoring (as the daemon runs it) over the run."""
    record = instance.get_run_record_by_id(run.run_id)
    assert record is not None
    # The workspace is only for resuming a run, which these instances never do.
    monitor_started_run(instance, None, record, logging.getLogger("run_monitoring"))


def test_dagsters_run_monitoring_fails_the_run_whose_worker_the_launcher_finds_gone(
    instance: dg.DagsterInstance,
) -> None:
    pid = a_gone_pid()
    run = started_by_code_server(instance, pid, "localhost")

    monitored(instance, run)

    assert status_of(instance, run) == dg.DagsterRunStatus.FAILURE
    failures = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert f"FAILED: 'the run's worker process (pid {pid}) is gone" in failures[0].message


def test_dagsters_run_monitoring_leaves_started_the_run_whose_worker_runs(
    instance: dg.DagsterInstance,
) -> None:
    run = started_by_code_server(instance, os.getpid(), "127.0.0.1")

    monitored(instance, run)

    assert status_of(instance, run) == dg.DagsterRunStatus.STARTED


def test_the_launchers_statuses_equal_dagsters_statuses_of_the_same_name_only() -> None:
    assert run_workers.WorkerStatus.RUNNING == WorkerStatus.RUNNING
    assert WorkerStatus.FAILED == run_workers.WorkerStatus.FAILED
    assert run_workers.WorkerStatus.RUNNING not in [WorkerStatus.FAILED, WorkerStatus.SUCCESS]
    assert run_workers.WorkerStatus.FAILED not in [WorkerStatus.RUNNING, WorkerStatus.SUCCESS]
    assert run_workers.GRPC_INFO_TAG == GRPC_INFO_TAG


def test_the_run_launcher_imports_no_private_module_of_dagster() -> None:
    tree = ast.parse(Path(run_workers.__file__).read_text())
    imported = [
        name
        for node in ast.walk(tree)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    ]
    assert "dagster" in imported
    assert [name for name in imported if name.startswith(("dagster._", "dagster.core"))] == []


def test_start_up_marks_failed_the_runs_whose_process_is_gone_and_only_those(
    instance: dg.DagsterInstance,
) -> None:
    dead = started_run(instance, {**this_host_tags(), WORKER_PID_TAG: str(a_gone_pid())})
    live = started_run(instance, this_host_tags())
    elsewhere = started_run(
        instance, {WORKER_PID_TAG: str(a_gone_pid()), WORKER_HOST_TAG: "another-machine"}
    )

    assert fail_dead_runs(instance) == [dead.run_id]

    def status(run: dg.DagsterRun) -> dg.DagsterRunStatus:
        stored = instance.get_run_by_id(run.run_id)
        assert stored is not None
        return stored.status

    assert status(dead) == dg.DagsterRunStatus.FAILURE
    assert status(live) == status(elsewhere) == dg.DagsterRunStatus.STARTED
    failures = instance.all_logs(dead.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert "is gone" in failures[0].message


def test_the_demo_instance_has_its_storage_made_before_anything_else_opens_it(
    tmp_path: Path,
) -> None:
    home = instance_home(DemoPaths(tmp_path))

    made = {path.relative_to(home).as_posix() for path in home.rglob("*.db")}
    assert {"history/runs.db", "history/runs/index.db", "schedules/schedules.db"} <= made
