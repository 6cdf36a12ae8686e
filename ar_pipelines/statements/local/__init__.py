"""Statements computed locally by the dbt project, on an embedded DuckDB or on Postgres.

::

    from ar_pipelines.statements.local import compute_local_statements

    run = compute_local_statements(Path("ledger_entries.csv"), Path("out"))
    run.files["statements"]   # out/statements.csv
"""

from ar_pipelines.statements.local.errors import (
    DbtRunError,
    InvalidLedgerError,
    LocalStatementsError,
    WarehouseError,
)
from ar_pipelines.statements.local.runner import StatementsRun, compute_local_statements

__all__ = [
    "DbtRunError",
    "InvalidLedgerError",
    "LocalStatementsError",
    "StatementsRun",
    "WarehouseError",
    "compute_local_statements",
]
