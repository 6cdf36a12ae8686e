"""The benchmarks keep running: a quick run must pass its own correctness checks.

Nothing here is timed; ``make bench`` prints the figures.
"""

from __future__ import annotations

import subprocess
import sys


def test_the_quick_sandbox_push_benchmark_runs_and_its_checks_pass() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "sandbox_push", "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "entries/s" in result.stdout
    assert ": OK" in result.stdout


def test_the_quick_client_push_benchmark_runs_and_its_checks_pass() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "client_push", "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "entries/s" in result.stdout
    assert ": OK" in result.stdout


def test_an_unknown_benchmark_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "no_such_benchmark"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "unknown benchmark" in result.stderr
