"""Runs whose worker died: found by the launcher's health check (run monitoring asks it)
and by the demo's start-up, on a real instance."""

from __future__ import annotations

import json
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
    with instance_for_test(overrides={"run_launcher": launcher}) as instance:
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
