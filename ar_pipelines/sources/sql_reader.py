"""Read the Sikka-shaped tables from a SQL source: SQLite, Postgres or MySQL/MariaDB.

Transactions stream through a server-side cursor, ``chunk_size`` rows per frame, so
memory stays bounded whatever the table's size. Rows come in a fixed order, the same
on every database and from the REST API: by ``loaded_date``, then practice (compared
byte by byte, not by the database's collation), then insertion order.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from contextlib import closing
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, Table, select

from ar_pipelines.sources import schema
from ar_pipelines.sources.base import DEFAULT_LOOKBACK, Source
from ar_pipelines.sources.frames import Extract, frame, loaded_threshold

DEFAULT_CHUNK_SIZE = 50_000
KEY_COLUMNS = ("practice_id", "transaction_sr_no")

# Collations that order text by code point, as Python does (SQLite's default already does).
_BINARY_COLLATION = {"postgresql": "C", "mysql": "utf8mb4_bin", "mariadb": "utf8mb4_bin"}


def table_columns(table: Table) -> tuple[str, ...]:
    """The columns a reader gives for ``table`` (transactions without their ``row_id``)."""
    if table is schema.transactions:
        return schema.TRANSACTION_COLUMNS
    return tuple(column.name for column in table.columns)


def binary_order(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """``column`` ordered by code point on every database, not by its collation."""
    collation = _BINARY_COLLATION.get(dialect)
    return column if collation is None else column.collate(collation)


def source_order(table: Table, dialect: str) -> list[ColumnElement[Any]]:
    """The order every reader (and the test REST server) gives ``table``'s rows in."""
    c = table.c
    if table is schema.transactions:
        return [c.loaded_date, binary_order(c.practice_id, dialect), c.row_id]
    if table is schema.patients:
        return [binary_order(c.practice_id, dialect), binary_order(c.patient_id, dialect)]
    if table is schema.payment_types:
        return [binary_order(c.practice_id, dialect), binary_order(c.code, dialect)]
    return [binary_order(c.practice_id, dialect)]


def source_query(
    table: Table,
    dialect: str,
    *,
    practice_id: str | None = None,
    loaded_from: datetime | None = None,
    loaded_before: datetime | None = None,
) -> Select[Any]:
    """``table``'s rows in source order, optionally for one practice and a loaded window."""
    query = select(*(table.c[name] for name in table_columns(table)))
    if practice_id is not None:
        query = query.where(table.c.practice_id == practice_id)
    if loaded_from is not None:
        query = query.where(table.c.loaded_date >= loaded_from)
    if loaded_before is not None:
        query = query.where(table.c.loaded_date < loaded_before)
    return query.order_by(*source_order(table, dialect))


class SqlSource(Source):
    """A Sikka-shaped SQL database, read as frames of text (see ``frames``)."""

    def __init__(self, url: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self._engine = schema.source_engine(url, must_exist=True)
        self._dialect = self._engine.dialect.name
        self.chunk_size = chunk_size

    def practices(self, *, practice_id: str | None = None) -> pd.DataFrame:
        return self._read(schema.practices, practice_id=practice_id)

    def payment_types(self, *, practice_id: str | None = None) -> pd.DataFrame:
        return self._read(schema.payment_types, practice_id=practice_id)

    def patients(self, *, practice_id: str | None = None) -> pd.DataFrame:
        return self._read(schema.patients, practice_id=practice_id)

    def transactions(
        self,
        *,
        practice_id: str | None = None,
        since: datetime | None = None,
        lookback: timedelta = DEFAULT_LOOKBACK,
    ) -> Extract:
        """Transactions loaded at or after ``since - lookback`` (all without ``since``),
        streamed in frames of at most ``chunk_size`` rows."""
        loaded_from = None if since is None else loaded_threshold(since, lookback)
        query = source_query(
            schema.transactions, self._dialect, practice_id=practice_id, loaded_from=loaded_from
        )
        return Extract(lambda: self._stream(query, schema.TRANSACTION_COLUMNS), since=since)

    def transaction_keys(self, *, practice_id: str | None = None) -> Generator[pd.DataFrame]:
        """``practice_id`` and ``transaction_sr_no`` of every transaction row there is now,
        in frames: what a run compares with what it pushed, to void rows that disappeared."""
        table = schema.transactions
        query = select(table.c.practice_id, table.c.transaction_sr_no)
        if practice_id is not None:
            query = query.where(table.c.practice_id == practice_id)
        return self._stream(query, KEY_COLUMNS)

    def _read(self, table: Table, *, practice_id: str | None) -> pd.DataFrame:
        query = source_query(table, self._dialect, practice_id=practice_id)
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return frame(rows, table_columns(table))

    def _stream(self, query: Select[Any], columns: Sequence[str]) -> Generator[pd.DataFrame]:
        with self._engine.connect() as connection:
            streaming = connection.execution_options(stream_results=True, yield_per=self.chunk_size)
            with closing(streaming.execute(query)) as result:
                for rows in result.partitions():
                    yield frame(rows, columns)

    def close(self) -> None:
        self._engine.dispose()

    def __repr__(self) -> str:
        url = self._engine.url.render_as_string(hide_password=True)
        return f"SqlSource({url!r}, chunk_size={self.chunk_size})"
