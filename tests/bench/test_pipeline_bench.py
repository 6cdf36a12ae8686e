"""The pipeline benchmark's quick run: the full run, a night and the weekly full
reconciliation succeed and reconcile clean, the night pushes exactly its changes and reads
back only the customers they touched, the weekly run reads back every statement, and the
ledger they leave is what a normalize of the whole source makes. Its timings are printed,
never asserted."""

from __future__ import annotations

import re
import subprocess
import sys


def test_the_quick_pipeline_benchmark_pushes_a_nights_changes_and_verifies_what_they_touched() -> (
    None
):
    result = subprocess.run(
        [sys.executable, "-m", "bench", "pipeline", "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    checks = re.findall(r"^  check: (.*): (OK|FAILED)$", result.stdout, flags=re.MULTILINE)
    assert len(checks) == 11, result.stdout
    assert all(verdict == "OK" for _, verdict in checks), result.stdout
    assert any("nightly run sent the night's changes" in what for what, _ in checks)
    assert any("read only the touched customers' statements" in what for what, _ in checks)
    assert any("weekly run read back every statement" in what for what, _ in checks)
    assert any("what a normalize of the whole source makes" in what for what, _ in checks)
    assert re.search(r"nightly run push: \d[\d,]* entries in ", result.stdout)
    assert re.search(
        r"^  nightly run: [\d.]+ s = [\d.]+% of the full run\n"
        r"    nightly target <= 5%: (met|MISSED)$",
        result.stdout,
        re.MULTILINE,
    )
    assert re.search(r"weekly full reconciliation: [\d.]+ s", result.stdout)
