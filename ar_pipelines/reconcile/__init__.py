"""Reconciliation: one practice's statements computed locally (the dbt mart
``statements``) against the statements AR holds, to the cent.

::

    from ar_pipelines.reconcile import reconcile, write_report

    result = reconcile("PR-1", local_statements, ar.statements.list())
    result.clean, result.counts(), result.summary(), result.mismatches(limit=20)
    write_report(result, Path("reports"))

    # a practice in the warehouse: AR read back (the customers the push touched, or
    # with full=True every statement), then reconciled into its report
    read_back_statements(client, warehouse, practice_id="PR-1")
    done = reconcile_practice(warehouse, practice_id="PR-1",
                              local_schema="statements_pr_1", reports_dir=Path("reports"))

Every statement number (``external_invoice_id``) is one row, with one status:
``matched`` (amount and paid amount equal to the cent), ``amount_mismatch``,
``paid_mismatch`` (same amount, different payments applied), ``missing_in_ar``
(local only) or ``unexpected_in_ar`` (AR only). An AR statement at amount = paid = 0
with no local counterpart is ``matched`` and counted as ``zeroed_in_ar``: AR keeps an
enrolled statement whose month stopped qualifying that way
(``docs/contract.md#a-month-that-stops-qualifying``).

The report, written by ``write_report`` into a directory:

- ``reconciliation_{practice_id}.csv``: every statement, with both sides' amount,
  paid amount and outstanding, the differences (AR - local, a missing side counted
  as 0), the status, and AR's statement id, status and enrollment status; money as
  plain two-decimal text, dates ISO, a missing side empty.
- ``reconciliation_{practice_id}.html``: one self-contained page (nothing fetched,
  opens offline) with a headline (clean or not), the count per status and what each
  means, billed, paid and outstanding totals of each side and their difference, a
  chart of the three by month (local and AR bars side by side) with the numbers
  under it, and a table of every statement that differs, largest difference first
  (the first 1,000; the CSV has them all).

Totals are ``Decimal`` sums of the same rows in the CSV, the page and ``summary()``.

Why each statement differs (``why.explain``; ``reconcile_practice`` does it when the
reconciliation is not clean and it is given ``open_client``): the differing ledger
entries and allocations, local against AR, one row per entry and field, in
``reconciliation_{practice_id}_causes.csv`` and in the page's "Why" column and
drill-downs (``docs/reconciliation-causes.md``).
"""

from ar_pipelines.reconcile.compare import reconcile
from ar_pipelines.reconcile.coverage import Coverage, LastFull
from ar_pipelines.reconcile.inputs import ReconcileInputError, ar_statements_frame
from ar_pipelines.reconcile.practice import (
    Listing,
    PracticeReconciliation,
    ReadBack,
    read_back_statements,
    reconcile_practice,
)
from ar_pipelines.reconcile.report import ReportFiles, write_report
from ar_pipelines.reconcile.result import Reconciliation, Status
from ar_pipelines.reconcile.why import Cause, Causes, explain

__all__ = [
    "Cause",
    "Causes",
    "Coverage",
    "LastFull",
    "Listing",
    "PracticeReconciliation",
    "ReadBack",
    "ReconcileInputError",
    "Reconciliation",
    "ReportFiles",
    "Status",
    "ar_statements_frame",
    "explain",
    "read_back_statements",
    "reconcile",
    "reconcile_practice",
    "write_report",
]
