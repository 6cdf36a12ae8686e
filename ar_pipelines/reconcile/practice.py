"""A practice's reconciliation against the warehouse: AR's statements read back into it
(``read_back_statements``), and reconciled against the local ones dbt built
(``reconcile_practice``) into the finance report. No Dagster here: the assets report
what these return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ar_pipelines.client import ARClient
from ar_pipelines.clock import utc_now
from ar_pipelines.reconcile.compare import reconcile
from ar_pipelines.reconcile.readback import read_statements
from ar_pipelines.reconcile.report import ReportFiles, write_report
from ar_pipelines.reconcile.result import Reconciliation
from ar_pipelines.warehouse import AR_STATEMENTS, LEDGER_ENTRIES, Warehouse


@dataclass(frozen=True)
class PracticeReconciliation:
    """The reconciliation of one practice and the report files written for it."""

    result: Reconciliation
    files: ReportFiles


def read_back_statements(
    client: ARClient, warehouse: Warehouse, *, practice_id: str, concurrency: int = 4
) -> int:
    """Replace the practice's copy of AR's statements with every statement AR holds for
    it now, read a month at a time around its ledger's months; returns how many."""
    months = _ledger_months(warehouse, practice_id)
    frame = read_statements(client, months, concurrency=concurrency)
    frame = frame.assign(practice_id=practice_id, read_at=utc_now())
    return warehouse.replace(AR_STATEMENTS, frame, practice_id=practice_id)


def reconcile_practice(
    warehouse: Warehouse, *, practice_id: str, local_schema: str, reports_dir: Path
) -> PracticeReconciliation:
    """The practice's local statements (the ``statements`` model dbt built in
    ``local_schema``) against its stored copy of AR's, with the report written into
    ``reports_dir``."""
    local = warehouse.read_model(local_schema, "statements")
    ar = warehouse.read(AR_STATEMENTS, practice_id=practice_id)
    result = reconcile(practice_id, local, ar)
    return PracticeReconciliation(result, write_report(result, reports_dir))


def _ledger_months(warehouse: Warehouse, practice_id: str) -> list[date]:
    """The first and last month of the practice's ledger: where its statements are."""
    bounds = warehouse.bounds(LEDGER_ENTRIES, practice_id=practice_id, column="transaction_date")
    return [d for d in bounds if isinstance(d, date)]
