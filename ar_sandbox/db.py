"""Engine, sessions and the one-request-one-transaction rule.

SQLite takes its write lock at ``BEGIN IMMEDIATE`` so that concurrent writers queue
instead of failing mid-transaction. On Postgres, writers lock the customers they
touch (``services.common.lock_customers``); a deadlock or a lost insert race is retried.
On Postgres a daemon thread keeps planner statistics current (``PlannerStatistics``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ar_sandbox.models import Base

T = TypeVar("T")

RETRYABLE_PG_CODES = {"40P01", "40001"}  # deadlock detected, serialization failure
MAX_ATTEMPTS = 5

logger = logging.getLogger(__name__)


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# The execution option that marks a unit of work that only reads (``Database.read``).
READ_ONLY = "ar_sandbox_read_only"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": 60},
            pool_size=pool_size,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=60000",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A unit of work that writes takes the write lock up front (two that each read
        # first and then write would otherwise deadlock); one that only reads reads a
        # snapshot and waits for no one, as WAL allows.
        reading = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def create_schema(engine: Engine) -> None:
    Base.metadata.create_all(engine)


def _is_retryable(err: DBAPIError) -> bool:
    if isinstance(err, IntegrityError):
        return True  # a concurrent insert won the race; the retry sees its row
    code = getattr(err.orig, "sqlstate", None) or getattr(err.orig, "pgcode", None)
    return code in RETRYABLE_PG_CODES


class PlannerStatistics:
    """ANALYZE the Postgres tables whose planner statistics are missing or stale.

    Without statistics the planner takes ``company_id = ? AND mode = ?`` for a very
    selective condition (every row has the same few values) and reads a company's
    whole ledger on each push through the (company_id, mode, external_id) index.
    Autovacuum keeps statistics current when it runs, but it may be off, and even on
    it first looks at a fresh schema after its naptime (a minute), well into a bulk
    load. This does its analyze part from a daemon thread, off the request path.
    """

    PERIOD_SECONDS = 2.0
    # A table is stale once more rows changed than BASE_ROWS plus SCALE of its size
    # when last analyzed: from empty to 100k rows that is about a dozen ANALYZEs.
    BASE_ROWS = 500
    SCALE = 0.5
    _STALE_TABLES = text(
        """
        SELECT s.relname
        FROM pg_stat_user_tables AS s JOIN pg_class AS c ON c.oid = s.relid
        WHERE s.schemaname = current_schema()
          AND s.n_mod_since_analyze > :base_rows + :scale * greatest(c.reltuples, 0)
        """
    )

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="planner-statistics", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def analyze_stale_tables(self) -> list[str]:
        """ANALYZE every stale table of the current schema; their names."""
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            params = {"base_rows": self.BASE_ROWS, "scale": self.SCALE}
            stale = list(conn.scalars(self._STALE_TABLES, params))
            quote = conn.dialect.identifier_preparer.quote
            for table in stale:
                conn.exec_driver_sql(f"ANALYZE {quote(table)}")
        return stale

    def _run(self) -> None:
        while not self._stopped.wait(self.PERIOD_SECONDS):
            try:
                self.analyze_stale_tables()
            except SQLAlchemyError:  # the database is down, busy or going away: try later
                logger.debug("ANALYZE of stale tables failed", exc_info=True)


class RestartTransaction(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a unit of work that must roll back and run again at once.

    A push that finds it needs a lock it can no longer take in order restarts with
    every lock known up front, instead of risking a deadlock (which Postgres takes
    a second to detect).
    """


class Database:
    """Owns the engine; runs units of work as single transactions."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.engine = make_engine(url, pool_size=pool_size)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.readers = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        self.dialect = self.engine.dialect.name
        self.statistics: PlannerStatistics | None = None
        if self.dialect == "postgresql":
            self.statistics = PlannerStatistics(self.engine)
            self.statistics.start()

    def create_schema(self) -> None:
        create_schema(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it waits for no writer."""
        with self.readers.begin() as session:
            yield session

    def read(self, work: Callable[[Session], T]) -> T:
        """Run ``work``, which only reads, in one transaction (see ``reading``)."""
        with self.reading() as session:
            return work(session)

    def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction, retrying races that a retry resolves."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self.sessions.begin() as session:
                    return work(session)
            except RestartTransaction:
                continue
            except DBAPIError as err:
                if attempt == MAX_ATTEMPTS or not _is_retryable(err):
                    raise
                time.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        if self.statistics is not None:
            self.statistics.stop()
        self.engine.dispose()
