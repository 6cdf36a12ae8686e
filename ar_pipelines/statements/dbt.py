"""dbt, invoked from here only: the project, the arguments, vars and environment for a
warehouse (and for one practice's run), parsed manifests, and dbt's failures turned
into this package's errors.

Two callers. ``compute_local_statements`` invokes dbt in this process
(``build_statements``, ``invoke``). The Dagster assets run dbt's command line through
dagster-dbt, with the arguments and environment of ``practice_build``; they are defined
from the manifest dagster-dbt prepares (``ar_pipelines.defs.statements_dbt``). The
models are incremental: a build computes only the customers whose ledger entries
changed since the last one, and dbt's ``--full-refresh`` (``full_refresh=True``) every
customer.

Parsed manifests, so that most invocations skip parsing the project: a manifest
depends on the target, the database and schema its relations live in and the vars.
In a process it is kept for each of those. Across processes, dbt's own partial-parse
file is kept in a cache directory for each of those and for dbt-core's version and
the project's files, so it never goes stale: parsing is about two seconds, reading
the file a fraction of one. The file of the first run is kept and never replaced
(``_keep_partial_parse`` says why). dbt also checks the
connection settings, among them the DuckDB file's path, which is new for each
embedded run: the parse is therefore told of a stand-in file of the same name in the
cache directory. Parsing never opens it.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Protocol

from ar_pipelines._environment import environment_set
from ar_pipelines.statements.errors import DbtRunError, InvalidLedgerError
from ar_pipelines.warehouse import Warehouse

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# Every model and data test; unit tests are for CI.
BUILD = ("build", "--exclude-resource-type", "unit_test")
STAGING_MODEL = "model.ar_statements.stg_ledger_entries"
FAILED = frozenset({"error", "fail", "runtime error"})
PROJECT_FILE_SUFFIXES = frozenset({".sql", ".yml"})
CACHE_ENV = "AR_DBT_PARSE_CACHE"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
KEPT_PARSES = 64  # directories of kept parses, the most recently used
DUCKDB_PATH_ENV = "AR_DBT_DUCKDB_PATH"
# dbt keeps variables named so out of its logs; the manifest cache keys leave them out too.
SECRET_ENV_PREFIX = "DBT_ENV_SECRET_"  # noqa: S105 - a prefix of names, not a secret

# dbt keeps global state: one invocation at a time in a process.
_lock = threading.RLock()
_manifests: dict[tuple[str, ...], Any] = {}

# Before Python 3.12 the AST builder keeps its recursion depth in state shared by every
# thread (CPython gh-106905), so two threads inside ``ast.literal_eval`` at once can fail
# with "AST constructor recursion depth mismatch". dbt's threads all compile Jinja, which
# calls it for every string literal: those calls take turns here.
_LITERAL_EVAL_USERS = ("jinja2.lexer", "jinja2.nativetypes", "dbt_common.clients.jinja")
_literal_eval_lock = threading.Lock()


def _one_literal_eval_at_a_time(node_or_string: Any) -> Any:
    with _literal_eval_lock:
        return ast.literal_eval(node_or_string)


def serialize_literal_eval(version: tuple[int, ...] = sys.version_info[:2]) -> None:
    """Make the Jinja and dbt modules that call ``ast.literal_eval`` take turns on 3.11."""
    if version >= (3, 12):
        return
    import importlib

    for name in _LITERAL_EVAL_USERS:
        module = importlib.import_module(name)
        current: Callable[..., Any] = module.literal_eval
        if current is not _one_literal_eval_at_a_time:
            module.literal_eval = _one_literal_eval_at_a_time  # type: ignore[attr-defined]


# --- arguments, vars and environment ------------------------------------------------------


class Practice(Protocol):
    """What a run for one practice reads of it (``ar_pipelines.defs.practices.Practice``)."""

    @property
    def id(self) -> str: ...

    @property
    def schema_suffix(self) -> str:
        """The practice's id as a part of an SQL identifier."""


def practice_schema(practice: Practice, prefix: str = "") -> str:
    """Where a practice's models are built (and where reconciliation reads them)."""
    return f"{prefix}statements_{practice.schema_suffix}"


