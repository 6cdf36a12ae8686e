"""The benchmarks keep running: a quick run must pass its own correctness checks.

Nothing here is timed; ``make bench`` prints the figures.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bench.__main__ import BENCHMARKS


# The pipeline benchmark has a test of its own, which checks what its quick run pushed;
# practices_at_once's quick run is what tests/ar_pipelines/defs/test_daemon.py runs.
@pytest.mark.parametrize("name", sorted(set(BENCHMARKS) - {"pipeline", "practices_at_once"}))
def test_each_benchmark_runs_quickly_and_its_checks_pass(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", name, "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b(entries|rows)/s\b", result.stdout)  # it printed its throughput
    assert ": OK" in result.stdout


def test_an_unknown_benchmark_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "no_such_benchmark"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "unknown benchmark" in result.stderr
