"""A practice's reconciliation against the warehouse: AR's statements read back into it
(``read_back_statements``), and reconciled against the local ones dbt built
(``reconcile_practice``) into the finance report. No Dagster here: the assets report
what these return.

Each night verifies what that night changed; a full read-back verifies everything. A
nightly read-back reads the statements of the customers the push touched (noted in
``push.touched_customers`` before their entries were sent: a payment moves money
across every statement of its customer, so each of them can change) and replaces
those customers' rows in the practice's copy of AR's statements. The first
read-back, and one asked for in full (the weekly job), reads every statement and
replaces the whole copy. The reconciliation then compares the local statements with
the copy, so a statement changed in AR behind the pipeline's back, for a customer
the push did not touch, is seen by the next full read-back.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd

from ar_pipelines.client import ARClient
from ar_pipelines.client.errors import ApiError
from ar_pipelines.clock import naive_utc, utc_now
from ar_pipelines.reconcile import stored
from ar_pipelines.reconcile.compare import reconcile
from ar_pipelines.reconcile.coverage import Coverage, LastFull
from ar_pipelines.reconcile.finance import (
    AGING_COLUMNS_READ,
    aging,
    source_tie_out,
    statement_rows,
)
from ar_pipelines.reconcile.inputs import KEY, customers_in_numbers
from ar_pipelines.reconcile.readback import (
    listing_requests,
    month_windows,
    read_customers_statements,
    read_statements,
)
from ar_pipelines.reconcile.report import ReportFiles, report_name, write_report
from ar_pipelines.reconcile.result import ROW_COLUMNS, Reconciliation
from ar_pipelines.reconcile.why import DEFAULT_LIMIT, Causes, explain
from ar_pipelines.warehouse import (
    AR_STATEMENTS,
    LEDGER_ENTRIES,
    QUARANTINE,
    TOUCHED_CUSTOMERS,
    Warehouse,
)

CUSTOMER = "customer_external_id"
# The practice's cursors (``push.cursors``): when AR's statements were last read back,
# and when they were last read back in full.
READ_BACK = "ar_statements_read"
FULL_READ_BACK = "ar_statements_read_in_full"


class Listing(StrEnum):
    """How AR's statements were listed."""

    BY_MONTH = "by month"
    BY_CUSTOMER = "by customer"
    NONE = "none"  # nothing was touched: nothing to read


@dataclass(frozen=True)
class ReadBack:
    """A read-back: every statement (``full``) or the touched customers' ones; the
    listing used; the customers and statements read."""

    full: bool
    listing: Listing
    customers: int
    statements: int

    def metadata(self) -> dict[str, Any]:
        """JSON-safe, for run metadata."""
        return {
            "scope": "every statement" if self.full else "the customers the push touched",
            "listing": self.listing.value,
            "customers": self.customers,
            "statements": self.statements,
        }


@dataclass(frozen=True)
class PracticeReconciliation:
    """The reconciliation of one practice, what it verified, the report files, and the
    causes of its mismatches (when it was not clean and AR could be asked; else, when
    asking failed, ``causes_error`` says how)."""

    result: Reconciliation
    files: ReportFiles
    coverage: Coverage
    causes: Causes | None = None
    causes_error: str | None = None


