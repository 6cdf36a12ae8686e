"""Which failures a step retries: ``RETRY_RULES``, one row per kind of error, each row
met by a real error where one can be made here (a refused port, a locked file, a
database that is not there), and a step whose source database is missing fails at once."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import httpx
import psycopg
import pymysql
import pytest
import sqlalchemy.exc
from dagster_dbt import DagsterDbtCliRuntimeError
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from ar_pipelines.causes import cause_line
from ar_pipelines.client import (
    ApiConnectionError,
    ApiTimeoutError,
    ARClient,
    LiveKeyRequiredError,
    PushIncompleteError,
    PushReport,
)
from ar_pipelines.client.errors import status_error
from ar_pipelines.defs.common import (
    RETRY_RULES,
    Verdict,
    is_transient,
    retried_when_transient,
    verdict,
)
from ar_pipelines.defs.practices import PracticeConfigError
from ar_pipelines.sources.base import (
    DailyQuotaSpent,
    SourceError,
    SourceNotReady,
    SourceUnavailable,
)
from ar_pipelines.sources.sikka_http import SikkaAuthError
from ar_pipelines.sources.sql_reader import SqlSource
from ar_pipelines.sync.report import SyncIncompleteError, SyncReport
from ar_pipelines.warehouse import DuckDBWarehouse, WarehouseError, open_warehouse
from ar_pipelines.warehouse.location import DuckDBLocation
from tests.ar_pipelines.defs.conftest import Pipeline, write_practices
from tests.conftest import MYSQL_ENV, POSTGRES_ENV
from tests.errors import chained

RETRY, FAIL, NEXT_RUN = Verdict.RETRY, Verdict.FAIL, Verdict.NEXT_RUN
# Nothing listens on port 1 of the loopback: connecting is refused at once.
REFUSED_POSTGRES = "postgresql://postgres@127.0.0.1:1/test"
REFUSED_MYSQL = "mysql://root@127.0.0.1:1/test"

# dagster-dbt's error when dbt met the warehouse file held by another process, as a run
# reported it (the command's variables cut short).
DBT_LOCKED = """The dbt CLI process with command

`/work/main/.venv/bin/dbt build --exclude-resource-type unit_test --vars {"practice_id": "P001"}`

failed with exit code `2`. Check the stdout in the Dagster compute logs for the full \
information about the error, or view the dbt debug log: /work/main/dbt_project/target/0d/dbt.log.

Errors parsed from dbt logs:

Encountered an error:
IO Error: Could not set lock on file "/srv/ar/data/warehouse.duckdb": Conflicting lock is \
held in /usr/local/bin/python3.11 (PID 25994). See also https://duckdb.org/docs/current/connect/concurrency

Traceback (most recent call last):
  File "/work/main/.venv/lib/python3.11/site-packages/dbt/adapters/duckdb/connections.py", line 110
"""
# ... and when dbt-postgres could not reach the server, or found no such database.
DBT_POSTGRES = """The dbt CLI process with command

`/work/main/.venv/bin/dbt build --exclude-resource-type unit_test`

failed with exit code `2`. Check the stdout in the Dagster compute logs for the full \
information about the error.

Errors parsed from dbt logs:

Encountered an error:
Database Error
  connection to server at "127.0.0.1", port 5432 failed: {reason}
"""
DBT_MODEL_FAILED = """The dbt CLI process with command

`/work/main/.venv/bin/dbt build`

failed with exit code `1`. Check the stdout in the Dagster compute logs for the full \
information about the error.

Errors parsed from dbt logs:

Database Error in model statements (models/marts/statements.sql)
  Binder Error: Referenced column "amount_cents" not found in FROM clause!
"""


def raised(action: Callable[[], object]) -> Exception:
    """The error ``action`` raises."""
    try:
        action()
    except Exception as err:
        return err
    raise AssertionError("no error was raised")


def read_source(url: str) -> None:
    """What an extract does first: open the practice's SQL source and read from it."""
    with SqlSource(url) as source:
        source.practices()


