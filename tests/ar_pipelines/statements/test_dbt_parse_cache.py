"""A practice's dbt build starts from the parse the last build for the same settings kept."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ar_pipelines.statements import dbt
from ar_pipelines.statements.dbt import (
    CACHE_ENV,
    KEPT_PARSES,
    PARTIAL_PARSE_FILE,
    practice_build,
)
from ar_pipelines.warehouse import Warehouse, open_warehouse

FLAG = "--partial-parse-file-path"


@dataclass(frozen=True)
class Practice:
    id: str

    @property
    def schema_suffix(self) -> str:
        return self.id.lower()


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Warehouse]:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    with open_warehouse(f"duckdb:///{tmp_path / 'warehouse.duckdb'}") as opened:
        yield opened


def wrote_a_parse(target: Path, content: bytes) -> Path:
    target.mkdir(parents=True)
    (target / PARTIAL_PARSE_FILE).write_bytes(content)
    return target


def kept_parse(arguments: list[str]) -> bytes | None:
    if FLAG not in arguments:
        return None
    return Path(arguments[arguments.index(FLAG) + 1]).read_bytes()


def test_the_first_build_parses_in_full_and_the_next_starts_from_the_parse_it_kept(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    first = practice_build(warehouse, Practice("P1"))
    first.keep_parse(wrote_a_parse(tmp_path / "run-1", b"parsed for P1"))
    second = practice_build(warehouse, Practice("P1"))

    assert kept_parse(first.arguments) is None
    assert kept_parse(second.arguments) == b"parsed for P1"


def test_a_build_that_skipped_parsing_leaves_the_kept_parse_as_it_was(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    practice_build(warehouse, Practice("P1")).keep_parse(
        wrote_a_parse(tmp_path / "run-1", b"parsed for P1")
    )
    (tmp_path / "run-2").mkdir()
    practice_build(warehouse, Practice("P1")).keep_parse(tmp_path / "run-2")

    assert kept_parse(practice_build(warehouse, Practice("P1")).arguments) == b"parsed for P1"


def test_a_later_builds_parse_does_not_replace_the_one_kept(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    # dbt writes a parse after every run; one written after a partial parse records
    # hashes that would make the next run parse in full.
    practice_build(warehouse, Practice("P1")).keep_parse(
        wrote_a_parse(tmp_path / "run-1", b"parsed for P1")
    )
    practice_build(warehouse, Practice("P1")).keep_parse(
        wrote_a_parse(tmp_path / "run-2", b"written after a partial parse")
    )

    assert kept_parse(practice_build(warehouse, Practice("P1")).arguments) == b"parsed for P1"


def test_a_changed_project_file_starts_a_parse_of_its_own(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    shutil.copytree(dbt.PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setattr(dbt, "PROJECT_DIR", project)
    practice_build(warehouse, Practice("P1")).keep_parse(
        wrote_a_parse(tmp_path / "run-1", b"parsed for P1")
    )
    model = project / "models" / "marts" / "statements.sql"
    model.write_text(model.read_text() + "\n-- edited\n")

    assert kept_parse(practice_build(warehouse, Practice("P1")).arguments) is None


def test_another_practices_build_does_not_start_from_a_parse_with_other_vars(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    practice_build(warehouse, Practice("P1")).keep_parse(
        wrote_a_parse(tmp_path / "run-1", b"parsed for P1")
    )

    assert kept_parse(practice_build(warehouse, Practice("P2")).arguments) is None


def test_with_the_cache_turned_off_every_build_parses_in_full(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, "")
    first = practice_build(warehouse, Practice("P1"))
    first.keep_parse(wrote_a_parse(tmp_path / "run-1", b"parsed for P1"))

    assert first.parse_cache is None
    assert kept_parse(practice_build(warehouse, Practice("P1")).arguments) is None


def test_the_cache_keeps_only_the_parses_used_last(warehouse: Warehouse, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for age in range(KEPT_PARSES + 5):
        stale = cache / f"stale-{age:03d}"
        stale.mkdir(parents=True)
        os.utime(stale, (1_000_000 - age, 1_000_000 - age))
    build = practice_build(warehouse, Practice("P1"))
    kept = {path.name for path in cache.iterdir()}

    assert build.parse_cache is not None
    assert len(kept) == KEPT_PARSES
    assert build.parse_cache.name in kept
    assert {f"stale-{age:03d}" for age in range(KEPT_PARSES - 1)} < kept