def dbt_vars(warehouse: Warehouse, practice: Practice | None = None) -> str:
    """The project's vars for ``warehouse``, and for a run of one ``practice`` (its rows
    of the ledger only, into a schema of its own), as ``--vars`` takes them."""
    variables = warehouse.dbt_vars()
    if practice is not None:
        variables["practice_id"] = practice.id
        variables["practice_schema"] = practice_schema(practice, warehouse.schema_prefix)
    return json.dumps(variables, sort_keys=True)


def dbt_environment(values: dict[str, str]) -> AbstractContextManager[None]:
    """The profile's variables for one invocation, and the previous ones back after it."""
    return environment_set({**values, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})


@dataclass(frozen=True)
class DbtCommand:
    """A dbt command line's arguments, and the environment the profile reads for it:
    that may hold the database password, for dbt only and never for a log.
    ``parse_cache`` is where dbt's parse of the project for this command is kept
    between runs (``keep_parse``), or None."""

    arguments: list[str]
    environment: dict[str, str]
    parse_cache: Path | None = None

    def keep_parse(self, target_path: Path) -> None:
        """After a run: keep the partial-parse file it wrote into ``target_path`` for the
        next runs of this command, unless one is kept already."""
        if self.parse_cache is not None:
            _keep_partial_parse(target_path / PARTIAL_PARSE_FILE, self.parse_cache)


def practice_build(
    warehouse: Warehouse, practice: Practice, *, full_refresh: bool = False
) -> DbtCommand:
    """The build of one practice's models and data tests, for dbt's command line (a
    Dagster partition). It starts from the parse kept by the last build for the same
    profile settings and vars, when there is one: dbt parses again if anything it
    depends on changed.

    The build is incremental: only the customers whose ledger entries changed since
    the last build are computed again. ``full_refresh`` computes every customer
    (dbt's ``--full-refresh``); a flag of the run, not a var, so the kept parse serves
    both."""
    environment = warehouse.dbt_env()
    variables = dbt_vars(warehouse, practice)
    arguments = [*BUILD, "--vars", variables, *_full_refresh(full_refresh)]
    cache = _cache_dir(("build", *_profile_settings(environment), variables))
    if cache is not None and (cache / PARTIAL_PARSE_FILE).is_file():
        arguments += ["--partial-parse-file-path", str(cache / PARTIAL_PARSE_FILE)]
    return DbtCommand(arguments, environment, cache)


def _full_refresh(full_refresh: bool) -> list[str]:
    return ["--full-refresh"] if full_refresh else []


def dbt_arguments(
    warehouse: Warehouse,
    work_dir: Path,
    *,
    partial_parse: bool = False,
    practice: Practice | None = None,
) -> list[str]:
    """What every in-process invocation for ``warehouse`` (and ``practice``) is told,
    after its command."""
    return [
        *_quiet_arguments(work_dir, partial_parse=partial_parse),
        "--target",
        warehouse.dialect,
        "--vars",
        dbt_vars(warehouse, practice),
    ]


def _quiet_arguments(work_dir: Path, *, partial_parse: bool) -> list[str]:
    """The project, dbt's files under ``work_dir`` (``target``, ``logs``), and nothing on
    the terminal or in a log file."""
    return [
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
        "--log-level",
        "none",
        "--log-level-file",
        "none",
        "--partial-parse" if partial_parse else "--no-partial-parse",
        "--no-write-json",
        "--no-version-check",
        "--no-send-anonymous-usage-stats",
        "--no-use-colors",
    ]


# --- in-process invocation ----------------------------------------------------------------


def build_statements(
    warehouse: Warehouse,
    work_dir: Path,
    *,
    run_tests: bool = True,
    full_refresh: bool = False,
    practice: Practice | None = None,
) -> Any:
    """Build every model, and with ``run_tests`` every data test (unit tests are for CI):
    incrementally (the customers whose entries changed since the last build), or
    every customer with ``full_refresh``. With ``practice``, its rows of the ledger into
    its own schema, as its Dagster partition builds them.

    A ledger the staging tests refuse raises ``InvalidLedgerError``; any other
    failure ``DbtRunError``. Returns dbt's ``RunExecutionResult``.
    """
    command = [*(BUILD if run_tests else ["run"]), *_full_refresh(full_refresh)]
    return invoke(warehouse, work_dir, command, practice=practice)


