"""``ar-pipelines api-tour``: the documented flow against a freshly started sandbox."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _tour(out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ar_pipelines.cli", "api-tour", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_api_tour_writes_the_documented_statement_and_can_run_again(tmp_path: Path) -> None:
    for _ in range(2):  # the second run starts from a fresh sandbox, not the first's data
        result = _tour(tmp_path)
        assert result.returncode == 0, result.stderr
    assert "STMT-2026-05-PT-001" in result.stdout
    assert str(tmp_path / "statement.json") in result.stdout
    statement = json.loads((tmp_path / "statement.json").read_text())
    assert (statement["amount"], statement["paid_amount"], statement["outstanding"]) == (
        240.0,
        100.0,
        140.0,
    )
    assert (statement["due_date"], statement["status"]) == ("2026-10-28", "in_progress")
