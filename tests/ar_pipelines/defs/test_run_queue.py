"""The per-AR-key run limit of deploy/dagster.local.yaml, enforced by the run queue.

The instance is built from the local instance file as it is, in a DAGSTER_HOME of its
own; only its run launcher is replaced by one that records what the queue hands over
instead of starting a run worker. Runs are real runs of ``nightly_sync``, loaded in a code
location as ``dagster dev`` loads ``ar_pipelines.definitions``, tagged as Dagster tags a
partition's run, submitted through the instance's run coordinator and dequeued, a pass at a
time, by the queued run coordinator daemon that ``dagster-daemon run`` runs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.repository_definition.valid_definitions import (
    SINGLETON_REPOSITORY_NAME,
)
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.remote_representation.code_location import InProcessCodeLocation
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.storage.dagster_run import DagsterRunStatus
from dagster._core.test_utils import MockedRunLauncher
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
    QueuedRunCoordinatorDaemon,
)

from ar_pipelines.defs.common import AR_KEY_TAG

REPOSITORY = Path(__file__).resolve().parents[3]
LOCAL_INSTANCE = REPOSITORY / "deploy" / "dagster.local.yaml"
CODE_MODULE = "ar_pipelines.definitions"
LOCATION = "ar_pipelines"
JOB = "nightly_sync"
WATCHED_LAUNCHER = """run_launcher:
  module: ar_pipelines.run_workers
  class: WatchedRunLauncher
"""
# Records the runs the queue hands over instead of starting a run worker.
RECORDING_LAUNCHER = """run_launcher:
  module: dagster._core.test_utils
  class: MockedRunLauncher
"""
# P003 sends its records to the same AR company as P001, so it is given the same key.
KEY_VARIABLES = {"P001": "AR_API_KEY_P001", "P002": "AR_API_KEY_P002", "P003": "AR_API_KEY_P001"}


@pytest.fixture
def practices_file(tmp_path: Path) -> Path:
    lines = ["[defaults]", "quarantine_threshold = 0.05", ""]
    for practice, variable in KEY_VARIABLES.items():
        lines += [
            "[[practices]]",
            f'id = "{practice}"',
            f'source = "sqlite:///{tmp_path / "source.db"}"',
            f'ar_key_env = "{variable}"',
            "",
        ]
    path = tmp_path / "practices.toml"
    path.write_text("\n".join(lines))
    return path


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    """The local instance file in a DAGSTER_HOME of its own, its run launcher a recorder."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    local = LOCAL_INSTANCE.read_text()
    assert WATCHED_LAUNCHER in local, "the local file sets another launcher: replace it here"
    (home / "dagster.yaml").write_text(local.replace(WATCHED_LAUNCHER, RECORDING_LAUNCHER))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


@pytest.fixture
def workspace(
    instance: dg.DagsterInstance, practices_file: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WorkspaceProcessContext]:
    """The code location ``dagster dev`` serves, over the test's practices."""
    monkeypatch.setenv("AR_PRACTICES_FILE", str(practices_file))
    # Resolved when a run's plan is made; never reached, since no run starts.
    monkeypatch.setenv("AR_BASE_URL", "http://127.0.0.1:9")
    # Imported afresh, so that it reads this test's practices file; any module imported
    # before is put back afterwards.
    monkeypatch.delitem(sys.modules, CODE_MODULE, raising=False)
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(
            module_name=CODE_MODULE, attribute="defs", working_directory=str(REPOSITORY)
        ),
        location_name=LOCATION,
    )
    try:
        with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as context:
            yield context
    finally:
        sys.modules.pop(CODE_MODULE, None)


@pytest.fixture
def daemon() -> Iterator[QueuedRunCoordinatorDaemon]:
    with QueuedRunCoordinatorDaemon(interval_seconds=1) as daemon:
        yield daemon


def submit(workspace: WorkspaceProcessContext, practice: str) -> str:
    """Creates a run of ``nightly_sync`` for the practice's partition, with the tags Dagster
    gives a partition's run, and submits it to the instance's run coordinator."""
    instance = workspace.instance
    request = workspace.create_request_context()
    location = request.get_code_location(LOCATION)
    assert isinstance(location, InProcessCodeLocation)
    remote_job = location.get_repository(SINGLETON_REPOSITORY_NAME).get_full_job(JOB)
    job = location.get_reconstructable_job(SINGLETON_REPOSITORY_NAME, JOB).get_definition()
    run = instance.create_run_for_job(
        job,
        run_config=job.get_run_config_for_partition_key(practice),
        tags=job.get_tags_for_partition_key(practice, selected_asset_keys=None),
        status=DagsterRunStatus.NOT_STARTED,
        remote_job_origin=remote_job.get_remote_origin(),
        job_code_origin=remote_job.get_python_origin(),
    )
    return instance.submit_run(run.run_id, request).run_id


