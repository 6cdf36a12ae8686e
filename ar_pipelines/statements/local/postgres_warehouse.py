"""The Postgres warehouse: the ledger table and every model in one schema.

The schema is the URL's ``schema`` query parameter, else the first entry of
``options=-csearch_path=...``, else ``ar_statements``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import duckdb
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ar_pipelines.statements.local.duckdb_warehouse import duckdb_connection, scalar
from ar_pipelines.statements.local.errors import InvalidLedgerError, WarehouseError
from ar_pipelines.statements.local.ledger_file import (
    LEDGER_COLUMNS,
    error_summary,
    sql_string,
    typed_ledger_query,
)
from ar_pipelines.statements.local.warehouse import (
    LEDGER_TABLE,
    MART_EXPORTS,
    ExportedFile,
    export_query,
)

DEFAULT_SCHEMA = "ar_statements"
POSTGRES_TYPES = {"varchar": "text", "date": "date", "decimal(14, 2)": "numeric(14, 2)"}
SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*([^\s,]+)")


@dataclass(frozen=True)
class PostgresWarehouse:
    host: str
    port: int
    user: str
    password: str = field(repr=False)  # never in a repr, a log or a traceback
    database: str
    schema: str
    target: ClassVar[str] = "postgres"

    @classmethod
    def from_url(cls, url: str) -> PostgresWarehouse:
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):
            # The parser's message repeats the URL, password included: say what is expected.
            raise WarehouseError(
                "not a Postgres URL (expected postgresql://user:password@host:port/database)"
            ) from None
        options = parsed.query.get("options", "")
        search_path = SEARCH_PATH.search(options if isinstance(options, str) else options[0])
        schema = parsed.query.get("schema") or (search_path.group(1) if search_path else None)
        return cls(
            host=parsed.host or "localhost",
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            password=parsed.password or "",
            database=parsed.database or "postgres",
            schema=str(schema or DEFAULT_SCHEMA).strip('"'),
        )

    def dbt_env(self) -> dict[str, str]:
        return {
            "AR_DBT_PG_HOST": self.host,
            "AR_DBT_PG_PORT": str(self.port),
            "AR_DBT_PG_USER": self.user,
            "DBT_ENV_SECRET_AR_DBT_PG_PASSWORD": self.password,
            "AR_DBT_PG_DBNAME": self.database,
            "AR_DBT_PG_SCHEMA": self.schema,
        }

    def dbt_vars(self) -> dict[str, str]:
        return {"ledger_schema": self.schema, "ledger_table": LEDGER_TABLE}

    def session(self) -> AbstractContextManager[None]:
        # Each step connects for itself.
        return nullcontext()

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        try:
            connection = psycopg.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self.password or None,
                dbname=self.database,
                options="-c datestyle=ISO",
            )
        except psycopg.Error as err:
            raise WarehouseError(f"cannot connect to Postgres: {error_summary(err)}") from err
        try:
            with connection:
                yield connection
        except psycopg.Error as err:
            raise WarehouseError(f"Postgres refused: {error_summary(err)}") from err
        finally:
            connection.close()

    def load(self, ledger: Path, work_dir: Path) -> int:
        # DuckDB reads and checks the file as for the embedded warehouse and hands
        # Postgres a plain CSV for COPY, the fastest way in.
        staged = work_dir / "ledger_entries.csv"
        work_dir.mkdir(parents=True, exist_ok=True)
        with duckdb_connection() as duck:
            query = typed_ledger_query(duck, ledger)
            target = sql_string(str(staged))
            try:
                count = scalar(duck, f"copy ({query}) to {target} (format csv, header false)")
            except duckdb.Error as err:
                reason = error_summary(err)
                raise InvalidLedgerError(f"cannot load the ledger {ledger}: {reason}") from err
        table = sql.Identifier(self.schema, LEDGER_TABLE)
        columns = sql.SQL(", ").join(sql.Identifier(name) for name in LEDGER_COLUMNS)
        definitions = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(POSTGRES_TYPES[kind]))
            for name, kind in LEDGER_COLUMNS.items()
        )
        with self.connect() as connection, connection.cursor() as cursor:
            self._refuse_a_table_of_another_kind(cursor)
            schema = sql.Identifier(self.schema)
            cursor.execute(sql.SQL("create schema if not exists {}").format(schema))
            # Cascade: the staging view over the table goes too; dbt builds it again.
            cursor.execute(sql.SQL("drop table if exists {} cascade").format(table))
            cursor.execute(
                sql.SQL(
                    "create table {} ({}, loaded_at timestamptz not null default now())"
                ).format(table, definitions)
            )
            copy = sql.SQL("copy {} ({}) from stdin (format csv)").format(table, columns)
            with cursor.copy(copy) as writer, staged.open("rb") as source:
                while block := source.read(1 << 20):
                    writer.write(block)
            cursor.execute(sql.SQL("analyze {}").format(table))
        staged.unlink()
        return count

    def _refuse_a_table_of_another_kind(self, cursor: psycopg.Cursor[tuple[object, ...]]) -> None:
        """The load replaces ``ledger_entries``; never one that is not a ledger load (an
        application's own table of that name in a schema given by mistake)."""
        cursor.execute(
            "select column_name from information_schema.columns "
            "where table_schema = %s and table_name = %s",
            (self.schema, LEDGER_TABLE),
        )
        found = {str(name) for (name,) in cursor.fetchall()}
        if found and found != {*LEDGER_COLUMNS, "loaded_at"}:
            raise WarehouseError(
                f"{self.schema}.{LEDGER_TABLE} exists and is not a ledger load; "
                "give the warehouse a schema of its own"
            )

    def export(self, out_dir: Path) -> dict[str, ExportedFile]:
        out_dir.mkdir(parents=True, exist_ok=True)
        files = {}
        with self.connect() as connection, connection.cursor() as cursor:
            for mart in MART_EXPORTS:
                path = out_dir / f"{mart}.csv"
                relation = sql.Identifier(self.schema, mart).as_string(connection)
                query = export_query(mart, relation, bytewise='{} collate "C"')
                copy = sql.SQL(f"copy ({query}) to stdout (format csv, header true)")
                with path.open("wb") as sink:
                    with cursor.copy(copy) as reader:
                        for block in reader:
                            sink.write(block)
                    files[mart] = ExportedFile(path, cursor.rowcount)
        return files
