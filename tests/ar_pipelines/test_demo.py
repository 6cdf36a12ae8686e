"""``ar-pipelines demo``: the documented flow against a freshly started sandbox."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_the_demo_prints_and_writes_the_documented_statement(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ar_pipelines.cli", "demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
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


def test_a_second_demo_starts_from_a_fresh_sandbox(tmp_path: Path) -> None:
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "ar_pipelines.cli", "demo", "--out", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
