"""The dbt assets are defined from the manifest dagster-dbt prepares: ahead of loading
(``make install``, a deployment's image build), or under ``dagster dev`` as the code
location loads; without one, loading says how to prepare it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from ar_pipelines.defs.statements_dbt import (
    PREPARE_COMMAND,
    ManifestNotPreparedError,
    StaleManifestWarning,
    dbt_project,
    manifest_is_current,
    prepared_manifest,
)
from ar_pipelines.statements.dbt import PROJECT_DIR

COMMAND = "dagster-dbt project prepare-and-package --file ar_pipelines/defs/statements_dbt.py"


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the dbt project, without its target or logs; neither dagster dev nor
    a PATH that holds dbt."""
    copy = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
    monkeypatch.setenv("PATH", os.defpath)
    return copy


def modified(path: Path, than: Path, seconds_later: float) -> None:
    """Give ``path`` the time ``than`` was modified, ``seconds_later`` (or earlier)."""
    when = than.stat().st_mtime + seconds_later
    os.utime(path, (when, when))


MODEL = Path("models", "marts", "statements.sql")


def test_the_command_named_is_the_one_make_install_runs() -> None:
    assert PREPARE_COMMAND == COMMAND
    assert COMMAND in (PROJECT_DIR.parent / "Makefile").read_text().replace("$(BIN)/", "")


def test_without_a_prepared_manifest_loading_fails_naming_the_command(project_dir: Path) -> None:
    with pytest.raises(ManifestNotPreparedError, match=COMMAND):
        prepared_manifest(dbt_project(project_dir))


def test_a_manifest_older_than_a_project_file_is_used_with_a_warning_naming_the_command(
    project_dir: Path,
) -> None:
    project = dbt_project(project_dir)
    project.manifest_path.parent.mkdir()
    project.manifest_path.write_text("{}")
    modified(project_dir / MODEL, than=project.manifest_path, seconds_later=60)

    with pytest.warns(StaleManifestWarning, match=COMMAND):
        assert prepared_manifest(project) == project.manifest_path


def test_under_dagster_dev_a_missing_manifest_is_prepared_and_a_current_one_kept(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = dbt_project(project_dir)
    project.prepare_if_dev()  # not under dagster dev: nothing
    assert not project.manifest_path.exists()

    monkeypatch.setenv("DAGSTER_IS_DEV_CLI", "1")
    project.prepare_if_dev()  # dbt parse, with the dbt beside the interpreter
    nodes = json.loads(project.manifest_path.read_text())["nodes"]
    assert "model.ar_statements.statements" in nodes
    assert manifest_is_current(project)

    model = project_dir / MODEL
    modified(project.manifest_path, than=project.manifest_path, seconds_later=-60)
    written = project.manifest_path.stat().st_mtime
    project.prepare_if_dev()  # every file older than the manifest: kept as it is
    assert project.manifest_path.stat().st_mtime == written

    modified(model, than=project.manifest_path, seconds_later=1)  # edited since
    assert not manifest_is_current(project)
