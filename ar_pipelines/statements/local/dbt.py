"""The dbt project, invoked in-process, and its failures turned into this package's errors."""

from __future__ import annotations

import ast
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ar_pipelines.statements.local.dbt_args import dbt_arguments, dbt_environment
from ar_pipelines.statements.local.errors import DbtRunError, InvalidLedgerError
from ar_pipelines.statements.local.manifests import manifest_for
from ar_pipelines.statements.local.warehouse import Warehouse

STAGING_MODEL = "model.ar_statements.stg_ledger_entries"
FAILED = frozenset({"error", "fail", "runtime error"})

# dbt keeps global state: one invocation at a time in a process.
_lock = threading.RLock()

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

    serialize_literal_eval()
    arguments = [*command, *dbt_arguments(warehouse, work_dir)]
    with _lock:
        manifest = manifest_for(warehouse, work_dir)
        with dbt_environment(warehouse.dbt_env()):
            outcome = dbtRunner(manifest=manifest).invoke(arguments)
    if outcome.exception is not None:
        raise DbtRunError(f"dbt {command[0]} failed: {outcome.exception}") from outcome.exception
    results = list(getattr(outcome.result, "results", None) or [])
    failed = [result for result in results if str(result.status) in FAILED]
    if failed:
        raise _failure(command[0], failed)
    if not outcome.success:
        raise DbtRunError(f"dbt {command[0]} failed")
    return outcome.result


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