def invoke(
    warehouse: Warehouse,
    work_dir: Path,
    command: Sequence[str],
    *,
    practice: Practice | None = None,
) -> Any:
    """Run one dbt command against ``warehouse`` (for ``practice``, see ``dbt_vars``) in
    this process, with dbt's files in ``work_dir``; raise when anything in it failed."""
    arguments = [*command, *dbt_arguments(warehouse, work_dir, practice=practice)]
    with _lock:
        manifest = _manifest_for(warehouse, work_dir, practice)
        outcome = _run(arguments, warehouse.dbt_env(), manifest=manifest)
    if outcome.exception is not None:
        raise DbtRunError(f"dbt {command[0]} failed: {outcome.exception}") from outcome.exception
    results = list(getattr(outcome.result, "results", None) or [])
    failed = [result for result in results if str(result.status) in FAILED]
    if failed:
        raise _failure(command[0], failed)
    if not outcome.success:
        raise DbtRunError(f"dbt {command[0]} failed")
    return outcome.result


def _run(arguments: list[str], environment: dict[str, str], *, manifest: Any = None) -> Any:
    """dbt's ``dbtRunnerResult`` of one invocation in this process, one at a time."""
    from dbt.cli.main import dbtRunner

    serialize_literal_eval()
    with _lock, dbt_environment(environment):
        return dbtRunner(manifest=manifest).invoke(arguments)


def _parse(arguments: list[str], environment: dict[str, str]) -> Any:
    """The manifest ``dbt parse`` gives, or ``DbtRunError``."""
    parsed = _run(["parse", *arguments], environment)
    if not parsed.success:
        raise DbtRunError(f"dbt could not parse {PROJECT_DIR}: {parsed.exception}")
    return parsed.result


def _failure(command: str, failed: list[Any]) -> Exception:
    if all(_is_input_check(result.node) for result in failed):
        reasons = "; ".join(_input_reason(result) for result in failed)
        return InvalidLedgerError(f"the ledger breaks the input contract: {reasons}")
    names = tuple(f"{result.node.name}: {_message(result)}" for result in failed)
    return DbtRunError(f"dbt {command} failed in {'; '.join(names)}", names)


def _is_input_check(node: Any) -> bool:
    return getattr(node, "resource_type", None) == "test" and (
        getattr(node, "attached_node", None) == STAGING_MODEL
    )


def _input_reason(result: Any) -> str:
    node = result.node
    test = getattr(getattr(node, "test_metadata", None), "name", "")
    column = getattr(node, "column_name", None)
    count = result.failures
    if test == "unique":
        return f"{count} {column} value(s) repeat"
    if test == "not_null":
        return f"{count} entr(ies) have no {column}"
    if test == "accepted_values":
        return f"{count} {column} value(s) are not one of the six pushable types"
    if test == "amount_sign_matches_type":
        return f"{count} entr(ies) have an amount whose sign their type does not allow"
    return f"{node.name} ({_message(result)})"


def _message(result: Any) -> str:
    """dbt's message on one line: for a model the database's error, for a test how many
    rows failed."""
    return " ".join(str(result.message or result.status).split())


# --- manifests ----------------------------------------------------------------------------


def _manifest_for(warehouse: Warehouse, work_dir: Path, practice: Practice | None) -> Any:
    """The project's manifest for ``warehouse`` and ``practice``; the caller holds the
    invocation lock."""
    key = _manifest_key(warehouse, practice)
    if key not in _manifests:
        _manifests[key] = _parse_for(warehouse, work_dir, practice, _cache_dir(key))
    return _manifests[key]


def _manifest_key(warehouse: Warehouse, practice: Practice | None) -> tuple[str, ...]:
    """What a manifest depends on: the profile's settings but the secrets, the DuckDB
    file by its name (its directory changes with each embedded run), and the vars."""
    environment = warehouse.dbt_env()
    if DUCKDB_PATH_ENV in environment:
        environment[DUCKDB_PATH_ENV] = Path(environment[DUCKDB_PATH_ENV]).name
    return (*_profile_settings(environment), dbt_vars(warehouse, practice))


