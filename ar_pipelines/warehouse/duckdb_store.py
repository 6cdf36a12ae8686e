"""The embedded warehouse: a DuckDB file (or an in-memory database, for tests).

A DuckDB file admits one writing process at a time, and dbt is another process: so a
file is opened per operation and closed after it, never held between operations.
``close()`` has nothing to release for a file, and dbt may run whenever no operation
is under way. When another process holds the file, an operation waits for it (up to
``lock_timeout`` seconds) rather than failing at once. An in-memory database lives in
one connection held until ``close()``; it cannot be shared with dbt.

dbt invoked in this process shares the file instead: DuckDB hands every connection to
one file in a process the same database instance, and ``session()`` keeps the file
open, every operation using it, until dbt is done. Embedded (``embedded``), a warehouse
for a ledger file keeps the ledger and the models in an in-memory catalog attached to
the file, where dbt works too: compressing every table and writing it to disk is more
than half of the work at ten million entries, and a temporary warehouse needs neither.
Every connection is made by ``duckdb_connection``.

Frames go in by registering them with DuckDB and ``insert ... select`` with casts, and
come out through DuckDB's own frames, converted by ``frames.converted``. Tables have no
primary key here: DuckDB would keep an index on every replace of a million rows for
nothing, since ``upsert`` and ``replace`` keep the keys themselves.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pandas as pd

from ar_pipelines.warehouse.base import Dialect, Warehouse, Write
from ar_pipelines.warehouse.errors import WarehouseError
from ar_pipelines.warehouse.frames import column_values, converted, duckdb_logical_type
from ar_pipelines.warehouse.ledger_file import (
    LEDGER_TABLE,
    LOADED_AT,
    ledger_load_errors,
    typed_ledger_query,
)
from ar_pipelines.warehouse.location import DuckDBLocation
from ar_pipelines.warehouse.sql_text import (
    DUCKDB_TYPES,
    Filters,
    casts,
    column_list,
    create_table,
    delete_same_keys,
    literal,
    quote,
)
from ar_pipelines.warehouse.tables import SCHEMAS, TABLES, ColumnType, Table

VECTOR_ROWS = 2048  # rows per DuckDB vector: chunks are fetched a number of vectors at a time
MEMORY_CATALOG = "local_statements"
MEMORY_LIMIT_ENV = "AR_DBT_DUCKDB_MEMORY_LIMIT"
MEMORY_LIMIT = "3GB"  # the profile's default too


def profile_memory_limit() -> str:
    """The memory limit dbt's profile gives DuckDB, for the work done beside dbt."""
    return os.environ.get(MEMORY_LIMIT_ENV, MEMORY_LIMIT)