def missing_database(env: str) -> str:
    """The test server's URL from ``env``, naming a database that is not there."""
    base = os.environ.get(env)
    if not base:
        pytest.skip(f"no test database server: set {env} (see tests/conftest.py)")
    return (
        make_url(base)
        .set(database=f"ar_missing_{uuid.uuid4().hex[:12]}")
        .render_as_string(hide_password=False)
    )


def server_url(env: str, *, user: str) -> str:
    base = os.environ.get(env)
    if not base:
        pytest.skip(f"no test database server: set {env} (see tests/conftest.py)")
    return make_url(base).set(username=user, password="wrong").render_as_string(hide_password=False)


@contextmanager
def held_by_another_process(path: Path) -> Iterator[int]:
    """``path``'s DuckDB file open for writing in another process; yields its PID."""
    code = (
        "import sys, duckdb\n"
        "connection = duckdb.connect(sys.argv[1])\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder.pid
    finally:
        holder.stdin.close()  # it reads to the end, then exits and lets go of the file
        holder.wait(timeout=60)


def duckdb_locked(tmp_path: Path) -> Exception:
    path = tmp_path / "held.duckdb"
    with held_by_another_process(path):
        return raised(lambda: duckdb.connect(str(path)))


def sqlite_locked(tmp_path: Path) -> Exception:
    path = tmp_path / "held.db"
    holder = sqlite3.connect(path)
    holder.execute("create table t (x integer)")
    holder.commit()
    holder.execute("begin exclusive")
    other = sqlite3.connect(path, timeout=0)
    try:
        return raised(lambda: other.execute("select * from t").fetchall())
    finally:
        other.close()
        holder.rollback()
        holder.close()


def sqlite_error(statement: str, path: str) -> Exception:
    def run() -> None:
        connection = sqlite3.connect(path)
        try:
            connection.execute(statement)
        finally:
            connection.close()

    return raised(run)


def ar_unreachable(_tmp_path: Path) -> Exception:
    """What AR's client raises when the connection is refused (no retries here)."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    http = httpx.Client(transport=httpx.MockTransport(refuse))
    client = ARClient(
        base_url="http://ar.test", api_key="sk_live_x", http_client=http, max_retries=0
    )
    with client:
        return raised(lambda: client.customers.get("c1"))


def ar_answer(status: int, path: str = "/ledgers/bulk") -> Exception:
    """The client's error for an error answer, mapped as it maps every answer."""
    request = httpx.Request("POST", f"http://ar.test{path}")
    response = httpx.Response(status, json={"message": "refused"}, request=request)
    return status_error(response, path=path)


def postgres(sqlstate: str, message: str = "server said so") -> Exception:
    """The error psycopg raises for ``sqlstate`` (its class for that code)."""
    return psycopg.errors.lookup(sqlstate)(message)


def libpq(reason: str) -> Exception:
    """psycopg's error when libpq could not connect (it carries no SQLSTATE)."""
    return psycopg.OperationalError(
        f'connection failed: connection to server at "10.0.0.5", port 5432 failed: {reason}'
    )


def mysql(number: int, message: str) -> Exception:
    return pymysql.err.OperationalError(number, message)


Case = Callable[[Path], Exception]

# Every row of the table, met by errors that need no database server.
LOCAL_CASES: list[tuple[str, Case, Verdict]] = [
    (
        "a practice's AR key variable is not set",
        lambda _: PracticeConfigError("practice P001: the AR key is read from X, which is not set"),
        FAIL,
    ),
    ("Sikka's daily quota is spent", lambda _: DailyQuotaSpent("quota spent (API2012)"), NEXT_RUN),
    ("Sikka is loading the office", lambda _: SourceNotReady("loading office D1000"), RETRY),
    (
        "Sikka kept failing",
        lambda _: SourceUnavailable("GET /v4/transactions: HTTP 503 API2002 after 5 tries"),
        RETRY,
    ),
    ("Sikka refused the app", lambda _: SikkaAuthError("HTTP 401 API2003: invalid app"), FAIL),
    ("AR 401: the key is refused", lambda _: ar_answer(401), FAIL),
    ("AR 403: not allowed", lambda _: ar_answer(403), FAIL),
    (
        "a test key cannot enroll",
        lambda _: LiveKeyRequiredError("enrollment needs a live key"),
        FAIL,
    ),
    ("AR 400", lambda _: ar_answer(400), FAIL),
    ("AR 404", lambda _: ar_answer(404, "/customers/c1"), FAIL),
    ("AR 409", lambda _: ar_answer(409), FAIL),
    ("AR 422: invalid records", lambda _: ar_answer(422), FAIL),
    ("AR 429: rate limited", lambda _: ar_answer(429), RETRY),
    ("AR 408: request time-out", lambda _: ar_answer(408), RETRY),
    ("AR 500", lambda _: ar_answer(500), RETRY),
    ("AR 503", lambda _: ar_answer(503), RETRY),
    ("AR refused the connection", ar_unreachable, RETRY),
    (
        "AR did not answer in time",
        lambda _: ApiTimeoutError("timed out", method="GET", path="/customers", request_id=None),
        RETRY,
    ),
    (
        "a base URL that is not http(s)",
        lambda _: raised(lambda: httpx.Client().get("ftp://ar.test/customers")),
        FAIL,
    ),
    (
        "httpx: connection refused",
        lambda _: raised(lambda: httpx.Client().get("http://127.0.0.1:1/")),
        RETRY,
    ),
    ("httpx: read time-out", lambda _: httpx.ReadTimeout("timed out"), RETRY),
    ("httpx: connect time-out", lambda _: httpx.ConnectTimeout("timed out"), RETRY),
    ("Postgres 28P01 invalid password", lambda _: postgres("28P01"), FAIL),
    ("Postgres 28000 invalid authorization", lambda _: postgres("28000"), FAIL),
    ("Postgres 3D000 no such database", lambda _: postgres("3D000"), FAIL),
    ("Postgres 08006 connection failure", lambda _: postgres("08006"), RETRY),
    ("Postgres 08001 cannot connect", lambda _: postgres("08001"), RETRY),
    ("Postgres 57P01 admin shutdown", lambda _: postgres("57P01"), RETRY),
    ("Postgres 57P02 crash shutdown", lambda _: postgres("57P02"), RETRY),
    ("Postgres 57P03 cannot connect now", lambda _: postgres("57P03"), RETRY),
    ("Postgres 53300 too many connections", lambda _: postgres("53300"), RETRY),
    ("Postgres 40001 serialization failure", lambda _: postgres("40001"), RETRY),
    ("Postgres 40P01 deadlock", lambda _: postgres("40P01"), RETRY),
    (
        "libpq: no such database",
        lambda _: libpq('FATAL:  database "no_such_db" does not exist'),
        FAIL,
    ),
    (
        "libpq: password refused",
        lambda _: libpq('FATAL:  password authentication failed for user "ar"'),
        FAIL,
    ),
    ("libpq: no such role", lambda _: libpq('FATAL:  role "ar" does not exist'), FAIL),
    (
        "libpq: unknown host",
        lambda _: psycopg.OperationalError(
            "failed to resolve host 'pg.example': [Errno -2] Name or service not known"
        ),
        FAIL,
    ),
    ("libpq: starting up", lambda _: libpq("FATAL:  the database system is starting up"), RETRY),
    ("libpq: timeout", lambda _: libpq("timeout expired"), RETRY),
    (
        "Postgres refused the connection",
        lambda _: raised(lambda: read_source(REFUSED_POSTGRES)),
        RETRY,
    ),
    (
        "psycopg: connection lost",
        lambda _: psycopg.OperationalError("SSL SYSCALL error: EOF detected"),
        RETRY,
    ),
    (
        "the Postgres warehouse refused the connection",
        lambda _: raised(lambda: open_warehouse(REFUSED_POSTGRES)),
        RETRY,
    ),
    ("MySQL 1045 access denied", lambda _: mysql(1045, "Access denied for user 'ar'"), FAIL),
    ("MySQL 1044 access denied", lambda _: mysql(1044, "Access denied to database 'x'"), FAIL),
    ("MariaDB 1698 access denied", lambda _: mysql(1698, "Access denied for user 'ar'"), FAIL),
    ("MySQL 1049 unknown database", lambda _: mysql(1049, "Unknown database 'x'"), FAIL),
    (
        "MySQL 2003 unknown host",
        lambda _: mysql(
            2003, "Can't connect to MySQL server on 'db' ([Errno -2] Name or service not known)"
        ),
        FAIL,
    ),
    ("MySQL refused the connection", lambda _: raised(lambda: read_source(REFUSED_MYSQL)), RETRY),
    ("MySQL 2006 server gone away", lambda _: mysql(2006, "MySQL server has gone away"), RETRY),
    ("MySQL 2013 connection lost", lambda _: mysql(2013, "Lost connection during query"), RETRY),
    ("MySQL 1213 deadlock", lambda _: mysql(1213, "Deadlock found"), RETRY),
    ("SQLite: another process writes the file", sqlite_locked, RETRY),
    (
        "SQLite: the file cannot be opened",
        lambda tmp: sqlite_error("select 1", str(tmp / "no" / "such" / "dir.db")),
        FAIL,
    ),
    (
        "SQLite: no such table",
        lambda tmp: sqlite_error("select * from nothing", str(tmp / "empty.db")),
        FAIL,
    ),
    (
        "SQLite through SQLAlchemy: the file cannot be opened",
        lambda tmp: raised(lambda: create_engine(f"sqlite:///{tmp}/no/such/dir.db").connect()),
        FAIL,
    ),
    ("DuckDB: another process holds the file", duckdb_locked, RETRY),
    ("dbt: another process holds the file", lambda _: DagsterDbtCliRuntimeError(DBT_LOCKED), RETRY),
    (
        "DuckDB: a statement refused",
        lambda _: raised(lambda: duckdb.connect().execute("select * from nothing")),
        FAIL,
    ),
    (
        "dbt: Postgres refused the connection",
        lambda _: DagsterDbtCliRuntimeError(
            DBT_POSTGRES.format(reason="Connection refused\n\tIs the server running?")
        ),
        RETRY,
    ),
    (
        "dbt: no such Postgres database",
        lambda _: DagsterDbtCliRuntimeError(
            DBT_POSTGRES.format(reason='FATAL:  database "ar" does not exist')
        ),
        FAIL,
    ),
    ("dbt: a model failed", lambda _: DagsterDbtCliRuntimeError(DBT_MODEL_FAILED), FAIL),
    (
        "SQLAlchemy: no pooled connection in time",
        lambda _: sqlalchemy.exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
        RETRY,
    ),
    (
        "SQLAlchemy: a connection found dropped",
        lambda _: sqlalchemy.exc.DisconnectionError("the connection was invalidated"),
        RETRY,
    ),
    ("a source row the reader cannot use", lambda _: SourceError("no column 'flag'"), FAIL),
    ("a bug", lambda _: KeyError("practice_id"), FAIL),
]


def source_server_cases(
    server: str, env: str, refusal: str, user: str
) -> list[tuple[str, Case, Verdict]]:
    """The cases of reading a source on the ``server`` of ``env`` that fail at once: its
    database is not there, and the server refuses ``user`` (``refusal`` says how)."""
    return [
        (
            f"{server}: the source database does not exist",
            lambda _: raised(lambda: read_source(missing_database(env))),
            FAIL,
        ),
        (
            f"{server}: {refusal}",
            lambda _: raised(lambda: read_source(server_url(env, user=user))),
            FAIL,
        ),
    ]


# Errors that need the test database servers.
SERVER_CASES: list[tuple[str, Case, Verdict]] = [
    *source_server_cases("Postgres", POSTGRES_ENV, "the role does not exist", "ar_no_such_role"),
    (
        "the Postgres warehouse's database does not exist",
        lambda _: raised(lambda: open_warehouse(missing_database(POSTGRES_ENV))),
        FAIL,
    ),
    *source_server_cases("MySQL", MYSQL_ENV, "access denied", "ar_no_such_user"),
]


def as_params(cases: list[tuple[str, Case, Verdict]]) -> list[object]:
    return [pytest.param(case, expected, id=name) for name, case, expected in cases]


@pytest.mark.parametrize(("case", "expected"), as_params(LOCAL_CASES + SERVER_CASES))
def test_each_kind_of_failure_gets_its_rows_verdict(
    case: Case, expected: Verdict, tmp_path: Path
) -> None:
    error = case(tmp_path)
    assert verdict(error) is expected
    assert is_transient(error) is (expected is RETRY)


def test_every_row_of_the_table_is_met_by_a_case(tmp_path: Path) -> None:
    met: set[int] = set()
    for _name, case, _expected in LOCAL_CASES:
        link: BaseException | None = case(tmp_path)
        while link is not None:
            rows = [i for i, rule in enumerate(RETRY_RULES) if rule.matches(link)]
            met.update(rows[:1])
            link = link.__cause__ or (link.__context__ if link.__suppress_context__ else None)
    assert sorted(set(range(len(RETRY_RULES))) - met) == []


def test_a_quota_spent_under_a_transient_wrapper_is_still_not_retried() -> None:
    wrapped = chained(
        SourceUnavailable("the read stopped"),
        DailyQuotaSpent("the practice's daily quota is spent (API2011)"),
    )
    assert verdict(wrapped) is NEXT_RUN
    assert not is_transient(wrapped)


def test_a_push_that_stopped_is_retried_when_what_stopped_it_is_transient(
    tmp_path: Path,
) -> None:
    report = PushReport(kind="ledger_entries", total=3)
    unreachable = chained(
        SyncIncompleteError("2 of 3 ledger entries were not sent", SyncReport("ledger", "P001")),
        PushIncompleteError("2 of 3 ledger_entries were not sent", report),
        ar_unreachable(tmp_path),
    )
    refused = chained(
        SyncIncompleteError("2 of 3 ledger entries were not sent", SyncReport("ledger", "P001")),
        PushIncompleteError("2 of 3 ledger_entries were not sent", report),
        ar_answer(401),
    )
    assert is_transient(unreachable)
    assert not is_transient(refused)


def test_an_error_raised_while_handling_a_transient_one_does_not_inherit_its_verdict() -> None:
    def handle() -> None:
        try:
            raise ApiConnectionError("refused", method="GET", path="/x", request_id=None)
        except ApiConnectionError:
            raise ValueError("a bug in the handler")  # noqa: B904 - on purpose, no cause

    assert not is_transient(raised(handle))


def test_a_locked_duckdb_warehouse_is_transient_and_says_which_file_and_process(
    tmp_path: Path,
) -> None:
    path = tmp_path / "warehouse.duckdb"
    with held_by_another_process(path) as pid:
        error = raised(lambda: DuckDBWarehouse(DuckDBLocation(path), lock_timeout=0))

    assert isinstance(error, WarehouseError)
    assert is_transient(error)
    line = cause_line(error)
    assert f'Could not set lock on file "{path}"' in line
    assert f"(PID {pid})" in line


class FirstTry:
    """What ``retried_when_transient`` reads of a step's context, on its first try."""

    retry_number = 0
    log = logging.getLogger("tests.step")


def test_a_retry_is_asked_for_a_refused_connection_but_not_for_a_missing_database() -> None:
    context: Any = FirstTry()
    with pytest.raises(dg.RetryRequested) as retry, retried_when_transient(context):
        read_source(REFUSED_POSTGRES)
    assert isinstance(retry.value.__cause__, sqlalchemy.exc.OperationalError)

    missing = missing_database(POSTGRES_ENV)
    with (
        pytest.raises(sqlalchemy.exc.OperationalError, match="does not exist"),
        retried_when_transient(context),
    ):
        read_source(missing)


@pytest.mark.parametrize("env", [POSTGRES_ENV, MYSQL_ENV])
def test_a_missing_source_database_fails_the_extract_at_once(pipeline: Pipeline, env: str) -> None:
    write_practices(pipeline.root / "practices.toml", missing_database(env))

    result = pipeline.run("P001", raise_on_error=False)

    assert not result.success
    retried = [e.step_key for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retried == []
    failures = {e.step_key: e for e in result.all_events if e.is_step_failure}
    assert {"raw__patients", "raw__transactions"} <= set(failures)
    for step in ("raw__patients", "raw__transactions"):
        error = failures[step].event_specific_data.error  # type: ignore[union-attr]
        assert error is not None
        assert "max_retries" not in error.message
        line = cause_line(error)
        assert "does not exist" in line or "Unknown database" in line
