"""Runs whose worker process died, found and marked failed.

A run worker killed mid-run (an out-of-memory kill, a reboot, ``kill -9``) records
nothing more: the run would stay STARTED for ever, holding its AR key's slot in the run
queue. Two things look for such runs:

- ``WatchedRunLauncher``, the run launcher of both instance files: Dagster's default
  launcher, plus the worker health check that run monitoring (in the daemon) asks for.
  A worker on this host is alive while its process is; a run whose process is gone is
  marked failed, which frees its slot, and the run-failure path (run retries, sensors)
  follows. A worker on another host cannot be seen from here: its run is left to the
  runtime limit. (Dagster's default launcher checks nothing itself: its code server
  fails a run whose worker died only while the server lives, and a code server killed
  with its workers, as when their machine or container goes down, leaves the run
  STARTED.)
- ``fail_dead_runs``, called by the demo and ``make dev`` before they start, for the runs
  of their own instance that a killed earlier session left behind.

A worker's process is the one Dagster records when it starts the run ("Started process
for run"), or the one a run launched in-process names in ``WORKER_PID_TAG``.

Only Dagster's public API is used. The health check's answer is ``WorkerHealth``, read
by run monitoring as it reads Dagster's own answer (not exported): its ``status``, which
it compares with Dagster's worker statuses, and its text, which goes into the failure's
message. ``WorkerStatus`` compares equal to Dagster's status of the same name.
"""

from __future__ import annotations

import enum
import json
import os
import socket
from dataclasses import dataclass

import dagster as dg
import psutil

WORKER_PID_TAG = "ar_pipelines/worker_pid"
WORKER_HOST_TAG = "ar_pipelines/worker_host"
# Where the code server that started a run listens, as Dagster's default launcher tags it.
GRPC_INFO_TAG = ".dagster/grpc_info"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
STARTED_PROCESS = "Started process for run"
IN_PROGRESS = (
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)
# A process that began after the run recorded it is another one under a reused pid.
PID_REUSE_SLACK_SECONDS = 2.0


class WorkerStatus(enum.Enum):
    """A run worker's state, as run monitoring is told it: equal to Dagster's own worker
    status of the same value, which is what run monitoring compares it with."""

    RUNNING = "RUNNING"
    FAILED = "FAILED"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, enum.Enum):
            return bool(self.value == other.value)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.value)


@dataclass(frozen=True)
class WorkerHealth:
    """The health check's answer, with the fields of Dagster's own: run monitoring fails
    the run unless ``status`` is running, and its message says ``str(self)``."""

    status: WorkerStatus
    msg: str
    transient: bool | None = None
    run_worker_id: str | None = None

    def __str__(self) -> str:
        return f"{self.status.value}: '{self.msg}'"


@dataclass(frozen=True)
class Worker:
    pid: int
    recorded_at: float  # when the run recorded it (seconds since the epoch)


def this_host_tags() -> dict[str, str]:
    """The tags a run executed in this process carries, so that its worker can be found."""
    return {WORKER_PID_TAG: str(os.getpid()), WORKER_HOST_TAG: socket.gethostname()}


def worker_of(instance: dg.DagsterInstance, run: dg.DagsterRun) -> Worker | None:
    """The process the run executes in, as the run recorded it; None before it started."""
    if WORKER_PID_TAG in run.tags:
        record = instance.get_run_record_by_id(run.run_id)
        created = record.create_timestamp.timestamp() if record else 0.0
        return Worker(int(run.tags[WORKER_PID_TAG]), created)
    found: Worker | None = None
    for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = entry.dagster_event
        if event is None or not entry.message.startswith(STARTED_PROCESS):
            continue
        pid = event.engine_event_data.metadata.get("pid") if event.engine_event_data else None
        if pid is not None:
            found = Worker(int(str(pid.value)), entry.timestamp)
    return found


def worker_on_this_host(run: dg.DagsterRun) -> bool:
    """Whether the run's worker runs here, where its process can be looked at."""
    if WORKER_HOST_TAG in run.tags:
        return run.tags[WORKER_HOST_TAG] == socket.gethostname()
    if GRPC_INFO_TAG not in run.tags:
        return False
    grpc = json.loads(run.tags[GRPC_INFO_TAG])
    # A code server on a socket or on loopback runs its workers on this host.
    return "socket" in grpc or str(grpc.get("host", "")) in LOCAL_HOSTS


def is_alive(worker: Worker) -> bool:
    try:
        process = psutil.Process(worker.pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        started: float = process.create_time()
        return started <= worker.recorded_at + PID_REUSE_SLACK_SECONDS
    except psutil.NoSuchProcess:
        return False


def dead_worker_message(worker: Worker) -> str:
    return (
        f"the run's worker process (pid {worker.pid}) is gone: it was killed or crashed "
        "before the run ended. A new run of the practice picks up where it stopped."
    )


class WatchedRunLauncher(dg.DefaultRunLauncher):
    """Dagster's default launcher, whose runs' workers run monitoring can check."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    # Dagster declares its own answer's type, which it does not export; run monitoring
    # reads this one as it reads that (see WorkerHealth).
    def check_run_worker_health(self, run: dg.DagsterRun) -> WorkerHealth:  # type: ignore[override]
        if not worker_on_this_host(run):
            return WorkerHealth(
                WorkerStatus.RUNNING, "the worker is on another host: its runtime limit applies"
            )
        worker = worker_of(self._instance, run)
        if worker is None:
            return WorkerHealth(WorkerStatus.RUNNING, "the worker has not started yet")
        if is_alive(worker):
            return WorkerHealth(WorkerStatus.RUNNING, f"pid {worker.pid} is running")
        return WorkerHealth(WorkerStatus.FAILED, dead_worker_message(worker))


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the runs of ``instance`` still in progress whose worker is gone, and
    say which. Meant for an instance only this machine runs (the demo's): a run of this
    host with no worker recorded is one whose session was killed before it started."""
    failed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=list(IN_PROGRESS))):
        if run.tags.get(WORKER_HOST_TAG, socket.gethostname()) != socket.gethostname():
            continue
        worker = worker_of(instance, run)
        if worker is not None and is_alive(worker):
            continue
        message = (
            dead_worker_message(worker)
            if worker
            else "the run never started a worker: the session that launched it was stopped"
        )
        instance.report_run_failed(run, message)
        if instance.event_log_storage.supports_global_concurrency_limits:
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        failed.append(run.run_id)
    return failed
