"""The local instance under a real ``dagster-daemon`` (see ``daemon_site``): several
practices at once on the default DuckDB warehouse, and run workers that die.

Both tests share one site, the module's. The killed worker's test comes second: its
waiting run can start only once the daemon has started the killed code server again,
which it does when it reloads its workspace, once a minute from its start; killed in the
site's first seconds, it would wait nearly the whole minute."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import dagster as dg
import psutil
import pytest

from ar_pipelines.cli.demo import DemoSize
from ar_pipelines.run_workers import worker_of
from tests.ar_pipelines.defs.daemon_site import SOONER_QUEUE, Site, daemon_site

SIZE = DemoSize(practices=4, patients=30, months=3)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with daemon_site(tmp_path_factory.mktemp("daemon_site"), SIZE, SOONER_QUEUE) as site:
        yield site


def test_two_then_four_practices_at_once_on_duckdb_all_succeed_and_reconcile_clean(
    site: Site,
) -> None:
    for practices in (("P002", "P003"), ("P001", "P002", "P003", "P004")):
        runs = {practice: site.submit(practice) for practice in practices}
        outcomes = {practice: site.finished(run_id) for practice, run_id in runs.items()}

        failures = {
            practice: site.failure_message(run.run_id)
            for practice, run in outcomes.items()
            if run.status != dg.DagsterRunStatus.SUCCESS
        }
        assert failures == {}
        assert [p for p, run_id in runs.items() if not site.reconciled_clean(run_id)] == []


def test_a_run_whose_worker_is_killed_is_marked_failed_and_the_next_run_of_its_key_runs(
    site: Site,
) -> None:
    killed = site.submit("P001")
    waiting = site.submit("P001")  # the same practice, so the same AR key: it must wait
    run = site.wait_for(killed, {dg.DagsterRunStatus.STARTED})
    worker = worker_of(site.instance, run)
    assert worker is not None, "the started run recorded no worker process"
    assert site.run(waiting).status == dg.DagsterRunStatus.QUEUED

    # The worker and the code server that started it are killed together, as when the
    # machine or the container they share goes down: nothing is left to record the end.
    server = psutil.Process(worker.pid).parent()
    assert server is not None
    server.kill()
    os.kill(worker.pid, signal.SIGKILL)

    assert site.finished(killed).status == dg.DagsterRunStatus.FAILURE
    assert f"(pid {worker.pid}) is gone" in site.failure_message(killed)
    assert site.finished(waiting).status == dg.DagsterRunStatus.SUCCESS
