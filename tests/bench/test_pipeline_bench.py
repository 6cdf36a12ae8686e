"""The pipeline benchmark's quick run: both runs of the nightly job succeed, reconcile clean
and push exactly what they must, and the ledger they leave is what a normalize of the
whole source makes. Its timings are printed, never asserted."""

from __future__ import annotations

import re
import subprocess
import sys


def test_the_quick_pipeline_benchmark_pushes_exactly_the_changes_and_reconciles_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "pipeline", "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    checks = re.findall(r"^  check: (.*): (OK|FAILED)$", result.stdout, flags=re.MULTILINE)
    assert len(checks) == 7, result.stdout
    assert all(verdict == "OK" for _, verdict in checks), result.stdout
    assert any("incremental run sent the changed rows" in what for what, _ in checks)
    assert any("what a normalize of the whole source makes" in what for what, _ in checks)
    assert re.search(r"incremental run push: \d[\d,]* entries in ", result.stdout)
    assert re.search(
        r"incremental run: [\d.]+ s = \d+% of the full run \(target < 10%: (met|MISSED)\)",
        result.stdout,
    )