def read_back_statements(
    client: ARClient,
    warehouse: Warehouse,
    *,
    practice_id: str,
    concurrency: int = 4,
    full: bool = False,
) -> ReadBack:
    """Read AR's statements back into the practice's copy: those of the customers
    touched since the last read-back, or (``full``, or no full read-back yet) every one."""
    started = utc_now()
    touched = _touched(warehouse, practice_id)
    months = _ledger_months(warehouse, practice_id)
    if full or warehouse.get_cursor(practice_id, FULL_READ_BACK) is None:
        frame = _stamped(read_statements(client, months, concurrency=concurrency), started)
        warehouse.replace(
            AR_STATEMENTS, frame.assign(practice_id=practice_id), practice_id=practice_id
        )
        warehouse.set_cursor(practice_id, FULL_READ_BACK, started)
        read = ReadBack(True, Listing.BY_MONTH, int(frame[CUSTOMER].nunique()), len(frame))
    elif not touched:
        read = ReadBack(False, Listing.NONE, 0, 0)
    else:
        held = warehouse.count(AR_STATEMENTS, practice_id=practice_id)
        spanned = max(0, len(month_windows(months)) - 2)  # less the two open windows
        by_customer, by_month = listing_requests(customers=len(touched), held=held, months=spanned)
        if by_customer <= by_month:
            listing = Listing.BY_CUSTOMER
            frame = read_customers_statements(client, touched, concurrency=concurrency)
        else:
            listing = Listing.BY_MONTH
            frame = read_statements(client, months, concurrency=concurrency)
        frame = _stamped(frame, started)
        frame = frame[frame[CUSTOMER].isin(touched)]
        # The touched customers' rows go, and what AR holds for them now comes in.
        warehouse.delete(AR_STATEMENTS, practice_id=practice_id, column=CUSTOMER, values=touched)
        warehouse.upsert(AR_STATEMENTS, frame.assign(practice_id=practice_id))
        read = ReadBack(False, listing, len(touched), len(frame))
    # The touched customers stay noted until a reconciliation has verified them.
    warehouse.set_cursor(practice_id, READ_BACK, started)
    return read


def reconcile_practice(
    warehouse: Warehouse,
    *,
    practice_id: str,
    local_schema: str,
    reports_dir: Path,
    open_client: Callable[[], AbstractContextManager[ARClient]] | None = None,
    cause_limit: int = DEFAULT_LIMIT,
) -> PracticeReconciliation:
    """The practice's local statements (the ``statements`` model dbt built in
    ``local_schema``) against its copy of AR's, merged into its stored reconciliation,
    with the report written into ``reports_dir``.

    After a full read-back (or when nothing is stored yet) every statement is compared;
    after a nightly one, the statements of the customers it read back, whose rows then
    replace theirs in the stored reconciliation. A full reconciliation is remembered
    beside the report as the last full one.

    When the reconciliation is not clean and ``open_client`` is given, a client is
    opened and the causes of the first ``cause_limit`` mismatches (largest first) are
    looked for (``why.explain``) and written beside the report. An error of AR's API
    while doing so leaves the reconciliation and its report as they are, without
    causes, and is told in ``causes_error``.

    The page opens with the source's tie-out and the aging of outstanding
    (``finance``); the finance workbook is written with a full reconciliation and with
    one that is not clean."""
    coverage = _coverage(warehouse, practice_id, reports_dir)
    read_at = warehouse.get_cursor(practice_id, READ_BACK)
    verified = _touched(warehouse, practice_id, until=read_at)
    if coverage.full or stored.held(warehouse, practice_id) == 0:
        local = warehouse.read_model(local_schema, "statements")
        ar = warehouse.read(AR_STATEMENTS, practice_id=practice_id)
        stored.keep(warehouse, reconcile(practice_id, local, ar))
    elif verified:
        local = stored.local_rows(warehouse, local_schema, verified)
        ar = stored.ar_rows(warehouse, practice_id, verified)
        stored.keep(warehouse, reconcile(practice_id, local, ar), customers=verified)
    warehouse.delete(TOUCHED_CUSTOMERS, practice_id=practice_id, column=CUSTOMER, values=verified)
    result = stored.stored_result(warehouse, practice_id)
    if coverage.full:
        last = LastFull(at=read_at or utc_now(), clean=result.clean, counts=result.counts())
        last.save(last_full_path(reports_dir, practice_id))
        coverage = replace(coverage, last_full=last)
    causes, causes_error = None, None
    if not result.clean and open_client is not None:
        try:
            with open_client() as client:
                causes = explain(
                    client,
                    warehouse,
                    practice_id=practice_id,
                    local_schema=local_schema,
                    differing=result.differing(),
                    limit=cause_limit,
                )
        except ApiError as error:
            # The reconciliation stands without its causes: AR could not be asked why.
            causes_error = f"{type(error).__name__}: {error}".splitlines()[0]
    # The finance workbook holds every statement: written when finance needs it (a
    # reconciliation that is not clean) and with each full one, not every clean night.
    with_workbook = coverage.full or not result.clean
    statements = statement_rows(
        warehouse, practice_id, ROW_COLUMNS if with_workbook else AGING_COLUMNS_READ
    )
    files = write_report(
        result,
        reports_dir,
        coverage=coverage,
        write_csv=lambda path: stored.write_csv(warehouse, practice_id, path),
        causes=causes,
        tie_out=source_tie_out(warehouse, practice_id),
        aging=aging(statements, utc_now().date()),
        quarantine=warehouse.read(QUARANTINE, practice_id=practice_id) if with_workbook else None,
        statements=statements if with_workbook else None,
    )
    return PracticeReconciliation(result, files, coverage, causes, causes_error)


