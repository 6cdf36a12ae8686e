"""``ar-pipelines normalize``: a source database to customers, ledger entries and a quarantine."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from ar_demo.generate import generate
from ar_pipelines.cli import main
from ar_pipelines.sources.sql_reader import SqlSource


def rows_in(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as file:
        return sum(1 for _ in csv.DictReader(file))


def test_normalize_writes_the_three_files_and_prints_what_it_read_and_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    generate(
        url, practices=2, patients=20, months=2, seed=5, defect_rate=0.1, end=date(2024, 6, 30)
    )
    out = tmp_path / "out"

    assert main(["normalize", "--source", url, "--practice", "P001", "--out", str(out)]) == 0

    printed = dict(line.rsplit(": ", 1) for line in capsys.readouterr().out.splitlines())
    with SqlSource(url) as source:
        practice_rows = sum(len(chunk) for chunk in source.transactions(practice_id="P001"))
    assert int(printed["transactions read"]) == practice_rows
    for name in ("customers.csv", "ledger_entries.csv", "quarantine.csv"):
        assert int(printed[name]) == rows_in(out / name)
    assert rows_in(out / "ledger_entries.csv") > 0


def test_a_missing_sqlite_source_is_a_clear_error_not_an_empty_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "source.db"
    assert main(["normalize", "--source", f"sqlite:///{missing}", "--out", str(tmp_path)]) == 2
    assert f"no SQLite source database at {missing}" in capsys.readouterr().err
    assert not missing.exists()
