"""The DuckDB warehouse: a file, the ledger in schema ``normalized``, the models in ``main``.

Embedded (``in_memory``), the ledger and the models live in an in-memory catalog
attached to the file: compressing every table and writing it to disk is more
than half of the work at ten million entries, and a temporary warehouse needs
neither. dbt works in the same catalog because DuckDB hands every connection to
one file in a process the same database instance, and the session keeps that
instance open from the load to the export.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import duckdb

from ar_pipelines.statements.local.errors import InvalidLedgerError, WarehouseError
from ar_pipelines.statements.local.ledger_file import (
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

LEDGER_SCHEMA = "normalized"
MODELS_SCHEMA = "main"
MEMORY_CATALOG = "local_statements"
MEMORY_LIMIT_ENV = "AR_DBT_DUCKDB_MEMORY_LIMIT"
MEMORY_LIMIT = "3GB"  # the profile's default too


def memory_limit() -> str:
    return os.environ.get(MEMORY_LIMIT_ENV, MEMORY_LIMIT)


@contextmanager
def duckdb_connection(path: Path | str = ":memory:") -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(path))
    try:
        # Long statements would otherwise draw a progress bar on the terminal.
        connection.execute("set enable_progress_bar = false")
        connection.execute(f"set memory_limit = {sql_string(memory_limit())}")
        yield connection
    finally:
        connection.close()


def identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def scalar(connection: duckdb.DuckDBPyConnection, query: str) -> int:
    row = connection.execute(query).fetchone()
    assert row is not None
    return int(row[0])


@dataclass
class DuckDBWarehouse:
    path: Path
    in_memory: bool = False
    target: ClassVar[str] = "duckdb"
    schema: ClassVar[str] = MODELS_SCHEMA
    _connection: duckdb.DuckDBPyConnection | None = field(default=None, init=False, repr=False)

    @property
    def database(self) -> str:
        # dbt-duckdb names the file's catalog after the file.
        return self.path.stem

    @property
    def catalog(self) -> str:
        return MEMORY_CATALOG if self.in_memory else self.database

    def dbt_env(self) -> dict[str, str]:
        return {"AR_DBT_DUCKDB_PATH": str(self.path), MEMORY_LIMIT_ENV: memory_limit()}

    def dbt_vars(self) -> dict[str, str]:
        return {
            "ledger_schema": LEDGER_SCHEMA,
            "ledger_table": LEDGER_TABLE,
            "catalog": MEMORY_CATALOG if self.in_memory else "",
        }

    @contextmanager
    def session(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with duckdb_connection(self.path) as connection:
            if self.in_memory:
                spill = sql_string(str(self.path.parent / "spill"))
                connection.execute(f"set temp_directory = {spill}")
                connection.execute(f"attach ':memory:' as {MEMORY_CATALOG}")
            self._connection = connection
            try:
                yield
            finally:
                self._connection = None
                if self.in_memory:
                    # dbt's connection may outlive this one: let the data go now.
                    connection.execute(f"use {identifier(self.database)}")
                    connection.execute(f"detach {MEMORY_CATALOG}")

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._connection is None:
            raise WarehouseError("the DuckDB warehouse is used outside its session")
        return self._connection

    def load(self, ledger: Path, work_dir: Path) -> int:
        connection = self.connection
        catalog = identifier(self.catalog)
        table = f"{catalog}.{LEDGER_SCHEMA}.{LEDGER_TABLE}"
        query = typed_ledger_query(connection, ledger)
        try:
            connection.execute(f"create schema if not exists {catalog}.{LEDGER_SCHEMA}")
            # The query is built from the file's own column names, each cast.
            connection.execute(
                f"create or replace table {table} as "  # noqa: S608
                f"select *, current_timestamp as loaded_at from ({query})"
            )
        except duckdb.Error as err:
            reason = error_summary(err)
            raise InvalidLedgerError(f"cannot load the ledger {ledger}: {reason}") from err
        return scalar(connection, f"select count(*) from {table}")  # noqa: S608

    def export(self, out_dir: Path) -> dict[str, ExportedFile]:
        out_dir.mkdir(parents=True, exist_ok=True)
        files = {}
        for mart in MART_EXPORTS:
            path = out_dir / f"{mart}.csv"
            relation = f"{identifier(self.catalog)}.{self.schema}.{mart}"
            query = export_query(mart, relation, bytewise="{}")
            copy = f"copy ({query}) to {sql_string(str(path))} (format csv, header true)"
            files[mart] = ExportedFile(path, scalar(self.connection, copy))
        return files
