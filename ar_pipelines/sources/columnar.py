"""Run a reader's query through ADBC, which hands rows over as Arrow record batches, and
turn each batch into the same frame of text the SQLAlchemy path builds row by row.

The query is still built by SQLAlchemy (``sql_reader.source_query``) and compiled for
the database with its parameters bound, never pasted into the SQL. What changes is how
rows come back: a driver written in C fills Arrow columns, and a column whose values
repeat becomes text by way of its distinct values only (a column of mostly distinct
values, such as keys and load times, straight from Arrow). So a frame is made without
Python work per row and field, which is where the row-by-row path spends its time.

Frames are exactly as ``frames.frame`` makes them: object columns of ``str`` or
``None``, the empty string read as ``None``, every other value as ``frames.as_text``
gives it after the SQLAlchemy type's own result conversion (a SQLite ``DATETIME`` stored
as text is read as a time first, so that ``loaded_date`` reads ``YYYY-MM-DD HH:MM:SS``
on both paths). Within a frame, the values of a repeating column share one ``str`` per
value, as they do there.

SQLite is read with ``adbc-driver-sqlite``, a batch of ``chunk_size`` rows at a time,
in a process of its own (``_sqlite_arrow``): the driver brings its own copy of SQLite,
which must not open a file this process's ``sqlite3`` opens too. That costs a process
start per query, so only reads of every row (a first read, a full refresh, the key
scan) go this way; a night's increment and the small tables are read through
SQLAlchemy.
Postgres is read with ``adbc-driver-postgresql`` through a server-side cursor
(``DECLARE`` with the bound parameters, then ``FETCH`` a chunk at a time): the driver
would otherwise hold the whole result of a query with parameters in memory. A query
that selects a column of another kind than text, times and whole numbers, or whose
result the driver types otherwise, is read through SQLAlchemy instead, whose
conversions are the reference.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from pathlib import Path
from typing import Any

import adbc_driver_manager
import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
from adbc_driver_manager import dbapi
from adbc_driver_postgresql import dbapi as postgres_dbapi  # type: ignore[import-untyped]
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Dialect,
    Integer,
    Label,
    Null,
    Select,
    String,
    func,
    literal_column,
)
from sqlalchemy.engine import URL, processors

from ar_pipelines.sources.base import SourceError, SourceUnavailable
from ar_pipelines.sources.frames import as_text, frame

SQLITE = "sqlite"
POSTGRES = "postgresql"
# The option that sets a SQLite batch's rows, and Postgres's plain (not COPY) reading,
# which ``FETCH`` needs.
_POSTGRES_USE_COPY = "adbc.postgresql.use_copy"
_CURSOR = "ar_columnar_read"
# A small table is read as one frame: chunks this large.
_WHOLE = 1 << 30
# Read again later, these can succeed: SQLite's file held by another process; Postgres's
# connection exceptions, a server shutting down or starting, too many connections, a
# serialization failure or a deadlock.
_SQLITE_BUSY = ("database is locked", "database table is locked")
_SQLITE_BUSY_MS = 5_000
_POSTGRES_TRANSIENT = ("08", "57P01", "57P02", "57P03", "53300", "40001", "40P01")
# Rows a Postgres ``FETCH`` asks for at most: a small table's read still goes in steps.
_FETCH_ROWS = 50_000
# How SQLAlchemy stores a time in SQLite, and the second it stands for.
_STORED_TIME = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{6})?$"
_SECONDS = "%Y-%m-%d %H:%M:%S"
# Values a column is judged by, whether it repeats them.
_SAMPLE = 1_024

Processor = Callable[[Any], Any] | None
Fallback = Callable[[], Iterator[pd.DataFrame]]


def reads_columnar(url: URL) -> bool:
    """Whether the source at ``url`` can be read through ADBC: Postgres, or a SQLite
    file named by a plain path (an in-memory database or URL options stay with
    SQLAlchemy)."""
    backend = url.get_backend_name()
    if backend == POSTGRES:
        return True
    return backend == SQLITE and url.database not in (None, "", ":memory:") and not url.query


class ColumnarReader:
    """Queries of one SQLite file or Postgres database, run through ADBC, as frames of
    text."""

    def __init__(self, url: URL, dialect: Dialect) -> None:
        if not reads_columnar(url):
            raise ValueError("the columnar reader reads SQLite files and Postgres only")
        self._backend = url.get_backend_name()
        self._dialect = dialect
        if self._backend == SQLITE:
            self._target = str(url.database)
            self._compiler = dialect
            self._secret = None
        else:
            # libpq's own URL, with what it carries (``options``, ``sslmode``, ...).
            self._target = url.set(drivername=POSTGRES).render_as_string(hide_password=False)
            # The driver's placeholders are ``$1``, ``$2``, ...; SQLAlchemy writes them so.
            postgres_dialect: Any = type(dialect)
            self._compiler = postgres_dialect(paramstyle="numeric_dollar")
            self._secret = url.password
        # One idle connection kept between queries: opening one costs Postgres's driver a
        # look at the server's types each time.
        self._idle: dbapi.Connection | None = None
        # Whether a query runs in this process; on SQLite it starts a process of its own,
        # worth it for a read of every row only.
        self.in_process = self._backend != SQLITE

    def reads(self, query: Select[Any]) -> bool:
        """Whether every column ``query`` selects is of a kind this reader gives exactly
        as SQLAlchemy does: text, times, whole numbers, or no column at all. Anything
        else (a ``REAL``, a ``BLOB``, JSON, a column of no declared type) is left to the
        SQLAlchemy path."""
        return all(_kind(column) is not None for column in query.selected_columns)

    def frames(
        self, query: Select[Any], columns: Sequence[str], chunk_size: int, fallback: Fallback
    ) -> Generator[pd.DataFrame]:
        """The query's rows as frames of exactly ``chunk_size`` rows, the last one fewer.

        The query has a connection to itself until its frames are read or their reader
        is closed; the driver reads a batch at a time, so memory holds a chunk or two
        whatever the table's size. When the driver types a column otherwise than
        expected (an extension type, say), nothing has been given yet and ``fallback``
        (the SQLAlchemy reader) gives the frames instead."""
        processors = self._processors(query)
        typed = _typed(query) if self._backend == SQLITE else query
        sql, parameters = self._compiled(typed)
        try:
            with self._result(sql, parameters, chunk_size) as batches:
                first = next(batches, None)
                readable = first is None or _readable(first.schema)
                if readable and first is not None:
                    for chunk in rechunked(_chained(first, batches), chunk_size):
                        yield arrow_frame(chunk, columns, processors)
        except (adbc_driver_manager.Error, OSError, WorkerError) as error:
            raise self._source_error(error) from error
        if not readable:
            yield from fallback()

    def frame(self, query: Select[Any], columns: Sequence[str], fallback: Fallback) -> pd.DataFrame:
        """The query's rows as one frame (the small tables)."""
        frames = list(self.frames(query, columns, _WHOLE, fallback))
        if not frames:
            return frame([], columns)
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    @contextmanager
    def _result(
        self, sql: str, parameters: list[Any], chunk_size: int
    ) -> Iterator[Iterator[pa.RecordBatch]]:
        """The result's record batches: from a process of its own on SQLite (see
        ``_sqlite_arrow``), through a connection of this process on Postgres."""
        if self._backend == SQLITE:
            with _worker_batches(self._target, sql, parameters, chunk_size) as batches:
                yield batches
            return
        with (
            self._connection() as connection,
            closing(connection.cursor()) as cursor,
            closing(self._batches(cursor, sql, parameters, chunk_size)) as batches,
        ):
            yield batches

    @contextmanager
    def _connection(self) -> Iterator[dbapi.Connection]:
        """A connection for one query: the idle one, or a new one when it is taken (two
        extracts read at once). Its transaction ends with the query, so that no read
        lock or server-side cursor outlives it; a connection that failed is closed."""
        connection, self._idle = self._idle, None
        if connection is None:
            connection = postgres_dbapi.connect(self._target)
        try:
            yield connection
            connection.rollback()
        except BaseException:
            with suppress(adbc_driver_manager.Error):
                connection.close()
            raise
        if self._idle is None:
            self._idle = connection
        else:
            connection.close()

    def close(self) -> None:
        connection, self._idle = self._idle, None
        if connection is not None:
            connection.close()

    def _batches(
        self, cursor: dbapi.Cursor, sql: str, parameters: list[Any], chunk_size: int
    ) -> Generator[pa.RecordBatch]:
        """The result's record batches, as the driver makes them."""
        # A server-side cursor, in the transaction the driver opens, read a chunk at a time.
        cursor.execute(f"DECLARE {_CURSOR} NO SCROLL CURSOR FOR {sql}", parameters or None)
        fetch = f"FETCH FORWARD {min(chunk_size, _FETCH_ROWS)} FROM {_CURSOR}"
        while True:
            cursor.adbc_statement.set_options(**{_POSTGRES_USE_COPY: "false"})
            cursor.execute(fetch)
            rows = 0
            for batch in cursor.fetch_record_batch():
                rows += batch.num_rows
                yield batch
            if rows == 0:
                return

    def _compiled(self, query: Select[Any]) -> tuple[str, list[Any]]:
        """The SQL with the driver's placeholders, and its parameters in order, converted
        as SQLAlchemy converts them for this database (a time to SQLite's text)."""
        compiled = query.compile(
            dialect=self._compiler, compile_kwargs={"render_postcompile": True}
        )
        values = compiled.params
        parameters = []
        for name in compiled.positiontup or ():
            # An expanded ``IN`` parameter is named after its list: ``lower_1_2``.
            bind = compiled.binds.get(name)
            if bind is None:
                bind = compiled.binds.get(name.rsplit("_", 1)[0])
            value = values[name]
            if bind is not None:
                process = bind.type.dialect_impl(self._dialect).bind_processor(self._dialect)
                if process is not None:
                    value = process(value)
            parameters.append(value)
        return str(compiled), parameters

    def _processors(self, query: Select[Any]) -> list[Processor]:
        """Each selected column's result conversion, as SQLAlchemy applies it to rows."""
        return [
            column.type.dialect_impl(self._dialect).result_processor(self._dialect, None)
            for column in query.selected_columns
        ]

    def _source_error(self, error: BaseException) -> SourceError:
        """The driver's error as the source's own: transient when reading again later
        can succeed. Never with the database's password."""
        message = str(error)
        if self._secret:
            message = message.replace(self._secret, "***")
        if self._backend == SQLITE:
            if any(busy in message for busy in _SQLITE_BUSY):
                return SourceUnavailable(f"the SQLite source is busy: {message}")
            if "Type mismatch" in message:
                # A column holding values of several kinds (a loader's untyped data).
                message += "; SqlSource(..., reader='sqlalchemy') reads such a column"
            return SourceError(f"reading the SQLite source failed: {message}")
        state = getattr(error, "sqlstate", None) or ""
        unreachable = not state and isinstance(error, adbc_driver_manager.OperationalError)
        if unreachable or state.startswith(_POSTGRES_TRANSIENT):
            return SourceUnavailable(f"the Postgres source failed, for now: {message}")
        return SourceError(f"reading the Postgres source failed: {message}")


