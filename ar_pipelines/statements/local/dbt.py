"""The dbt project, invoked in-process with an explicit profile, target and vars.

A parsed manifest depends on the target, the database and schema its relations
live in, and the vars; it is kept per process for each of those, so that only the
first invocation of a kind pays for parsing the project.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ar_pipelines.statements.local.errors import DbtRunError, InvalidLedgerError
from ar_pipelines.statements.local.warehouse import Warehouse

PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
STAGING_MODEL = "model.ar_statements.stg_ledger_entries"
FAILED = frozenset({"error", "fail", "runtime error"})

_lock = threading.RLock()
_manifests: dict[tuple[str, ...], Any] = {}


def build_statements(warehouse: Warehouse, work_dir: Path, *, run_tests: bool = True) -> Any:
    """Build every model, and with ``run_tests`` every data test (unit tests are for CI).

    A ledger the staging tests refuse raises ``InvalidLedgerError``; any other
    failure ``DbtRunError``. Returns dbt's ``RunExecutionResult``.
    """
    if run_tests:
        return invoke(warehouse, work_dir, ["build", "--exclude-resource-type", "unit_test"])
    return invoke(warehouse, work_dir, ["run"])


def invoke(warehouse: Warehouse, work_dir: Path, command: Sequence[str]) -> Any:
    """Run one dbt command against ``warehouse``; raise when anything in it failed."""
    from dbt.cli.main import dbtRunner

    arguments = [*command, *_common_arguments(warehouse, work_dir)]
    with _lock, _environment(warehouse.dbt_env()):
        outcome = dbtRunner(manifest=_manifest(warehouse, work_dir)).invoke(arguments)
    if outcome.exception is not None:
        raise DbtRunError(f"dbt {command[0]} failed: {outcome.exception}") from outcome.exception
    results = list(getattr(outcome.result, "results", None) or [])
    failed = [result for result in results if str(result.status) in FAILED]
    if failed:
        raise _failure(command[0], failed)
    if not outcome.success:
        raise DbtRunError(f"dbt {command[0]} failed")
    return outcome.result


def _manifest(warehouse: Warehouse, work_dir: Path) -> Any:
    from dbt.cli.main import dbtRunner

    key = (warehouse.target, warehouse.database, warehouse.schema, _vars(warehouse))
    if key not in _manifests:
        parsed = dbtRunner().invoke(["parse", *_common_arguments(warehouse, work_dir)])
        if not parsed.success:
            raise DbtRunError(f"dbt could not parse {PROJECT_DIR}: {parsed.exception}")
        _manifests[key] = parsed.result
    return _manifests[key]


def _vars(warehouse: Warehouse) -> str:
    return json.dumps(warehouse.dbt_vars(), sort_keys=True)


def _common_arguments(warehouse: Warehouse, work_dir: Path) -> list[str]:
    return [
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target",
        warehouse.target,
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
        "--vars",
        _vars(warehouse),
        "--log-level",
        "none",
        "--log-level-file",
        "none",
        "--no-partial-parse",
        "--no-write-json",
        "--no-version-check",
        "--no-send-anonymous-usage-stats",
        "--no-use-colors",
    ]


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """The profile's variables for one invocation, and the previous ones back after it."""
    values = {**values, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


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