def last_full_path(reports_dir: Path, practice_id: str) -> Path:
    """Where the practice's last full reconciliation is remembered."""
    return reports_dir / f"reconciliation_{report_name(practice_id)}.last_full.json"


def _coverage(warehouse: Warehouse, practice_id: str, reports_dir: Path) -> Coverage:
    """What the last read-back verified: the statements it stamped, of the customers it
    read (those touched before it), or every one."""
    read_at = warehouse.get_cursor(practice_id, READ_BACK)
    full = read_at is not None and read_at == warehouse.get_cursor(practice_id, FULL_READ_BACK)
    statements = customers = 0
    if read_at is not None:
        found = warehouse.query(
            f"select count(*) as statements, count(distinct {CUSTOMER}) as customers"  # noqa: S608
            f" from {warehouse.relation(AR_STATEMENTS)} where practice_id = {warehouse.placeholder}"
            f" and read_at = {warehouse.placeholder}",
            [practice_id, naive_utc(read_at)],
        )
        statements = int(found["statements"].iloc[0])
        customers = int(found["customers"].iloc[0])
        if not full:
            customers = len(_touched(warehouse, practice_id, until=read_at))
    return Coverage(
        full=full,
        statements=statements,
        customers=customers,
        held=warehouse.count(AR_STATEMENTS, practice_id=practice_id),
        last_full=LastFull.load(last_full_path(reports_dir, practice_id)),
    )


def _stamped(frame: pd.DataFrame, read_at: datetime) -> pd.DataFrame:
    """The statements with their customer (from the statement number where the listing
    did not say) and the time of the read."""
    if CUSTOMER not in frame:
        frame = frame.assign(**{CUSTOMER: customers_in_numbers(frame[KEY].to_numpy(dtype=object))})
    return frame.assign(read_at=read_at)


def _touched(warehouse: Warehouse, practice_id: str, *, until: datetime | None = None) -> list[str]:
    """The customers touched since their statements were last verified (those touched
    by ``until``, when given: a customer touched after the last read-back waits for the
    next one)."""
    found = warehouse.read(TOUCHED_CUSTOMERS, practice_id=practice_id)
    if until is not None:
        found = found[pd.to_datetime(found["touched_at"]) <= pd.Timestamp(naive_utc(until))]
    elif found.empty:
        return []
    return sorted(found[CUSTOMER].dropna().astype(str).unique().tolist())


def _ledger_months(warehouse: Warehouse, practice_id: str) -> list[date]:
    """The first and last month of the practice's ledger: where its statements are."""
    bounds = warehouse.bounds(LEDGER_ENTRIES, practice_id=practice_id, column="transaction_date")
    return [d for d in bounds if isinstance(d, date)]
