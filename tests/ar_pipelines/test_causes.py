"""One line per error: what its innermost cause says, from a live exception or from the
``SerializableErrorInfo`` Dagster keeps of a failed step."""

from __future__ import annotations

import traceback
from pathlib import Path

import httpx
from dagster_dbt import DagsterDbtCliRuntimeError
from dagster_shared.error import SerializableErrorInfo
from sqlalchemy import create_engine

from ar_pipelines.causes import cause_line
from ar_pipelines.client import ApiConnectionError, PushIncompleteError, PushReport
from ar_pipelines.sources.base import SourceUnavailable
from ar_pipelines.sync.report import SyncIncompleteError, SyncReport
from ar_pipelines.warehouse import WarehouseError
from tests.errors import chained

REFUSED = "POST /ledgers/bulk: [Errno 111] Connection refused after 7 attempts"


def push_that_stopped() -> Exception:
    """A ledger push that stopped because AR refused the connection, as the sync raises it."""
    return chained(
        SyncIncompleteError(
            "12 of 40 ledger_entries of practice P001 were not sent (28 landed); they go "
            f"again next run: 12 of 40 ledger_entries were not sent (28 landed): {REFUSED}",
            SyncReport("ledger_entries", "P001"),
        ),
        PushIncompleteError(
            f"12 of 40 ledger_entries were not sent (28 landed): {REFUSED}",
            PushReport(kind="ledger_entries", total=40),
        ),
        ApiConnectionError(
            "[Errno 111] Connection refused after 7 attempts",
            method="POST",
            path="/ledgers/bulk",
            request_id=None,
        ),
        httpx.ConnectError("[Errno 111] Connection refused"),
    )


def info_of(error: BaseException) -> SerializableErrorInfo:
    return SerializableErrorInfo.from_traceback(traceback.TracebackException.from_exception(error))


def test_a_live_chain_gives_its_innermost_cause_as_the_error_around_it_states_it() -> None:
    # httpx's words, as the client restates them with the request and the attempts.
    assert cause_line(push_that_stopped()) == REFUSED


def test_a_live_chain_gives_the_innermost_cause_when_nothing_around_it_restates_it() -> None:
    error = chained(
        SourceUnavailable("GET /v4/transactions: ConnectError after 5 tries"),
        httpx.ConnectError("[Errno 111] Connection refused\nmore the line does not need"),
    )
    assert cause_line(error) == "[Errno 111] Connection refused"
    assert cause_line(SourceUnavailable("no cause\nsecond line")) == "no cause"


def test_nested_error_infos_give_the_innermost_cause_without_dagsters_wrapping() -> None:
    # As Dagster records a step that ran out of retries: its own message, the cause under it.
    failed = SerializableErrorInfo(
        message="Exceeded max_retries of 3\n",
        stack=[],
        cls_name="RetryRequested",
        cause=info_of(push_that_stopped()),
    )
    assert failed.cause is not None
    assert failed.cause.message.startswith("ar_pipelines.sync.report.SyncIncompleteError: ")

    assert cause_line(failed) == REFUSED


def test_an_error_info_loses_the_class_python_puts_before_its_message() -> None:
    inner = SerializableErrorInfo(
        message="sqlalchemy.exc.OperationalError: (psycopg.OperationalError) connection failed:"
        ' FATAL:  database "no_such_db" does not exist\n(Background on this error at: x)\n',
        stack=[],
        cls_name="OperationalError",
    )
    outer = SerializableErrorInfo(
        message="dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while "
        'executing op "raw__patients":\n',
        stack=[],
        cls_name="DagsterExecutionStepExecutionError",
        cause=inner,
    )
    assert cause_line(outer) == 'connection failed: FATAL:  database "no_such_db" does not exist'
    bare = SerializableErrorInfo(message="builtins.KeyError\n", stack=[], cls_name="KeyError")
    assert cause_line(bare) == "KeyError"


def test_what_an_error_was_raised_while_handling_is_not_its_cause() -> None:
    try:
        try:
            raise KeyError("practice_id")
        except KeyError:
            raise ValueError("the practice has no id")  # noqa: B904 - on purpose, no cause
    except ValueError as err:
        handled = err
    assert cause_line(handled) == "the practice has no id"
    assert cause_line(info_of(handled)) == "the practice has no id"


def test_what_a_translation_hid_on_purpose_is_not_shown() -> None:
    secret = "s3cr3t-pw"
    try:
        try:
            raise ValueError(f"cannot parse postgresql://ar:{secret}@db/warehouse")
        except ValueError:
            raise WarehouseError("not a Postgres URL") from None
    except WarehouseError as err:
        hidden = err
    assert secret in str(hidden.__context__)
    assert cause_line(hidden) == "not a Postgres URL"
    assert secret not in cause_line(info_of(hidden))


def test_sqlalchemys_tag_before_the_drivers_words_is_dropped(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/no/such/dir.db")
    try:
        engine.connect()
    except Exception as err:
        failed = err
    assert cause_line(failed) == "unable to open database file"


def test_dbts_failure_gives_the_lock_dbt_met_naming_the_file_and_process() -> None:
    error = DagsterDbtCliRuntimeError(
        'The dbt CLI process with command\n\n`dbt build --vars {"practice_id": "P001"}`\n\n'
        "failed with exit code `2`. Check the stdout.\n\nErrors parsed from dbt logs:\n\n"
        "Encountered an error:\n"
        'IO Error: Could not set lock on file "/srv/ar/warehouse.duckdb": Conflicting lock is '
        "held in /usr/bin/python3.11 (PID 4242). See also https://duckdb.org/docs\n\n"
        "Traceback (most recent call last):\n"
    )
    assert cause_line(error) == (
        'IO Error: Could not set lock on file "/srv/ar/warehouse.duckdb": '
        "Conflicting lock is held in /usr/bin/python3.11 (PID 4242)"
    )
    assert cause_line(info_of(error)) == cause_line(error)


def test_dbts_failure_gives_the_error_dbt_logged_or_its_exit_code_never_the_command() -> None:
    logged = DagsterDbtCliRuntimeError(
        'The dbt CLI process with command\n\n`dbt build --vars {"ledger_schema": "x"}`\n\n'
        "failed with exit code `2`.\n\nErrors parsed from dbt logs:\n\nEncountered an error:\n"
        'Database Error\n  connection to server at "127.0.0.1", port 5439 failed: Connection '
        "refused\n  \tIs the server running on that host?\n"
    )
    assert cause_line(logged) == (
        'connection to server at "127.0.0.1", port 5439 failed: Connection refused'
    )
    silent = DagsterDbtCliRuntimeError(
        'The dbt CLI process with command\n\n`dbt build --vars {"ledger_schema": "x"}`\n\n'
        "failed with exit code `1`. Check the stdout in the Dagster compute logs."
    )
    assert cause_line(silent) == "dbt failed with exit code 1"