def dequeue(daemon: QueuedRunCoordinatorDaemon, workspace: WorkspaceProcessContext) -> None:
    """One pass of the daemon over the queue."""
    list(daemon.run_iteration(workspace))


def launched(instance: dg.DagsterInstance) -> list[str]:
    launcher = instance.run_launcher
    assert isinstance(launcher, MockedRunLauncher)
    return [run.run_id for run in launcher.queue()]


def stored(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRun:
    run = instance.get_run_by_id(run_id)
    assert run is not None
    return run


def status(instance: dg.DagsterInstance, run_id: str) -> DagsterRunStatus:
    return stored(instance, run_id).status


def report(instance: dg.DagsterInstance, run_id: str, event: dg.DagsterEventType) -> None:
    """Records what a run worker would record for the run."""
    job_name = stored(instance, run_id).job_name
    instance.report_dagster_event(
        dg.DagsterEvent(event_type_value=event.value, job_name=job_name), run_id=run_id
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [("P001", "P001"), ("P001", "P003")],
    ids=["two runs of one practice", "two practices on one key"],
)
def test_two_queued_runs_of_one_ar_key_launch_one_and_leave_the_other_queued(
    workspace: WorkspaceProcessContext,
    daemon: QueuedRunCoordinatorDaemon,
    first: str,
    second: str,
) -> None:
    instance = workspace.instance
    # The local file names the queued run coordinator (with retries of a launch that
    # cannot reach its code server): submitted runs wait in the queue.
    assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
    running = submit(workspace, first)
    waiting = submit(workspace, second)
    tags = [stored(instance, run_id).tags for run_id in (running, waiting)]
    assert [t.get(AR_KEY_TAG) for t in tags] == ["AR_API_KEY_P001", "AR_API_KEY_P001"]
    assert [t.get("dagster/partition") for t in tags] == [first, second]
    # Submitted runs wait for the daemon.
    assert launched(instance) == []
    assert status(instance, running) == status(instance, waiting) == DagsterRunStatus.QUEUED

    dequeue(daemon, workspace)

    assert launched(instance) == [running]
    assert status(instance, running) == DagsterRunStatus.STARTING
    assert status(instance, waiting) == DagsterRunStatus.QUEUED


def test_queued_runs_of_different_ar_keys_are_both_launched(
    workspace: WorkspaceProcessContext, daemon: QueuedRunCoordinatorDaemon
) -> None:
    instance = workspace.instance
    one = submit(workspace, "P001")
    other = submit(workspace, "P002")
    assert stored(instance, other).tags[AR_KEY_TAG] == "AR_API_KEY_P002"

    dequeue(daemon, workspace)

    assert sorted(launched(instance)) == sorted([one, other])
    assert status(instance, one) == status(instance, other) == DagsterRunStatus.STARTING


@pytest.mark.parametrize(
    "outcome",
    [dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE],
    ids=["succeeded", "failed"],
)
def test_the_waiting_run_of_a_key_is_launched_once_the_first_one_ends(
    workspace: WorkspaceProcessContext,
    daemon: QueuedRunCoordinatorDaemon,
    outcome: dg.DagsterEventType,
) -> None:
    instance = workspace.instance
    first = submit(workspace, "P001")
    waiting = submit(workspace, "P003")
    dequeue(daemon, workspace)
    assert launched(instance) == [first]

    # While the first run is running, the other still waits.
    report(instance, first, dg.DagsterEventType.RUN_START)
    assert status(instance, first) == DagsterRunStatus.STARTED
    dequeue(daemon, workspace)
    assert launched(instance) == [first]
    assert status(instance, waiting) == DagsterRunStatus.QUEUED

    report(instance, first, outcome)
    assert status(instance, first) in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE)
    dequeue(daemon, workspace)

    assert launched(instance) == [first, waiting]
    assert status(instance, waiting) == DagsterRunStatus.STARTING
