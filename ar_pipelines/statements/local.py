"""``compute_local_statements``: a ledger file in, the three marts as CSV files out,
computed by the dbt project on an embedded DuckDB or on a warehouse of one's own.

::

    from ar_pipelines.statements.local import compute_local_statements

    run = compute_local_statements(Path("ledger_entries.csv"), Path("out"))
    run.files["statements"]   # out/statements.csv
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

from ar_pipelines.statements.dbt import build_statements
from ar_pipelines.statements.errors import InvalidLedgerError
from ar_pipelines.warehouse import DuckDBWarehouse, LedgerFileError, Warehouse, open_warehouse

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

    ``warehouse``: see ``statements_warehouse``. ``run_tests=False`` builds the models
    without the data tests, trusting the ledger. A ledger refused raises
    ``InvalidLedgerError``, a warehouse refused ``WarehouseError``, a failure of dbt on
    the results ``DbtRunError``.
    """
    ledger, out_dir = Path(ledger), Path(out_dir)
    if not ledger.is_file():
        raise InvalidLedgerError(f"no ledger file at {ledger}")
    with tempfile.TemporaryDirectory(prefix="ar-statements-") as work:
        work_dir = Path(work)
        with statements_warehouse(warehouse, work_dir) as store, store.session():
            started = perf_counter()
            entries = _load(store, ledger)
            loaded = perf_counter()
            # The load replaced the ledger whole, every entry loaded anew: every
            # customer is touched, and a full build is the cheaper way to them all.
            build_statements(store, work_dir, run_tests=run_tests, full_refresh=True)
            built = perf_counter()
            exported = store.export_marts(out_dir)
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


def statements_warehouse(url: str | None, work_dir: Path) -> Warehouse:
    """The warehouse the statements are computed in.

    - ``None``: an embedded DuckDB in ``work_dir``, the ledger and the models in memory;
    - ``duckdb:///relative/file.duckdb`` or ``duckdb:////absolute/file.duckdb``: a
      DuckDB file of your own, the ledger in schema ``normalized``, the models in ``main``;
    - ``postgresql://user:password@host:port/database``: Postgres, the ledger table
      and the models in one schema, the ``schema`` query parameter, else the first
      entry of ``options=-csearch_path=...``, else ``ar_statements``.
    """
    if url is None:
        return DuckDBWarehouse.embedded(work_dir / EMBEDDED_FILE_NAME)
    return open_warehouse(url, for_ledger_file=True)


def _load(store: Warehouse, ledger: Path) -> int:
    try:
        return store.load_ledger_file(ledger)
    except LedgerFileError as err:
        raise InvalidLedgerError(str(err)) from err
