"""The warehouse: raw rows, normalized records, push state and dbt's models in one
database, DuckDB (embedded) or Postgres (production).

::

    from ar_pipelines.warehouse import LEDGER_ENTRIES, RAW_TRANSACTIONS, open_warehouse

    with open_warehouse("duckdb:///data/warehouse.duckdb") as warehouse:
        warehouse.replace(RAW_TRANSACTIONS, rows, practice_id="P1")
        warehouse.upsert(LEDGER_ENTRIES, entries.assign(practice_id="P1"))
        entries = warehouse.read(LEDGER_ENTRIES, practice_id="P1")
        env = warehouse.dbt_env()        # for dbt's process: the same database

Tables are declared in ``tables.py``; values keep their types both ways (money as
``Decimal``, exactly); an aware timestamp is stored in UTC without its zone (the project's
``clock.utc_now`` gives the time of a write).

Opened ``for_ledger_file`` (the statements command), a warehouse holds instead one
ledger file's entries, loaded by ``load_ledger_file`` (.csv or .parquet, typed and
checked in ``ledger_file.py``), and the models dbt builds from them, whose marts
``export_marts`` writes as CSV (``marts.py``); ``DuckDBWarehouse.embedded`` keeps both
in memory. No Dagster here, and no dbt: ``ar_pipelines.statements.dbt`` invokes it.
"""

from ar_pipelines.warehouse.base import Dialect, Warehouse
from ar_pipelines.warehouse.duckdb_store import DuckDBWarehouse
from ar_pipelines.warehouse.errors import LedgerFileError, WarehouseError, WarehouseSchemaError
from ar_pipelines.warehouse.location import DuckDBLocation, parse_location
from ar_pipelines.warehouse.marts import MART_EXPORTS, ExportedFile
from ar_pipelines.warehouse.postgres_store import PostgresWarehouse
from ar_pipelines.warehouse.tables import (
    AR_STATEMENTS,
    CONTACT_BOOK,
    CURSORS,
    CUSTOMER_SOURCES,
    CUSTOMERS,
    DEAD_LETTER,
    LEDGER_ENTRIES,
    PUSH_STATE,
    QUARANTINE,
    RAW_GUARANTORS,
    RAW_PATIENTS,
    RAW_TRANSACTIONS,
    RECONCILED,
    TABLES,
    TOUCHED_CUSTOMERS,
    TRANSACTION_ROWS,
    Column,
    ColumnType,
    Table,
)


def open_warehouse(
    url: str, *, schema_prefix: str = "", for_ledger_file: bool = False
) -> Warehouse:
    """The warehouse at ``url`` (``duckdb:///path.duckdb``, ``duckdb:///:memory:``,
    ``postgresql://...``), its schemas and tables made if missing.

    ``schema_prefix`` (lowercase letters, digits, ``_``) is put before every schema
    name, so that several warehouses can share one database (tests do).

    ``for_ledger_file``: a warehouse for one ledger file and dbt's models; opening it
    makes no table and opens no connection. On DuckDB, a file: the ledger in
    ``normalized``, the models in ``main``. On Postgres, the ledger table and the
    models in one schema: the URL's ``schema`` parameter, else the first entry of
    ``options=-csearch_path=...``, else ``ar_statements``.
    """
    location = parse_location(url)
    if isinstance(location, DuckDBLocation):
        return DuckDBWarehouse(
            location, schema_prefix=schema_prefix, for_ledger_file=for_ledger_file
        )
    return PostgresWarehouse(location, schema_prefix=schema_prefix, for_ledger_file=for_ledger_file)


__all__ = [
    "AR_STATEMENTS",
    "CONTACT_BOOK",
    "CURSORS",
    "CUSTOMERS",
    "CUSTOMER_SOURCES",
    "DEAD_LETTER",
    "LEDGER_ENTRIES",
    "MART_EXPORTS",
    "PUSH_STATE",
    "QUARANTINE",
    "RAW_GUARANTORS",
    "RAW_PATIENTS",
    "RAW_TRANSACTIONS",
    "RECONCILED",
    "TABLES",
    "TOUCHED_CUSTOMERS",
    "TRANSACTION_ROWS",
    "Column",
    "ColumnType",
    "Dialect",
    "DuckDBWarehouse",
    "ExportedFile",
    "LedgerFileError",
    "PostgresWarehouse",
    "Table",
    "Warehouse",
    "WarehouseError",
    "WarehouseSchemaError",
    "open_warehouse",
]