def duckdb_connection(
    path: Path | None = None, *, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection to the file at ``path`` (an in-memory database when ``None``) without
    a progress bar, which long statements would otherwise draw on the terminal; with
    ``memory_limit``, the database's."""
    connection = duckdb.connect(str(path) if path is not None else ":memory:")
    try:
        connection.execute("set enable_progress_bar = false")
        if memory_limit is not None:
            connection.execute(f"set memory_limit = {literal(memory_limit)}")
    except BaseException:
        connection.close()
        raise
    return connection


def _projection(name: str, kind: ColumnType | None) -> str:
    # Decimals leave DuckDB as exact text: its frames would make them floats.
    return f"cast({name} as varchar) as {name}" if kind is ColumnType.MONEY else name


class DuckDBWarehouse(Warehouse):
    dialect: ClassVar[Dialect] = "duckdb"
    placeholder: ClassVar[str] = "?"
    bytewise: ClassVar[str] = "{}"  # DuckDB compares text by its bytes unless told otherwise

    def __init__(
        self,
        location: DuckDBLocation,
        *,
        schema_prefix: str = "",
        for_ledger_file: bool = False,
        in_memory_catalog: bool = False,
        lock_timeout: float = 60.0,
    ) -> None:
        super().__init__(location, schema_prefix=schema_prefix, for_ledger_file=for_ledger_file)
        self.path = location.path
        self.lock_timeout = lock_timeout
        # Where the tables are when not in the file: only inside a session.
        self.catalog = MEMORY_CATALOG if in_memory_catalog else None
        self._held: duckdb.DuckDBPyConnection | None = None
        if self.path is None:
            if for_ledger_file:
                # dbt must open the database too.
                raise WarehouseError(f"a DuckDB warehouse needs a file: {location.display()}")
            self._held = duckdb_connection()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if not for_ledger_file:
            self._create_tables()

    @classmethod
    def embedded(cls, path: Path) -> DuckDBWarehouse:
        """A warehouse for a ledger file whose ledger table and models live in memory, in
        a catalog attached to the file at ``path`` for the length of a ``session()``."""
        return cls(DuckDBLocation(path), for_ledger_file=True, in_memory_catalog=True)

    @property
    def dbt_schema(self) -> str:
        return "main"

    def qualified(self, *names: str) -> str:
        names = (self.catalog, *names) if self.catalog else names
        return super().qualified(*names)

    def dbt_env(self) -> dict[str, str]:
        if self.path is None:
            raise WarehouseError("an in-memory DuckDB warehouse cannot be shared with dbt")
        return {"AR_DBT_TARGET": "duckdb", "AR_DBT_DUCKDB_PATH": str(self.path.resolve())}

    def dbt_vars(self) -> dict[str, str]:
        variables = super().dbt_vars()
        if self.catalog:
            variables["catalog"] = self.catalog  # the models' and the source's database
        return variables

    def close(self) -> None:
        if self.path is None and self._held is not None:
            self._held.close()
            self._held = None

    @contextmanager
    def session(self) -> Iterator[None]:
        """Hold the file open until the block ends, with the memory limit of dbt's profile:
        every operation, and dbt invoked in this process, use this database instance; an
        in-memory catalog is attached for as long."""
        if self._held is not None or self.path is None:
            yield  # in memory, or in a session already: held
            return
        with self._open_file(memory_limit=profile_memory_limit()) as held:
            if self.catalog:
                spill = literal(str(self.path.parent / "spill"))
                held.execute(f"set temp_directory = {spill}")
                held.execute(f"attach ':memory:' as {quote(self.catalog)}")
            self._held = held
            try:
                yield
            finally:
                self._held = None
                if self.catalog:
                    # dbt's connection may outlive this one: let the data go now.
                    held.execute(f"use {quote(self.path.stem)}")
                    held.execute(f"detach {quote(self.catalog)}")

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one operation; DuckDB's errors as ``WarehouseError``."""
        if self._held is not None:
            connection = self._held.cursor()
        elif self.path is None:
            raise WarehouseError("the in-memory warehouse is closed")
        elif self.catalog:
            raise WarehouseError("the embedded warehouse is used outside its session")
        else:
            connection = self._open_file()
        try:
            yield connection
        except duckdb.Error as err:
            raise WarehouseError(f"DuckDB refused: {err}") from err
        finally:
            connection.close()

    def _open_file(self, *, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout
        pause = 0.05
        while True:
            try:
                return duckdb_connection(self.path, memory_limit=memory_limit)
            except duckdb.IOException as err:
                if "lock" not in str(err).lower() or time.monotonic() > deadline:
                    raise WarehouseError(f"cannot open {self.path}: {err}") from err
            time.sleep(pause)  # another process (dbt, another run) is writing
            pause = min(pause * 2, 1.0)

    def _create_tables(self) -> None:
        with self.connect() as connection:
            for schema in SCHEMAS:
                connection.execute(f"create schema if not exists {quote(self.schema_name(schema))}")
            for table in TABLES:
                statement = create_table(
                    self.relation(table), table, DUCKDB_TYPES, primary_key=False
                )
                connection.execute(statement)
            query = (
                "select table_schema, table_name, column_name from information_schema.columns "
                "where table_catalog = current_database()"
            )
            found = self._add_missing_columns(
                lambda: connection.execute(query).fetchall(), connection.execute, DUCKDB_TYPES
            )
        self._refuse_other_columns(found)

    def _write(self, write: Write) -> None:
        table = write.table
        relation = self.relation(table)
        incoming = f"incoming_{uuid.uuid4().hex}"
        with self.connect() as connection:
            connection.register(incoming, write.rows)
            try:
                connection.execute("begin transaction")
                if write.practice_id is not None:
                    connection.execute(
                        f"delete from {relation} where practice_id = ?",  # noqa: S608
                        [write.practice_id],
                    )
                elif write.by_key:
                    connection.execute(delete_same_keys(table, relation, incoming))
                names = column_list(table.column_names)
                connection.execute(
                    f"insert into {relation} ({names}) "  # noqa: S608
                    f"select {casts(table, DUCKDB_TYPES)} from {incoming}"
                )
                connection.execute("commit")
            except BaseException:
                with suppress(duckdb.Error):  # the error that brought us here matters
                    connection.execute("rollback")
                raise
            finally:
                connection.unregister(incoming)

    def _delete(
        self, table: Table, filters: Filters, column: str, values: Collection[object]
    ) -> int:
        frame = column_values(table, column, values)
        doomed = f"doomed_{uuid.uuid4().hex}"
        listed = f"select {quote(column)} from {doomed}"  # noqa: S608 - a declared column
        statement = self._delete_statement(table, filters, f"{quote(column)} in ({listed})")
        with self.connect() as connection:
            connection.register(doomed, frame)
            try:
                return _count(connection.execute(statement, [value for _, value in filters]))
            finally:
                connection.unregister(doomed)

    def _select(
        self, table: Table, columns: Sequence[str], filters: Filters, *, chunk_rows: int | None
    ) -> Iterator[pd.DataFrame]:
        statement = self._select_statement(table, columns, filters, _projection)
        types: dict[str, ColumnType | None] = {name: table.types()[name] for name in columns}
        with self.connect() as connection:
            connection.execute(statement, [value for _, value in filters])
            yield from fetch_frames(connection, types, chunk_rows=chunk_rows)

    def _load_ledger_file(self, path: Path) -> int:
        table = self.qualified(self.ledger_schema, LEDGER_TABLE)
        with self.connect() as connection:
            query = typed_ledger_query(connection, path)
            with ledger_load_errors(path):
                connection.execute(
                    f"create schema if not exists {self.qualified(self.ledger_schema)}"
                )
                # The query is built from the file's own column names, each cast.
                connection.execute(
                    f"create or replace table {table} as "  # noqa: S608
                    f"select *, current_timestamp as {LOADED_AT} from ({query})"
                )
            return _count(connection.execute(f"select count(*) from {table}"))  # noqa: S608

    def _write_csv(self, query: str, path: Path) -> int:
        with self.connect() as connection:
            copy = f"copy ({query}) to {literal(str(path))} (format csv, header true)"
            return _count(connection.execute(copy))

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        with self.connect() as connection:
            relation = connection.sql(sql, params=list(params) if params else None)
            if relation is None:
                return pd.DataFrame()
            types = {
                name: duckdb_logical_type(str(kind))
                for name, kind in zip(relation.columns, relation.types, strict=True)
            }
            projected = relation.project(
                ", ".join(_projection(quote(name), kind) for name, kind in types.items())
            )
            return converted(projected.df(), types)


def _count(executed: duckdb.DuckDBPyConnection) -> int:
    """The one number a ``count(*)`` or a ``copy`` gives."""
    row = executed.fetchone()
    return int(row[0]) if row else 0


def fetch_frames(
    connection: duckdb.DuckDBPyConnection,
    types: dict[str, ColumnType | None],
    *,
    chunk_rows: int | None,
) -> Iterator[pd.DataFrame]:
    """The executed query's rows as converted frames: one when ``chunk_rows`` is None."""
    if chunk_rows is None:
        yield converted(connection.fetch_df(), types)
        return
    vectors = max(1, -(-chunk_rows // VECTOR_ROWS))
    while True:
        chunk = connection.fetch_df_chunk(vectors)
        if chunk.empty:
            return
        yield converted(chunk, types)
