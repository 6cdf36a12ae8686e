"""The production warehouse: Postgres, through psycopg 3 and COPY.

Each operation connects for itself and is one transaction; nothing is held between
operations. Rows move by COPY in CSV both ways, and DuckDB (in memory) stands at the
Python end: it writes the CSV from a registered frame and reads the CSV that comes
back with the declared column types, so that values are converted exactly as for the
embedded warehouse, in one place (``frames``). Keys are primary keys here: Postgres
needs their indexes to find a slice of a million-row table.

A warehouse for a ledger file keeps the ledger table and dbt's models in one schema:
the URL's (``PostgresLocation.schema``), else ``ar_statements``. DuckDB reads and checks
the file as for the embedded warehouse and hands Postgres a plain CSV for COPY, the
fastest way in; the load never replaces a ``ledger_entries`` table that is not one.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pandas as pd
import psycopg
from psycopg import errors as pg_errors

from ar_pipelines.warehouse.base import Dialect, Warehouse, Write
from ar_pipelines.warehouse.duckdb_store import (
    duckdb_connection,
    fetch_frames,
    profile_memory_limit,
)
from ar_pipelines.warehouse.errors import WarehouseError
from ar_pipelines.warehouse.frames import column_values, converted
from ar_pipelines.warehouse.ledger_file import (
    LEDGER_FILE_COLUMNS,
    LEDGER_TABLE,
    LOADED_AT,
    ledger_load_errors,
    typed_ledger_query,
)
from ar_pipelines.warehouse.location import PostgresLocation
from ar_pipelines.warehouse.sql_text import (
    DUCKDB_TYPES,
    POSTGRES_TYPES,
    Filters,
    casts,
    column_list,
    create_table,
    delete_same_keys,
    literal,
    quote,
)
from ar_pipelines.warehouse.tables import PRACTICE_ID, SCHEMAS, TABLES, ColumnType, Table

# The profile's default: dbt's models, under the prefix; for a ledger file, the ledger too.
DBT_SCHEMA = "ar_statements"
BLOCK = 1 << 20
# Result types of ``query`` by Postgres type name; others are left as psycopg gives them.
LOGICAL_TYPES = {
    "numeric": ColumnType.MONEY,
    "text": ColumnType.TEXT,
    "varchar": ColumnType.TEXT,
    "bpchar": ColumnType.TEXT,
    "date": ColumnType.DATE,
    "timestamp": ColumnType.TIMESTAMP,
    "timestamptz": ColumnType.TIMESTAMP,
    "int2": ColumnType.INTEGER,
    "int4": ColumnType.INTEGER,
    "int8": ColumnType.INTEGER,
    "bool": ColumnType.BOOLEAN,
}
Connection = psycopg.Connection[tuple[Any, ...]]


def _summary(err: BaseException) -> str:
    """The first line of a driver error: enough to act on, and never the connection
    string (libpq's messages name the host and user, not the password)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _projection(name: str, kind: ColumnType) -> str:
    # Postgres writes booleans as t/f in CSV; as text they read back as DuckDB expects.
    return f"cast({name} as text) as {name}" if kind is ColumnType.BOOLEAN else name


class PostgresWarehouse(Warehouse):
    dialect: ClassVar[Dialect] = "postgres"
    placeholder: ClassVar[str] = "%s"
    bytewise: ClassVar[str] = '{} collate "C"'

    def __init__(
        self, location: PostgresLocation, *, schema_prefix: str = "", for_ledger_file: bool = False
    ) -> None:
        super().__init__(location, schema_prefix=schema_prefix, for_ledger_file=for_ledger_file)
        self.postgres = location
        if not for_ledger_file:
            self._create_tables()

    @property
    def dbt_schema(self) -> str:
        named = self.postgres.schema if self.for_ledger_file else None
        return self.schema_name(named or DBT_SCHEMA)

    @property
    def ledger_schema(self) -> str:
        return self.dbt_schema if self.for_ledger_file else super().ledger_schema

    def dbt_env(self) -> dict[str, str]:
        where = self.postgres
        return {
            "AR_DBT_TARGET": "postgres",
            "AR_DBT_PG_HOST": where.host,
            "AR_DBT_PG_PORT": str(where.port),
            "AR_DBT_PG_USER": where.user,
            # dbt keeps variables named DBT_ENV_SECRET_* out of its logs.
            "DBT_ENV_SECRET_AR_DBT_PG_PASSWORD": where.password,
            "AR_DBT_PG_DBNAME": where.database,
            "AR_DBT_PG_SCHEMA": self.dbt_schema,
        }

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for one transaction, committed when the block ends without error."""
        try:
            connection = psycopg.connect(**self.postgres.connect_kwargs())
        except psycopg.Error as err:
            raise WarehouseError(f"cannot connect to Postgres: {_summary(err)}") from None
        try:
            with connection:
                connection.execute("set datestyle to 'ISO, YMD'")
                yield connection
        except psycopg.Error as err:
            raise WarehouseError(f"Postgres refused: {_summary(err)}") from err
        finally:
            connection.close()

    def _create_tables(self) -> None:
        for attempt in range(3):
            try:
                self._create_tables_once()
                break
            except WarehouseError as err:
                # Two processes opening a new warehouse at once race on "if not exists".
                race = isinstance(err.__cause__, pg_errors.UniqueViolation)
                if not race or attempt == 2:
                    raise
        self._check_columns()

    def _create_tables_once(self) -> None:
        with self.connect() as connection:
            for schema in SCHEMAS:
                connection.execute(f"create schema if not exists {quote(self.schema_name(schema))}")
            for table in TABLES:
                relation = self.relation(table)
                connection.execute(create_table(relation, table, POSTGRES_TYPES, primary_key=True))
                if not table.key:
                    index = quote(f"{table.name}_{PRACTICE_ID}")
                    connection.execute(
                        f"create index if not exists {index} on {relation} ({quote(PRACTICE_ID)})"
                    )

    def _check_columns(self) -> None:
        schemas = [self.schema_name(schema) for schema in SCHEMAS]
        with self.connect() as connection:
            query = (
                "select table_schema, table_name, column_name from information_schema.columns "
                "where table_schema = any(%s)"
            )
            found = self._add_missing_columns(
                lambda: connection.execute(query, (schemas,)).fetchall(),
                connection.execute,
                POSTGRES_TYPES,
            )
        self._refuse_other_columns(found)

    def _load_ledger_file(self, path: Path) -> int:
        table = self.qualified(self.ledger_schema, LEDGER_TABLE)
        names = column_list([column.name for column in LEDGER_FILE_COLUMNS])
        definitions = ", ".join(
            f"{quote(column.name)} {POSTGRES_TYPES[column.type]}" for column in LEDGER_FILE_COLUMNS
        )
        with tempfile.TemporaryDirectory(prefix="ar-warehouse-") as work:
            staged = Path(work) / "ledger_entries.csv"
            with duckdb_connection(memory_limit=profile_memory_limit()) as duck:
                query = typed_ledger_query(duck, path)
                with ledger_load_errors(path):
                    copy = f"copy ({query}) to {literal(str(staged))} (format csv, header false)"
                    row = duck.execute(copy).fetchone()
            with self.connect() as connection, connection.cursor() as cursor:
                self._refuse_a_table_of_another_kind(cursor)
                cursor.execute(f"create schema if not exists {self.qualified(self.ledger_schema)}")
                # Cascade: the staging view over the table goes too; dbt builds it again.
                cursor.execute(f"drop table if exists {table} cascade")
                cursor.execute(
                    f"create table {table} ({definitions}, "
                    f"{quote(LOADED_AT)} timestamptz not null default now())"
                )
                _copy_in(cursor, f"copy {table} ({names}) from stdin (format csv)", staged)
                cursor.execute(f"analyze {table}")
        return int(row[0]) if row else 0

    def _refuse_a_table_of_another_kind(self, cursor: psycopg.Cursor[tuple[Any, ...]]) -> None:
        """The load replaces ``ledger_entries``; never one that is not a ledger load (an
        application's own table of that name in a schema given by mistake)."""
        cursor.execute(
            "select column_name from information_schema.columns "
            "where table_schema = %s and table_name = %s",
            (self.ledger_schema, LEDGER_TABLE),
        )
        found = {str(name) for (name,) in cursor.fetchall()}
        if found and found != {*(column.name for column in LEDGER_FILE_COLUMNS), LOADED_AT}:
            raise WarehouseError(
                f"{self.ledger_schema}.{LEDGER_TABLE} exists and is not a ledger load; "
                "give the warehouse a schema of its own"
            )

    def _write_csv(self, query: str, path: Path) -> int:
        with self.connect() as connection, connection.cursor() as cursor:
            _copy_out(cursor, f"copy ({query}) to stdout (format csv, header true)", path)
            return cursor.rowcount

    def _write(self, write: Write) -> None:
        table = write.table
        relation = self.relation(table)
        names = column_list(table.column_names)
        with tempfile.TemporaryDirectory(prefix="ar-warehouse-") as work:
            staged = Path(work) / "rows.csv"
            _stage_csv(table, write.rows, staged)
            with self.connect() as connection, connection.cursor() as cursor:
                if write.practice_id is not None:
                    cursor.execute(
                        f"delete from {relation} where {quote(PRACTICE_ID)} = %s",  # noqa: S608
                        (write.practice_id,),
                    )
                if not write.by_key:
                    _copy_in(cursor, f"copy {relation} ({names}) from stdin (format csv)", staged)
                    return
                incoming = quote(f"incoming_{uuid.uuid4().hex}")
                cursor.execute(f"create temp table {incoming} (like {relation}) on commit drop")
                _copy_in(cursor, f"copy {incoming} ({names}) from stdin (format csv)", staged)
                cursor.execute(delete_same_keys(table, relation, incoming))
                cursor.execute(
                    f"insert into {relation} ({names}) select {names} from {incoming}"  # noqa: S608
                )

    def _delete(
        self, table: Table, filters: Filters, column: str, values: Collection[object]
    ) -> int:
        doomed = column_values(table, column, values)[column].tolist()
        statement = self._delete_statement(table, filters, f"{quote(column)} = any(%s)")
        with self.connect() as connection:
            cursor = connection.execute(statement, [*(value for _, value in filters), doomed])
            return cursor.rowcount

    def _select(
        self, table: Table, columns: Sequence[str], filters: Filters, *, chunk_rows: int | None
    ) -> Iterator[pd.DataFrame]:
        statement = self._select_statement(table, columns, filters, _projection)
        types = table.types()
        with tempfile.TemporaryDirectory(prefix="ar-warehouse-") as work:
            staged = Path(work) / "rows.csv"
            with self.connect() as connection, connection.cursor() as cursor:
                copy = f"copy ({statement}) to stdout (format csv)"
                _copy_out(cursor, copy, staged, [value for _, value in filters])
            wanted = {name: types[name] for name in columns}
            yield from _read_csv(staged, wanted, chunk_rows=chunk_rows)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute(sql, params)
            if cursor.description is None:
                return pd.DataFrame()
            names = [column.name for column in cursor.description]
            rows = cursor.fetchall()
            types: dict[str, ColumnType | None] = {}
            for column in cursor.description:
                info = connection.adapters.types.get(column.type_code)
                types[column.name] = LOGICAL_TYPES.get(info.name) if info else None
        values = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        frame = pd.DataFrame(
            {
                name: pd.Series(list(column), dtype=object)
                for name, column in zip(names, values, strict=True)
            }
        )
        return converted(frame, types)


def _stage_csv(table: Table, prepared: pd.DataFrame, path: Path) -> None:
    """The rows as CSV Postgres's COPY reads: NULL unquoted and empty, ``""`` an empty
    string. DuckDB casts on the way, so a bad date fails here, before Postgres."""
    incoming = f"incoming_{uuid.uuid4().hex}"
    target = literal(str(path))
    with duckdb_connection() as duck:
        duck.register(incoming, prepared)
        try:
            duck.execute(
                f"copy (select {casts(table, DUCKDB_TYPES)} from {incoming}) "  # noqa: S608
                f"to {target} (format csv, header false)"
            )
        except duckdb.Error as err:
            raise WarehouseError(f"cannot stage rows for {table.logical_name}: {err}") from err


def _copy_in(cursor: psycopg.Cursor[tuple[Any, ...]], statement: str, staged: Path) -> None:
    with cursor.copy(statement) as writer, staged.open("rb") as source:
        while block := source.read(BLOCK):
            writer.write(block)


def _copy_out(
    cursor: psycopg.Cursor[tuple[Any, ...]],
    statement: str,
    sink: Path,
    parameters: Sequence[object] | None = None,
) -> None:
    with cursor.copy(statement, parameters) as rows, sink.open("wb") as target:
        for block in rows:
            target.write(block)


def _read_csv(
    path: Path, types: dict[str, ColumnType], *, chunk_rows: int | None
) -> Iterator[pd.DataFrame]:
    declared = ", ".join(f"{quote(name)}: '{DUCKDB_TYPES[kind]}'" for name, kind in types.items())
    project = ", ".join(
        f"cast({quote(name)} as varchar) as {quote(name)}"
        if kind is ColumnType.MONEY
        else quote(name)
        for name, kind in types.items()
    )
    target = literal(str(path))
    reader = (
        f"read_csv({target}, columns = {{{declared}}}, header = false, auto_detect = false, "
        "delim = ',', quote = '\"', escape = '\"', allow_quoted_nulls = false, "
        "max_line_size = 67108864)"
    )
    with duckdb_connection() as duck:
        try:
            duck.execute(f"select {project} from {reader}")  # noqa: S608
            wanted: dict[str, ColumnType | None] = dict(types)
            yield from fetch_frames(duck, wanted, chunk_rows=chunk_rows)
        except duckdb.Error as err:
            raise WarehouseError(f"cannot read the rows Postgres sent: {err}") from err
