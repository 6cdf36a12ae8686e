"""Practices at once on the default DuckDB warehouse, through a real ``dagster-daemon``
over the local instance (see ``tests/ar_pipelines/defs/daemon_site.py``): five trials,
each of two practices submitted together, then four. The first trial's runs are first
runs (every row read and pushed); later trials are nightly runs with nothing new.

Checks: every run succeeds and reconciles clean. Figures: seconds from submitting a
batch to its last run's end, and the runs' own seconds; no target is set.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import dagster as dg

from ar_pipelines.cli.demo import DemoSize
from bench.machine import python_loop_ms

TRIALS = 5
FULL = DemoSize(practices=4, patients=500, months=12)
QUICK = DemoSize(practices=4, patients=30, months=3)
BATCHES = (("P001", "P002"), ("P001", "P002", "P003", "P004"))


def run(quick: bool) -> bool:
    from tests.ar_pipelines.defs.daemon_site import daemon_site

    size = QUICK if quick else FULL
    trials = 1 if quick else TRIALS
    print(
        f"practices_at_once: {size.practices} practices of {size.patients:,} patients, "
        f"{size.months} months, on one DuckDB warehouse, through dagster-daemon; "
        f"{trials} trial(s) of two practices at once, then four"
    )
    print(f"  machine: reference Python loop {python_loop_ms():.0f} ms (lower is faster)")
    totals = [0, 0, 0]  # runs, succeeded, reconciled clean
    with (
        # A code server finishing its last calls may still write there as it stops.
        tempfile.TemporaryDirectory(
            prefix="ar_bench_at_once_", ignore_cleanup_errors=True
        ) as directory,
        daemon_site(Path(directory), size) as site,
    ):
        for trial in range(1, trials + 1):
            for batch in BATCHES:
                counts = _batch(site, trial, batch)
                totals = [total + count for total, count in zip(totals, counts, strict=True)]
    runs, succeeded, clean = totals
    passed = succeeded == runs and clean == runs
    print(
        f"  check: {succeeded}/{runs} runs succeeded, {clean}/{runs} reconciled clean: "
        f"{'OK' if passed else 'FAILED'}"
    )
    return passed


def _batch(site: Any, trial: int, batch: tuple[str, ...]) -> tuple[int, int, int]:
    """Submits the batch's practices together, waits for them, and prints what became of it."""
    started = time.perf_counter()
    ids = [site.submit(practice) for practice in batch]
    finished = [site.finished(run_id) for run_id in ids]
    seconds = time.perf_counter() - started
    ok = [r for r in finished if r.status == dg.DagsterRunStatus.SUCCESS]
    tidy = [r for r in ok if site.reconciled_clean(r.run_id)]
    own = [_run_seconds(site.instance, r.run_id) for r in finished]
    print(
        f"  trial {trial}: {len(batch)} at once: {len(ok)}/{len(batch)} succeeded, "
        f"{len(tidy)} clean, {seconds:6.1f} s for the batch "
        f"(runs {min(own):.1f}-{max(own):.1f} s each)"
    )
    for r in finished:
        if r.status != dg.DagsterRunStatus.SUCCESS:
            print(f"    {r.tags.get('dagster/partition')}: {site.failure_message(r.run_id)}")
    return len(ids), len(ok), len(tidy)


def _run_seconds(instance: dg.DagsterInstance, run_id: str) -> float:
    record = instance.get_run_record_by_id(run_id)
    if record is None or record.start_time is None or record.end_time is None:
        return 0.0
    return float(record.end_time - record.start_time)


if __name__ == "__main__":  # pragma: no cover - run through ``python -m bench practices_at_once``
    sys.exit(0 if run("--quick" in sys.argv) else 1)
