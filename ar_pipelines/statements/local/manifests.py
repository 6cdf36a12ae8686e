"""Parsed manifests of the dbt project, so that most invocations skip parsing it.

A manifest depends on the target, the database and schema its relations live in
and the vars. In a process it is kept for each of those. Across processes, dbt's
own partial-parse file is kept in a cache directory for each of those (dbt checks
it against the project's files and its own version, and parses again when they
changed): parsing is about three seconds, reading the file a fraction of one.

dbt also checks the connection settings, among them the DuckDB file's path, which
is new for each embedded run: the parse is therefore told of a stand-in file of
the same name in the cache directory. Parsing never opens it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from ar_pipelines.statements.local.dbt_args import (
    PROJECT_DIR,
    dbt_arguments,
    dbt_environment,
    dbt_vars,
)
from ar_pipelines.statements.local.errors import DbtRunError
from ar_pipelines.statements.local.warehouse import Warehouse

CACHE_ENV = "AR_DBT_PARSE_CACHE"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
DUCKDB_PATH_ENV = "AR_DBT_DUCKDB_PATH"

_manifests: dict[tuple[str, ...], Any] = {}


def manifest_for(warehouse: Warehouse, work_dir: Path) -> Any:
    """The project's manifest for ``warehouse``; the caller holds the invocation lock."""
    key = (warehouse.target, warehouse.database, warehouse.schema, dbt_vars(warehouse))
    if key not in _manifests:
        _manifests[key] = _parse(warehouse, work_dir, _cache_dir(key))
    return _manifests[key]


def _parse(warehouse: Warehouse, work_dir: Path, cache: Path | None) -> Any:
    from dbt.cli.main import dbtRunner

    arguments = ["parse", *dbt_arguments(warehouse, work_dir, partial_parse=cache is not None)]
    environment = warehouse.dbt_env()
    if cache is not None:
        saved = cache / PARTIAL_PARSE_FILE
        if saved.is_file():
            arguments += ["--partial-parse-file-path", str(saved)]
        if DUCKDB_PATH_ENV in environment:
            environment[DUCKDB_PATH_ENV] = str(cache / Path(environment[DUCKDB_PATH_ENV]).name)
    with dbt_environment(environment):
        parsed = dbtRunner().invoke(arguments)
    if not parsed.success:
        raise DbtRunError(f"dbt could not parse {PROJECT_DIR}: {parsed.exception}")
    written = work_dir / "target" / PARTIAL_PARSE_FILE
    if cache is not None and written.is_file():
        # dbt wrote a new file because it parsed in full; publish it whole or not at all.
        staging = cache / f".{uuid.uuid4().hex}.tmp"
        shutil.copyfile(written, staging)
        os.replace(staging, cache / PARTIAL_PARSE_FILE)
    return parsed.result


def _cache_dir(key: tuple[str, ...]) -> Path | None:
    """A directory of this key's own, or None (and parse in full) when there is none to
    be had. ``AR_DBT_PARSE_CACHE`` chooses where; an empty value turns the cache off."""
    configured = os.environ.get(CACHE_ENV)
    if configured == "":
        return None
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    root = Path(configured) if configured else Path(home) / "ar-pipelines" / "dbt-parse"
    digest = hashlib.sha256("\x1f".join(key).encode()).hexdigest()[:16]
    directory = root / digest
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return directory
