"""``ar-pipelines normalize``: a landed database or a Sikka office through the REST API, to
customers, ledger entries and a quarantine."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from ar_demo.generate import generate
from ar_pipelines.cli import main
from ar_pipelines.sources.sql_reader import SqlSource
from tests.ar_pipelines.sources.sikka_server import (
    Credentials,
    RunningSikka,
    create_sikka_app,
    running_sikka,
)

CREDENTIALS = Credentials()


def rows_in(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def source_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('office') / 'source.db'}"
    generate(
        url, practices=2, patients=20, months=2, seed=5, defect_rate=0.1, end=date(2024, 6, 30)
    )
    return url


@pytest.fixture
def sikka(source_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSikka]:
    monkeypatch.setenv("SIKKA_APP_ID", CREDENTIALS.app_id)
    monkeypatch.setenv("SIKKA_APP_KEY", CREDENTIALS.app_key)
    monkeypatch.delenv("SIKKA_SECRET_KEY", raising=False)
    with running_sikka(create_sikka_app(source_url, credentials=CREDENTIALS)) as api:
        yield api


def printed_counts(capsys: pytest.CaptureFixture[str]) -> dict[str, int]:
    return {
        name: int(count)
        for name, count in (line.rsplit(": ", 1) for line in capsys.readouterr().out.splitlines())
    }


def test_normalize_writes_the_three_files_of_one_practice_under_its_project_id(
    tmp_path: Path, source_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    arguments = ["--source", source_url, "--sikka-practice-id", "2", "--practice", "P002"]

    assert main(["normalize", *arguments, "--out", str(out)]) == 0

    printed = printed_counts(capsys)
    with SqlSource(source_url) as source:
        practice_rows = sum(len(chunk) for chunk in source.transactions(practice_id="2"))
    assert printed["transactions read"] == practice_rows
    for name in ("customers.csv", "ledger_entries.csv", "quarantine.csv"):
        assert printed[name] == len(rows_in(out / name))
    entries = rows_in(out / "ledger_entries.csv")
    assert entries
    assert all(entry["external_id"].startswith("P002-") for entry in entries)


def test_normalize_reads_a_sikka_office_through_the_api_as_its_database_reads(
    tmp_path: Path, source_url: str, sikka: RunningSikka, capsys: pytest.CaptureFixture[str]
) -> None:
    office = CREDENTIALS.office_id
    through_api, from_database = tmp_path / "api", tmp_path / "database"
    api = ["--sikka-url", f"{sikka.base_url}/v4", "--office-id", office]

    assert main(["normalize", *api, "--out", str(through_api)]) == 0
    database = ["--source", source_url, "--practice", office]
    assert main(["normalize", *database, "--out", str(from_database)]) == 0

    capsys.readouterr()
    for name in ("customers.csv", "ledger_entries.csv"):
        assert rows_in(through_api / name) == rows_in(from_database / name)
    # Quarantined rows alike; their raw text differs only by the database's load time.
    verdicts = [
        sorted((row["source_id"], row["reason"]) for row in rows_in(out / "quarantine.csv"))
        for out in (through_api, from_database)
    ]
    assert verdicts[0] == verdicts[1]
    entries = rows_in(through_api / "ledger_entries.csv")
    assert entries
    assert all(entry["external_id"].startswith(f"{office}-") for entry in entries)


def test_an_office_sikka_is_still_loading_exits_3_with_one_line_and_no_secret(
    tmp_path: Path, sikka: RunningSikka, capsys: pytest.CaptureFixture[str]
) -> None:
    sikka.state.data_insert = "in progress"
    api = ["--sikka-url", sikka.base_url, "--office-id", CREDENTIALS.office_id]

    assert main(["normalize", *api, "--out", str(tmp_path / "out")]) == 3

    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1
    assert "loading" in error
    for secret in (CREDENTIALS.app_key, CREDENTIALS.secret_key):
        assert secret not in error
    assert not (tmp_path / "out" / "ledger_entries.csv").exists()


def usage_error(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    """What ``normalize`` says when it refuses its command line, which exits 2."""
    assert main(["normalize", *arguments]) == 2
    return capsys.readouterr().err


def test_reading_sikka_without_the_app_credentials_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SIKKA_APP_ID", raising=False)
    monkeypatch.delenv("SIKKA_APP_KEY", raising=False)
    api = ["--sikka-url", "http://127.0.0.1:9", "--office-id", "D1"]

    error = usage_error(capsys, *api, "--out", str(tmp_path))

    assert "set SIKKA_APP_ID and SIKKA_APP_KEY" in error


def test_naming_both_a_database_and_sikka_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    both = ["--source", "sqlite:///x.db", "--sikka-url", "http://127.0.0.1:9"]

    assert "either --source or --sikka-url" in usage_error(capsys, *both, "--out", str(tmp_path))


def test_a_missing_sqlite_source_is_a_clear_error_not_an_empty_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "source.db"

    error = usage_error(capsys, "--source", f"sqlite:///{missing}", "--out", str(tmp_path))

    assert f"no SQLite source database at {missing}" in error
    assert not missing.exists()
