"""Read a landed Sikka database: SQLite, Postgres or MySQL/MariaDB.

A loader (Fivetran, Airbyte, dlt, a script) lands Sikka's resources as tables named after
them, with Sikka's field names (``docs/sources.md``). Its own bookkeeping columns differ
from loader to loader, so none is required: ``SqlLayout`` names the ones a practice has.
Each table's columns are read from the database itself, once; a Sikka field the table
lacks (``homephone`` when the loader did not ask for it, a payment-type class flag) reads
as ``None``. A missing ``practices``, ``guarantors`` or ``practice_events`` table reads as
no rows; ``transactions``, ``patients`` and ``payment_types`` must be there.

Transactions stream ``chunk_size`` rows per frame, so memory stays bounded whatever the
table's size: through ADBC's Arrow batches on SQLite and Postgres (``columnar``), through
SQLAlchemy's server-side cursor on MySQL/MariaDB or when asked (``reader``). Rows come
in one fixed order on every database: by the cursor column, then practice (byte by byte,
not by the database's collation), then the loader's row key (or ``transaction_sr_no``).
Each row carries its row key as ``row_key``. After the changed rows come the window's
deletions, from ``practice_events`` (flag ``Deleted``, any case), windowed by the cursor
column when the loader added it to that table too, else by Sikka's own ``loadeddate``. A
whole read takes no deletion events, as the REST API's does.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Engine,
    MetaData,
    Select,
    String,
    Table,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
)
from sqlalchemy.exc import NoSuchTableError

from ar_pipelines.sources import schema
from ar_pipelines.sources.base import Source, SourceError
from ar_pipelines.sources.columnar import ColumnarReader, reads_columnar
from ar_pipelines.sources.frames import Extract, frame

DEFAULT_CHUNK_SIZE = 50_000
# How rows come back: through ADBC as Arrow batches, or row by row through SQLAlchemy.
Reader = Literal["columnar", "sqlalchemy"]
TRANSACTIONS = "transactions"
EVENTS = "practice_events"
# Tables a source must have; the others read as no rows when the loader did not land them.
REQUIRED_TABLES = frozenset({TRANSACTIONS, "patients", "payment_types"})
# Text a loader writes for a true flag (compared trimmed and lower-cased; booleans too).
TRUE_TEXTS = ("1", "true", "yes")
# Sikka's own load time on an event, and how Sikka writes it when landed as text.
LOADEDDATE = "loadeddate"
SIKKA_TIME = "%Y-%m-%dT%H:%M:%S"

# The frame columns each table reads as; ``practice_events`` gives deleted transactions.
FRAME_COLUMNS: dict[str, tuple[str, ...]] = {
    "practices": schema.PRACTICE_COLUMNS,
    "payment_types": schema.PAYMENT_TYPE_COLUMNS,
    "patients": schema.PATIENT_COLUMNS,
    "guarantors": schema.GUARANTOR_COLUMNS,
    TRANSACTIONS: schema.TRANSACTION_COLUMNS,
    EVENTS: schema.TRANSACTION_COLUMNS,
}
# Sikka fields the small tables are ordered by (each compared by code point).
_ORDER: dict[str, tuple[str, ...]] = {
    "practices": ("practice_id",),
    "payment_types": ("practice_id", "code"),
    "patients": ("practice_id", "patient_id"),
    "guarantors": ("practice_id", "guarantor_id"),
}

# Collations that order text by code point, as Python does (SQLite's default already does).
_BINARY_COLLATION = {"postgresql": "C", "mysql": "utf8mb4_bin", "mariadb": "utf8mb4_bin"}
_TRUE = literal_column("'true'", String)


@dataclass(frozen=True)
class SqlLayout:
    """Where a practice's loader keeps its own bookkeeping, by column name.

    ``office_id``: when one database holds several offices, only rows whose
    ``office_column`` equals it are read. ``cursor_column``: the loader's load timestamp,
    which makes reads incremental; without it every read takes every row.
    ``deleted_column``: the loader's soft-delete flag, if it keeps one. ``key_column``:
    the loader's row key, which orders rows that share a cursor value.
    """

    office_id: str | None = None
    office_column: str = "office_id"
    cursor_column: str | None = None
    deleted_column: str | None = None
    key_column: str | None = None


def table_columns(table: Table) -> tuple[str, ...]:
    """The frame columns a reader gives for ``table`` (one of Sikka's resources)."""
    try:
        return FRAME_COLUMNS[table.name]
    except KeyError:
        raise ValueError(f"{table.name!r} is not a Sikka resource this project reads") from None


def binary_order(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """``column`` ordered by code point on every database, not by its collation."""
    collation = _BINARY_COLLATION.get(dialect)
    if collation is None or not isinstance(column.type, String):
        return column
    return column.collate(collation)


def truthy(column: ColumnElement[Any]) -> ColumnElement[bool]:
    """Whether a loader's flag is set: ``1``, ``true``, ``yes`` in any case, or a boolean."""
    return func.lower(func.trim(cast(column, String))).in_(TRUE_TEXTS)


def _column(table: Table, name: str, role: str) -> ColumnElement[Any]:
    if name not in table.c:
        raise SourceError(f"table {table.name!r} has no {role} column {name!r}")
    return table.c[name]


def _value(table: Table, name: str, layout: SqlLayout) -> ColumnElement[Any]:
    """What the frame's column ``name`` reads from ``table``: the field, or NULL."""
    if name == schema.IS_DELETED:
        if table.name == EVENTS:
            return _TRUE.label(name)
        if layout.deleted_column is None:
            return null().label(name)
        deleted = _column(table, layout.deleted_column, "deleted")
        return case((truthy(deleted), _TRUE), else_=null()).label(name)
    if name == schema.ROW_KEY:
        # An event's own key numbers events, not transaction rows: it is no row's key.
        if table.name != TRANSACTIONS or layout.key_column is None:
            return null().label(name)
        return _column(table, layout.key_column, "row key").label(name)
    if name == schema.LOADED_DATE and table.name == TRANSACTIONS:
        if layout.cursor_column is None:
            return null().label(name)
        return _column(table, layout.cursor_column, "cursor").label(name)
    if name == schema.LOADED_DATE and table.name == EVENTS:
        # Only the loader's own clock moves the cursor; Sikka's ``loadeddate`` does not.
        if layout.cursor_column is None or layout.cursor_column not in table.c:
            return null().label(name)
        return table.c[layout.cursor_column].label(name)
    if name not in table.c:
        return null().label(name)
    if name in schema.PAYMENT_TYPE_CLASSES:
        return case((truthy(table.c[name]), _TRUE), else_=null()).label(name)
    return table.c[name].label(name)


def _filters(table: Table, layout: SqlLayout, practice_id: str | None) -> list[ColumnElement[bool]]:
    """The office and practice filters, on every table alike."""
    filters = []
    if layout.office_id is not None:
        filters.append(_column(table, layout.office_column, "office") == layout.office_id)
    if practice_id is not None:
        filters.append(_column(table, "practice_id", "practice") == practice_id)
    return filters


def _since(column: ColumnElement[Any], moment: datetime) -> datetime | str:
    """``moment`` as ``column`` compares it: naive source times are UTC to a
    timezone-aware column, and Sikka's text to a ``loadeddate`` landed as text."""
    if isinstance(column.type, DateTime) and column.type.timezone:
        return moment.replace(tzinfo=UTC)
    if column.key == LOADEDDATE and isinstance(column.type, String):
        return moment.strftime(SIKKA_TIME)
    return moment


def _load_time(table: Table, layout: SqlLayout) -> ColumnElement[Any] | None:
    """The column that says when ``table``'s rows were loaded; ``None`` when none does.

    Transactions must have the layout's cursor column when it names one. An event is
    timed by that column when the loader added it to ``practice_events`` as well, else
    by Sikka's ``loadeddate``."""
    if table.name == TRANSACTIONS:
        if layout.cursor_column is None:
            return None
        return _column(table, layout.cursor_column, "cursor")
    for name in (layout.cursor_column, LOADEDDATE):
        if name is not None and name in table.c:
            return table.c[name]
    return None


def source_query(
    table: Table,
    dialect: str,
    *,
    layout: SqlLayout = SqlLayout(),
    practice_id: str | None = None,
    loaded_from: datetime | None = None,
    loaded_before: datetime | None = None,
) -> Select[Any]:
    """``table``'s rows as a reader gives them: its frame columns, in source order.

    ``table`` is a Sikka resource's table as the database has it (reflected, or
    ``schema``'s own). For ``transactions``, the rows changed in the window on the
    layout's cursor column (``loaded_from`` inclusive, ``loaded_before`` exclusive); for
    ``practice_events``, the window's deleted transactions (every one without a window),
    with ``is_deleted = "true"``.
    Anything that orders or serves rows the way this reader does (a look-alike Sikka API)
    builds on this query.
    """
    columns = table_columns(table)
    query = select(*(_value(table, name, layout) for name in columns))
    query = query.where(*_filters(table, layout, practice_id))
    key = layout.key_column
    if table.name not in (TRANSACTIONS, EVENTS):
        fields = [table.c[name] for name in _ORDER[table.name] if name in table.c]
        keys = [table.c[key]] if key is not None and key in table.c else []
        return query.order_by(*(binary_order(column, dialect) for column in fields + keys))
    if table.name == EVENTS:
        flag = _column(table, "flag", "event flag")
        query = query.where(func.lower(flag) == schema.DELETED_FLAG)
        if "events" in table.c:
            query = query.where(func.lower(table.c.events) == TRANSACTIONS)
    order: list[ColumnElement[Any]] = []
    loaded = _load_time(table, layout)
    if loaded is not None:
        if loaded_from is not None:
            query = query.where(loaded >= _since(loaded, loaded_from))
        if loaded_before is not None:
            query = query.where(loaded < _since(loaded, loaded_before))
        order.append(loaded)
    elif loaded_from is not None or loaded_before is not None:
        if table.name == EVENTS:
            wanted = f"{layout.cursor_column!r} or {LOADEDDATE!r}"
            if layout.cursor_column is None:
                wanted = repr(LOADEDDATE)
            raise SourceError(f"table {EVENTS!r} has no load time column {wanted}")
        raise ValueError("a loaded window needs the layout's cursor_column")
    order.append(_column(table, "practice_id", "practice"))
    # The row key must be on transactions when the layout names one; events may lack it.
    if key is not None and (table.name == TRANSACTIONS or key in table.c):
        order.append(_column(table, key, "row key"))
    else:
        order.append(_column(table, "transaction_sr_no", "key"))
    return query.order_by(*(binary_order(column, dialect) for column in order))


class SqlSource(Source):
    """A landed Sikka database, read as frames of text (see ``frames``).

    ``reader`` says how rows come back. ``"columnar"`` (the default for a SQLite file and
    for Postgres) runs the same queries through ADBC and builds each frame from Arrow
    columns (``columnar``), several times faster; ``"sqlalchemy"`` (the default for
    MySQL/MariaDB, and the fallback for a query the columnar reader does not take) reads
    row by row through SQLAlchemy's server-side cursor. Both give the same frames."""

    scans_keys_cheaply = True

    def __init__(
        self,
        url: str,
        *,
        layout: SqlLayout = SqlLayout(),
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        reader: Reader | None = None,
    ) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        if reader not in (None, "columnar", "sqlalchemy"):
            raise ValueError(f"reader must be 'columnar' or 'sqlalchemy', not {reader!r}")
        self._engine: Engine = schema.source_engine(url, must_exist=True)
        self._dialect = self._engine.dialect.name
        columnar = reads_columnar(self._engine.url)
        if reader == "columnar" and not columnar:
            self._engine.dispose()
            raise ValueError(
                f"the columnar reader reads SQLite files and Postgres, not {self._dialect}"
            )
        self.reader: Reader = reader or ("columnar" if columnar else "sqlalchemy")
        self._columnar = (
            ColumnarReader(self._engine.url, self._engine.dialect)
            if self.reader == "columnar"
            else None
        )
        self.layout = layout
        self.chunk_size = chunk_size
        self._tables: dict[str, Table | None] = {}

    @property
    def reports_deletions(self) -> bool:
        """A ``practice_events`` table, or the loader's deleted column, says so."""
        return self.layout.deleted_column is not None or self._table(EVENTS) is not None

    def practices(self, *, practice_id: str | None = None) -> pd.DataFrame:
        return self._read("practices", practice_id)

    def payment_types(self, *, practice_id: str | None = None) -> pd.DataFrame:
        """Each class column ``"true"`` when the table's flag is set; ``None`` when the
        table has no such column (the practice's settings classify the type then)."""
        return self._read("payment_types", practice_id)

    def patients(self, *, practice_id: str | None = None) -> pd.DataFrame:
        return self._read("patients", practice_id)

    def guarantors(self, *, practice_id: str | None = None) -> pd.DataFrame:
        return self._read("guarantors", practice_id)

    def _read_transactions(
        self, practice_id: str | None, since: datetime | None, loaded_from: datetime | None
    ) -> Extract:
        """Transactions loaded at or after ``since - lookback`` then the deletions
        reported in that window, streamed in frames of at most ``chunk_size`` rows.

        A whole read (no ``since``, or no cursor column) takes every row there is and no
        deletion events, as the REST API's does: a row deleted before is simply absent,
        and a run that pushed it finds it gone by the key scan (a loader that keeps
        deleted rows marks them with its deleted column). Without a cursor column the
        extract's cursor stays ``None``."""
        if self.layout.cursor_column is None:
            since = loaded_from = None
        queries = [self._query(TRANSACTIONS, practice_id, loaded_from)]
        if loaded_from is not None and (events := self._table(EVENTS)) is not None:
            queries.append(
                source_query(
                    events,
                    self._dialect,
                    layout=self.layout,
                    practice_id=practice_id,
                    loaded_from=loaded_from,
                )
            )

        def chunks() -> Generator[pd.DataFrame]:
            for query in queries:
                yield from self._stream(
                    query, schema.TRANSACTION_COLUMNS, every_row=loaded_from is None
                )

        return Extract(chunks, since=since)

    def transaction_keys(self, *, practice_id: str | None = None) -> Generator[pd.DataFrame]:
        """``practice_id``, ``transaction_sr_no`` and ``row_key`` of every live transaction
        row, in frames: what a run compares with what it pushed, to void rows that
        disappeared, and which rows hold a number together. Rows the loader flagged
        deleted are not live."""
        table = self._required(TRANSACTIONS)
        query = select(
            _column(table, "practice_id", "practice"),
            _column(table, "transaction_sr_no", "key"),
            _value(table, schema.ROW_KEY, self.layout),
        ).where(*_filters(table, self.layout, practice_id))
        if self.layout.deleted_column is not None:
            deleted = _column(table, self.layout.deleted_column, "deleted")
            query = query.where(or_(deleted.is_(None), ~truthy(deleted)))
        return self._stream(query, schema.KEY_SCAN_COLUMNS, every_row=True)

    def _table(self, name: str) -> Table | None:
        """The table as the database has it (``None`` when absent), reflected once."""
        if name not in self._tables:
            try:
                self._tables[name] = Table(name, MetaData(), autoload_with=self._engine)
            except NoSuchTableError:
                self._tables[name] = None
        return self._tables[name]

    def _required(self, name: str) -> Table:
        table = self._table(name)
        if table is None:
            raise SourceError(f"the source database has no {name!r} table")
        return table

    def _query(
        self, name: str, practice_id: str | None, loaded_from: datetime | None = None
    ) -> Select[Any] | None:
        table = self._required(name) if name in REQUIRED_TABLES else self._table(name)
        if table is None:
            return None
        return source_query(
            table,
            self._dialect,
            layout=self.layout,
            practice_id=practice_id,
            loaded_from=loaded_from,
        )

    def _read(self, name: str, practice_id: str | None) -> pd.DataFrame:
        query = self._query(name, practice_id)
        if query is None:
            return frame([], FRAME_COLUMNS[name])
        columns = FRAME_COLUMNS[name]
        columnar = self._columnar
        if columnar is not None and columnar.in_process and columnar.reads(query):
            return columnar.frame(query, columns, lambda: iter([self._rows_frame(query, columns)]))
        return self._rows_frame(query, columns)

    def _rows_frame(self, query: Select[Any], columns: Sequence[str]) -> pd.DataFrame:
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return frame(rows, columns)

    def _stream(
        self, query: Select[Any] | None, columns: Sequence[str], *, every_row: bool = False
    ) -> Generator[pd.DataFrame]:
        """The query's frames; ``every_row``: a read of every row, worth the columnar
        reader's own process on SQLite."""
        if query is None:
            return
        columnar = self._columnar
        if columnar is not None and (columnar.in_process or every_row) and columnar.reads(query):
            fallback = partial(self._rows_stream, query, columns)
            yield from columnar.frames(query, columns, self.chunk_size, fallback)
        else:
            yield from self._rows_stream(query, columns)

    def _rows_stream(self, query: Select[Any], columns: Sequence[str]) -> Generator[pd.DataFrame]:
        with self._engine.connect() as connection:
            streaming = connection.execution_options(stream_results=True, yield_per=self.chunk_size)
            with closing(streaming.execute(query)) as result:
                for rows in result.partitions():
                    yield frame(rows, columns)

    def close(self) -> None:
        if self._columnar is not None:
            self._columnar.close()
        self._engine.dispose()

    def __repr__(self) -> str:
        url = self._engine.url.render_as_string(hide_password=True)
        return (
            f"SqlSource({url!r}, layout={self.layout!r}, chunk_size={self.chunk_size}, "
            f"reader={self.reader!r})"
        )