def _profile_settings(environment: dict[str, str]) -> list[str]:
    """The profile's variables as ``name=value``, sorted, but the secrets."""
    return sorted(
        f"{name}={value}"
        for name, value in environment.items()
        if not name.startswith(SECRET_ENV_PREFIX)
    )


def _parse_for(
    warehouse: Warehouse, work_dir: Path, practice: Practice | None, cache: Path | None
) -> Any:
    arguments = dbt_arguments(
        warehouse, work_dir, partial_parse=cache is not None, practice=practice
    )
    environment = warehouse.dbt_env()
    if cache is not None:
        saved = cache / PARTIAL_PARSE_FILE
        if saved.is_file():
            arguments += ["--partial-parse-file-path", str(saved)]
        if DUCKDB_PATH_ENV in environment:
            environment[DUCKDB_PATH_ENV] = str(cache / Path(environment[DUCKDB_PATH_ENV]).name)
    manifest = _parse(arguments, environment)
    if cache is not None:
        _keep_partial_parse(work_dir / "target" / PARTIAL_PARSE_FILE, cache)
    return manifest


def _keep_partial_parse(written: Path, cache: Path) -> None:
    """Keep ``written``, the parse of the first run for the cache's key: publish it whole
    or not at all. A kept parse is never replaced. Every later run starts from it and
    finds nothing changed (the key holds everything dbt checks it against), but the
    file such a run writes records other hashes of the vars and the profile than the
    ones dbt then computes, so a run started from it would parse in full again. A cache
    that cannot take the file (its directory pruned meanwhile, a full disk) is passed
    by: the next run parses in full."""
    kept = cache / PARTIAL_PARSE_FILE
    if not written.is_file() or kept.is_file():
        return
    staging = cache / f".{uuid.uuid4().hex}.tmp"
    try:
        shutil.copyfile(written, staging)
        os.replace(staging, kept)
    except OSError:
        staging.unlink(missing_ok=True)


def _cache_dir(key: tuple[str, ...]) -> Path | None:
    """A directory of this key's own, or None (and parse in full) when there is none to
    be had. ``AR_DBT_PARSE_CACHE`` chooses where; an empty value turns the cache off.
    The directory belongs to the key with dbt-core's version and the project's files:
    a parse kept there is the parse of exactly these."""
    configured = os.environ.get(CACHE_ENV)
    if configured == "":
        return None
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    root = Path(configured) if configured else Path(home) / "ar-pipelines" / "dbt-parse"
    digest = hashlib.sha256("\x1f".join((*key, _project_digest())).encode()).hexdigest()[:16]
    directory = root / digest
    try:
        directory.mkdir(parents=True, exist_ok=True)
        os.utime(directory)
    except OSError:
        return None
    _prune(root, keep=directory)
    return directory


def project_files(project_dir: Path | None = None) -> list[Path]:
    """The files of the project (by default ``PROJECT_DIR``) that dbt parses, not its
    ``target`` or logs: a parse of the project is out of date when one of them is newer."""
    root = project_dir or PROJECT_DIR
    return sorted(
        path
        for path in root.rglob("*")
        if path.suffix in PROJECT_FILE_SUFFIXES
        and not {"target", "logs"} & set(path.relative_to(root).parts)
    )


def _project_digest() -> str:
    """dbt-core's version and the content of the project's files, as one digest."""
    digest = hashlib.sha256(version("dbt-core").encode())
    for path in project_files():
        digest.update(str(path.relative_to(PROJECT_DIR)).encode() + b"\x00")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _prune(root: Path, keep: Path) -> None:
    """Remove all but the ``KEPT_PARSES`` directories used last: an embedded run's
    DuckDB file is new each time, and so is the key of its builds."""
    try:
        directories = [path for path in root.iterdir() if path.is_dir() and path != keep]
        directories.sort(key=lambda path: path.stat().st_mtime, reverse=True)
    except OSError:
        return
    for stale in directories[KEPT_PARSES - 1 :]:
        shutil.rmtree(stale, ignore_errors=True)
