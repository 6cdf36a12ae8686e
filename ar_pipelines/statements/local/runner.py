"""``compute_local_statements``: a ledger file in, the three marts as CSV files out."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

from ar_pipelines.statements.local.dbt import build_statements
from ar_pipelines.statements.local.duckdb_warehouse import DuckDBWarehouse
from ar_pipelines.statements.local.errors import InvalidLedgerError, WarehouseError
from ar_pipelines.statements.local.postgres_warehouse import PostgresWarehouse
from ar_pipelines.statements.local.warehouse import Warehouse

EMBEDDED_FILE_NAME = "warehouse.duckdb"


@dataclass(frozen=True)
class StatementsRun:
    entries: int
    statements: int
    allocations: int
    customers: int
    load_seconds: float
    dbt_seconds: float
    export_seconds: float
    files: dict[str, Path]  # mart name -> written CSV


def compute_local_statements(
    ledger: Path,
    out_dir: Path,
    *,
    warehouse: str | None = None,
    run_tests: bool = True,
) -> StatementsRun:
    """Load ``ledger`` (.csv or .parquet), build the dbt project on it and write
    ``statements.csv``, ``payment_allocations.csv`` and ``customer_credits.csv``.

    ``warehouse``: see ``open_warehouse``. ``run_tests=False`` builds the models
    without the data tests, trusting the ledger.
    """
    ledger, out_dir = Path(ledger), Path(out_dir)
    if not ledger.is_file():
        raise InvalidLedgerError(f"no ledger file at {ledger}")
    with tempfile.TemporaryDirectory(prefix="ar-statements-") as work:
        work_dir = Path(work)
        store = open_warehouse(warehouse, work_dir)
        with store.session():
            started = perf_counter()
            entries = store.load(ledger, work_dir)
            loaded = perf_counter()
            build_statements(store, work_dir, run_tests=run_tests)
            built = perf_counter()
            exported = store.export(out_dir)
            done = perf_counter()
    return StatementsRun(
        entries=entries,
        statements=exported["statements"].rows,
        allocations=exported["payment_allocations"].rows,
        customers=exported["customer_credits"].rows,
        load_seconds=loaded - started,
        dbt_seconds=built - loaded,
        export_seconds=done - built,
        files={name: file.path for name, file in exported.items()},
    )


def open_warehouse(url: str | None, work_dir: Path) -> Warehouse:
    """The warehouse a URL names.

    - ``None``: an embedded DuckDB in ``work_dir``, the ledger and the models in memory;
    - ``duckdb:///relative/file.duckdb`` or ``duckdb:////absolute/file.duckdb`` (the
      SQLAlchemy form): a DuckDB file of your own, the ledger in schema
      ``normalized``, the models in ``main``;
    - ``postgresql://user:password@host:port/database``: Postgres, the ledger table
      and the models in one schema, the ``schema`` query parameter, else the first
      entry of ``options=-csearch_path=...``, else ``ar_statements``.
    """
    if url is None:
        return DuckDBWarehouse(work_dir / EMBEDDED_FILE_NAME, in_memory=True)
    if url.startswith("duckdb:///"):
        path = Path(url.removeprefix("duckdb:///"))
        if not path.name or path.name == ":memory:":
            raise WarehouseError(f"a DuckDB warehouse needs a file: {url}")
        return DuckDBWarehouse(path)
    if url.startswith(("postgresql:", "postgresql+", "postgres:")):
        return PostgresWarehouse.from_url(url)
    scheme = url.split(":", 1)[0]
    raise WarehouseError(f"the warehouse must be duckdb:///FILE or postgresql://..., not {scheme}:")
