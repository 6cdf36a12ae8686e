"""The embedded warehouse: one DuckDB file, the ledger in ``normalized``, models in ``main``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import duckdb

from ar_pipelines.statements.local.errors import InvalidLedgerError
from ar_pipelines.statements.local.ledger_file import error_summary, sql_string, typed_ledger_query
from ar_pipelines.statements.local.warehouse import (
    LEDGER_TABLE,
    MART_EXPORTS,
    ExportedFile,
    export_query,
)

LEDGER_SCHEMA = "normalized"
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


def scalar(connection: duckdb.DuckDBPyConnection, query: str) -> int:
    row = connection.execute(query).fetchone()
    assert row is not None
    return int(row[0])


@dataclass(frozen=True)
class DuckDBWarehouse:
    path: Path
    target: ClassVar[str] = "duckdb"
    schema: ClassVar[str] = "main"

    @property
    def database(self) -> str:
        # dbt-duckdb names the catalog after the file.
        return self.path.stem

    def dbt_env(self) -> dict[str, str]:
        return {"AR_DBT_DUCKDB_PATH": str(self.path), MEMORY_LIMIT_ENV: memory_limit()}

    def dbt_vars(self) -> dict[str, str]:
        return {"ledger_schema": LEDGER_SCHEMA, "ledger_table": LEDGER_TABLE}

    def load(self, ledger: Path, work_dir: Path) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        table = f"{LEDGER_SCHEMA}.{LEDGER_TABLE}"
        with duckdb_connection(self.path) as connection:
            query = typed_ledger_query(connection, ledger)
            try:
                connection.execute(f"create schema if not exists {LEDGER_SCHEMA}")
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
        with duckdb_connection(self.path) as connection:
            for mart in MART_EXPORTS:
                path = out_dir / f"{mart}.csv"
                query = export_query(mart, f"{self.schema}.{mart}", bytewise="{}")
                copy = f"copy ({query}) to {sql_string(str(path))} (format csv, header true)"
                files[mart] = ExportedFile(path, scalar(connection, copy))
        return files