class WorkerError(Exception):
    """The SQLite read's own process failed; the message is what it said."""


_WORKER = Path(__file__).with_name("_sqlite_arrow.py")


@contextmanager
def _worker_batches(
    path: str, sql: str, parameters: list[Any], chunk_size: int
) -> Iterator[Iterator[pa.RecordBatch]]:
    """The batches of ``sql`` on the SQLite file at ``path``, read in a process of its
    own (``_sqlite_arrow``) and streamed back as Arrow IPC. A read given up early stops
    the process."""
    job = {
        "path": path,
        "sql": sql,
        "parameters": parameters,
        "batch_rows": min(chunk_size, _WHOLE),
        "busy_ms": _SQLITE_BUSY_MS,
    }
    process = subprocess.Popen(
        [sys.executable, str(_WORKER)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stdin, stdout = process.stdin, process.stdout
    if stdin is None or stdout is None:  # never: both are pipes
        raise WorkerError("the read's process has no pipes")

    def failure() -> WorkerError:
        process.wait()
        said = (process.stderr.read() if process.stderr else b"").decode("utf-8", "replace")
        return WorkerError(said.strip() or f"the read stopped (exit status {process.returncode})")

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            stream = pa.ipc.open_stream(stdout)
            yield from stream
        except (pa.ArrowException, OSError) as error:
            raise failure() from error
        if process.wait() != 0:
            raise failure()

    try:
        stdin.write(json.dumps(job).encode("utf-8"))
        stdin.close()
        yield batches()
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def _kind(column: ColumnElement[Any]) -> str | None:
    """What a selected column holds, by its SQLAlchemy type: ``"text"`` (text columns,
    the reader's own flags, and times, which SQLite keeps as text), ``"integer"``,
    ``"null"`` (a field the table lacks); ``None`` for any other kind."""
    element = column.element if isinstance(column, Label) else column
    if isinstance(element, Null):
        return "null"
    if isinstance(column.type, String | DateTime):
        return "text"
    if isinstance(column.type, Integer):
        return "integer"
    return None


def _typed(query: Select[Any]) -> Select[Any]:
    """``query`` with each text column read as ``COALESCE(column, '')``.

    The driver types a result's columns from its first batch, and takes a column that is
    NULL all through it for a number: a later text in it would end the read. A NULL
    text is the same as an empty one in the frames (both read as ``None``), so giving
    the empty string instead types the column as text from the first row on."""
    columns = [
        func.coalesce(column, literal_column("''")).label(column.name)
        if _kind(column) == "text"
        else column
        for column in query.selected_columns
    ]
    return query.with_only_columns(*columns, maintain_column_froms=True)


def _chained(
    first: pa.RecordBatch | None, rest: Iterator[pa.RecordBatch]
) -> Generator[pa.RecordBatch]:
    if first is not None:
        yield first
    yield from rest


def _readable(schema: pa.Schema) -> bool:
    """Whether every column came typed as this reader converts exactly."""
    return all(
        _is_text(field.type)
        or pa.types.is_integer(field.type)
        or pa.types.is_timestamp(field.type)
        or pa.types.is_null(field.type)
        for field in schema
    )


def rechunked(batches: Iterable[pa.RecordBatch], size: int) -> Generator[pa.Table]:
    """``batches`` regrouped into tables of exactly ``size`` rows, the last one fewer."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        held += batch.num_rows
        while held >= size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, size)
            rest = table.slice(size)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending)


def arrow_frame(
    table: pa.Table | pa.RecordBatch, columns: Sequence[str], processors: Sequence[Processor]
) -> pd.DataFrame:
    """A table's columns, by position, as an object frame of text named ``columns``."""
    if isinstance(table, pa.Table):
        table = table.combine_chunks()
    # One block of objects, filled a column at a time: the frame takes it as it is.
    block = np.empty((len(columns), table.num_rows), dtype=object)
    for index, process in enumerate(processors):
        column = table.column(index)
        if isinstance(column, pa.ChunkedArray):
            column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        block[index] = column_texts(column, process)
    return pd.DataFrame(block.T, columns=list(columns), dtype=object, copy=False)


def column_texts(column: pa.Array, process: Processor = None) -> np.ndarray[Any, Any]:
    """One Arrow column as ``frames.column_texts`` gives the same values: each distinct
    value converted once (``process``, then ``as_text``) and shared by its rows."""
    if process is not None and _is_text(column.type):
        # The empty string reads as NULL: the conversion sees neither.
        column = pc.if_else(pc.equal(column, ""), pa.scalar(None, column.type), column)
    if pa.types.is_null(column.type) or column.null_count == len(column):
        return np.full(len(column), None, dtype=object)
    if process is processors.str_to_datetime and _is_text(column.type):
        times = _stored_times(column)
        if times is not None:
            column, process = times, None
    if process is None and _mostly_distinct(column):
        # Numbers, load times, keys: their values seldom repeat, so sharing gains nothing
        # and each is made once, straight from the column.
        if pa.types.is_integer(column.type):
            column = pc.cast(column, pa.string())  # as ``str(int)`` writes it
        else:
            column = pc.if_else(pc.equal(column, ""), pa.scalar(None, column.type), column)
        direct: np.ndarray[Any, Any] = column.to_numpy(zero_copy_only=False)
        return direct
    encoded = pc.dictionary_encode(column)
    dictionary = encoded.dictionary
    distinct: list[Any]
    if process is None and _is_text(dictionary.type):
        distinct = dictionary.to_pylist()
        if "" in distinct:  # the empty string reads as NULL
            distinct[distinct.index("")] = None
    elif process is None and pa.types.is_timestamp(dictionary.type) and _plain_years(dictionary):
        # As ``as_text`` writes a time: in UTC, to the second (cut, not rounded).
        seconds = pc.floor_temporal(dictionary, unit="second")
        distinct = pc.strftime(
            seconds.cast(pa.timestamp("s", dictionary.type.tz)), format=_SECONDS
        ).to_pylist()
    elif process is None and pa.types.is_integer(dictionary.type):
        distinct = pc.cast(dictionary, pa.string()).to_pylist()  # as ``str(int)`` writes it
    else:
        values = dictionary.to_pylist()
        if process is not None:
            values = [None if value is None else process(value) for value in values]
        distinct = [as_text(value) for value in values]
    texts = np.empty(len(distinct) + 1, dtype=object)
    texts[:-1] = distinct
    texts[-1] = None  # where the column is NULL
    positions = encoded.indices.fill_null(len(distinct)).to_numpy(zero_copy_only=False)
    shared: np.ndarray[Any, Any] = texts[positions]
    return shared


def _mostly_distinct(column: pa.Array) -> bool:
    """Whether most values of a text or whole-number column differ, judged by its first
    ones."""
    if not (_is_text(column.type) or pa.types.is_integer(column.type)):
        return False
    head = column.slice(0, _SAMPLE)
    return bool(pc.count_distinct(head).as_py() * 2 > len(head))


def _plain_years(times: pa.Array) -> bool:
    """Whether every time falls in years 1000 to 9999, written with four digits alike."""
    years = pc.year(times)
    return bool(pc.min(years).as_py() >= 1000 and pc.max(years).as_py() <= 9999)


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _stored_times(column: pa.Array) -> pa.Array | None:
    """SQLite ``DATETIME`` text as SQLAlchemy writes it (``YYYY-MM-DD HH:MM:SS`` and
    microseconds), cut to the second: what reading it as a time and writing that time to
    the second gives. ``None`` when a value is anything else (another format, a day that
    is no day), which then takes the way of one value at a time."""
    values = column.drop_null()
    if not pc.all(pc.match_substring_regex(values, _STORED_TIME)).as_py():
        return None
    seconds = pc.utf8_slice_codeunits(column, 0, 19)
    parsed = pc.strptime(seconds, format=_SECONDS, unit="s", error_is_null=True)
    if parsed.null_count != column.null_count:
        return None
    return seconds
