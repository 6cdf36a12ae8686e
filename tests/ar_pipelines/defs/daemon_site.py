"""A real ``dagster-daemon`` over the local instance and the demo's practices, for the
daemon tests and the practices-at-once benchmark.

Everything is real: the demo's generated source and sandbox, the instance built from
deploy/dagster.local.yaml as ``make dev`` builds it (only its waits shortened, see
``SOONER``), the daemon as ``dagster-daemon run`` starts it over workspace.yaml, and runs
submitted to the queue as ``dagster job launch`` submits them. Runs use the in-process
executor, so a run is one worker process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._cli.job import _create_run
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget

from ar_pipelines._environment import environment_set
from ar_pipelines.causes import cause_line
from ar_pipelines.cli.demo import DemoPaths, DemoSize, demo_environment, instance_home, prepare
from ar_pipelines.defs.common import AR_KEY_TAG
from ar_pipelines.local_sandbox import serving

REPOSITORY = Path(__file__).resolve().parents[3]
WORKSPACE = REPOSITORY / "workspace.yaml"
JOB = "nightly_sync"
LOCATION = "ar_pipelines.definitions"
FAILURES = {
    dg.DagsterEventType.RUN_FAILURE,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.ENGINE_EVENT,
}
IN_PROCESS: dict[str, object] = {"execution": {"config": {"in_process": {}}}}
# Long enough for a run on a busy two-core machine; a run that takes longer has hung.
RUN_DEADLINE_SECONDS = 600
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE}
# Waits of the local instance file, and shorter ones the site runs with: run monitoring
# polls every second rather than every quarter minute, so a dead worker is seen in seconds.
SOONER: dict[str, str] = {"poll_interval_seconds: 15": "poll_interval_seconds: 1"}
# For the tests, also: the queue is looked at every second rather than every five; a run
# the queue could not hand to its code server is tried again every two seconds rather than
# every twenty, up to fifty times rather than five, so that it waits as long in all; and
# the warehouse pool's slot a dead run held is freed two seconds after its end rather than
# a minute. (The benchmark keeps these waits: they are part of what it measures.)
SOONER_QUEUE: dict[str, str] = {
    **SOONER,
    "free_slots_after_run_end_seconds: 60": "free_slots_after_run_end_seconds: 2",
    "max_user_code_failure_retries: 5\n    user_code_failure_retry_delay: 20": (
        "max_user_code_failure_retries: 50\n    user_code_failure_retry_delay: 2\n"
        "    dequeue_interval_seconds: 1"
    ),
}


class RunNotReachedError(AssertionError):
    """A run ended, or the deadline passed, before it reached the awaited status."""


@dataclass
class Site:
    instance: dg.DagsterInstance
    workspace: WorkspaceProcessContext
    daemon: subprocess.Popen[bytes]
    daemon_log: Path

    def submit(self, practice: str) -> str:
        """Queues a run of the nightly job for the practice, with the tags a partition's
        run gets; nothing retries it, so a run that failed stays failed."""
        request = self.workspace.create_request_context()
        location = request.get_code_location(LOCATION)
        repository = next(iter(location.get_repositories().values()))
        run = _create_run(
            instance=self.instance,
            code_location=location,
            remote_repo=repository,
            remote_job=repository.get_full_job(JOB),
            run_config=IN_PROCESS,
            tags={
                "dagster/partition": practice,
                AR_KEY_TAG: f"AR_API_KEY_{practice}",
                "dagster/max_retries": "0",
            },
            op_selection=None,
            run_id=None,
        )
        return self.instance.submit_run(run.run_id, request).run_id

    def run(self, run_id: str) -> dg.DagsterRun:
        run = self.instance.get_run_by_id(run_id)
        assert run is not None
        return run

    def wait_for(self, run_id: str, statuses: set[dg.DagsterRunStatus]) -> dg.DagsterRun:
        deadline = time.monotonic() + RUN_DEADLINE_SECONDS
        while True:
            run = self.run(run_id)
            if run.status in statuses:
                return run
            if run.is_finished:
                raise RunNotReachedError(
                    f"run {run_id} ended {run.status.value}: {self.failure_message(run_id)}"
                )
            if time.monotonic() > deadline or self.daemon.poll() is not None:
                log = self.daemon_log.read_text(errors="replace")[-3000:]
                raise RunNotReachedError(f"run {run_id} is {run.status.value}; daemon:\n{log}")
            time.sleep(0.5)

    def finished(self, run_id: str) -> dg.DagsterRun:
        return self.wait_for(run_id, FINISHED)

    def failure_message(self, run_id: str) -> str:
        """What the run's failure events say, the causes of failed steps among them."""
        lines = []
        for entry in self.instance.all_logs(run_id):
            event = entry.dagster_event
            if event is None or event.event_type not in FAILURES:
                continue
            error = getattr(event.event_specific_data, "error", None)
            lines.append(
                f"{event.step_key or 'run'}: {cause_line(error) if error else entry.message}"
            )
        return " | ".join(lines)

    def reconciled_clean(self, run_id: str) -> bool:
        evaluations = [
            entry.dagster_event.event_specific_data
            for entry in self.instance.all_logs(
                run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            )
            if entry.dagster_event
        ]
        reconciliation = [
            e
            for e in evaluations
            if isinstance(e, dg.AssetCheckEvaluation)
            and e.asset_key == dg.AssetKey(["reconciliation"])
        ]
        return bool(reconciliation) and all(e.passed for e in reconciliation)


@contextmanager
def daemon_site(root: Path, size: DemoSize, waits: Mapping[str, str] = SOONER) -> Iterator[Site]:
    """The demo's practices of ``size`` under ``root``, their sandbox served, and a daemon
    over their instance, its ``waits`` shortened; everything is stopped after."""
    paths = DemoPaths(root / "demo")
    companies = prepare(paths, size=size, show_progress=False)
    settings = instance_home(paths) / "dagster.yaml"
    local = settings.read_text()
    for setting, shorter in waits.items():
        assert setting in local, f"the local instance file no longer says {setting!r}"
        local = local.replace(setting, shorter)
    settings.write_text(local)
    with serving(f"sqlite:///{paths.sandbox}") as base_url:
        environment = {
            **demo_environment(paths, companies, base_url, root / "reports"),
            "AR_RETRY_SECONDS": "1",
        }
        with environment_set(environment):
            daemon_log = root / "daemon.log"
            with daemon_log.open("wb") as sink:
                daemon = subprocess.Popen(
                    [
                        str(Path(sys.executable).with_name("dagster-daemon")),
                        "run",
                        "-w",
                        str(WORKSPACE),
                    ],
                    cwd=REPOSITORY,
                    env=os.environ.copy(),
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )
            try:
                with (
                    dg.DagsterInstance.get() as instance,
                    WorkspaceProcessContext(
                        instance, WorkspaceFileTarget([str(WORKSPACE)])
                    ) as workspace,
                ):
                    yield Site(instance, workspace, daemon, daemon_log)
            finally:
                daemon.send_signal(signal.SIGINT)
                try:
                    daemon.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    daemon.kill()
                    daemon.wait()
