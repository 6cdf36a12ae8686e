"""A practice's raw rows, from its source into the warehouse.

Patients and guarantors are read whole each run (``extract_patients``). Transactions are
read incrementally from the practice's cursor (``extract_transactions``), and the rows
are stored under the project's id for the practice, whatever Sikka's ``practice_id``
inside the office is.

The cursor a read returns is kept as *pending* (``PENDING_CURSOR``): normalization
promotes it to ``CURSOR`` once the rows are normalized and stored, so a run that fails
in between reads the same rows again. A read that fails part-way (Sikka started
loading the office, a quota ran out) leaves no increment behind: nothing of it is
normalized, voided or moves a cursor. No Dagster here: the assets report the outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from ar_pipelines.clock import utc_now
from ar_pipelines.sources.base import Source, SourceStatus
from ar_pipelines.sources.frames import Extract, as_practice
from ar_pipelines.sources.schema import TRANSACTION_COLUMNS
from ar_pipelines.sync.practice import SourcedPractice
from ar_pipelines.warehouse import RAW_GUARANTORS, RAW_PATIENTS, RAW_TRANSACTIONS, Warehouse

# The practice's cursors of the transaction increment (``push.cursors``).
CURSOR = "transactions"
PENDING_CURSOR = "transactions_pending"
# Set when the increment is every row the source holds (a first run or a full refresh),
# so normalization knows the increment itself says which rows still exist.
WHOLE_READ = "transactions_whole_read"


@dataclass(frozen=True)
class PatientsExtract:
    """How many patients and guarantors the run stored."""

    patients: int
    guarantors: int


@dataclass(frozen=True)
class TransactionsExtract:
    """What a transaction read stored: its rows (deletions among them), the window it
    read from (``since``; ``None`` for every row), the cursor it leaves pending, and
    what the source said of its own freshness."""

    rows: int
    deletions: int
    since: datetime | None
    cursor: datetime | None
    status: SourceStatus

    @property
    def whole(self) -> bool:
        """Whether the read was every row the source holds."""
        return self.since is None


def extract_patients(
    store: Warehouse, source: Source, practice: SourcedPractice
) -> PatientsExtract:
    """Replace the practice's raw patients and guarantors with what the source has now."""
    practice_id, sikka_practice_id = practice.id, practice.sikka_practice_id
    extracted_at = utc_now()
    patients = source.patients(practice_id=sikka_practice_id)
    guarantors = source.guarantors(practice_id=sikka_practice_id)
    stored = {}
    for table, rows in ((RAW_PATIENTS, patients), (RAW_GUARANTORS, guarantors)):
        rows = as_practice(rows, practice_id).assign(extracted_at=extracted_at)
        stored[table] = store.replace(table, rows, practice_id=practice_id)
    return PatientsExtract(patients=stored[RAW_PATIENTS], guarantors=stored[RAW_GUARANTORS])


def extract_transactions(
    store: Warehouse,
    source: Source,
    practice: SourcedPractice,
    *,
    full_refresh: bool = False,
) -> TransactionsExtract:
    """Replace the practice's increment with the transactions changed since its cursor
    (every one on a first run or a ``full_refresh``), keep the read's cursor pending,
    and note whether the increment is the whole source."""
    practice_id, sikka_practice_id = practice.id, practice.sikka_practice_id
    since = None if full_refresh else store.get_cursor(practice_id, CURSOR)
    extracted_at = utc_now()
    status = source.status()
    extract = source.transactions(practice_id=sikka_practice_id, since=since)
    deletions = _store_increment(store, practice_id, extract, extracted_at)
    if extract.cursor is not None:
        store.set_cursor(practice_id, PENDING_CURSOR, extract.cursor)
    if since is None:
        store.set_cursor(practice_id, WHOLE_READ, extracted_at)
    else:
        store.clear_cursor(practice_id, WHOLE_READ)
    return TransactionsExtract(
        rows=extract.rows, deletions=deletions, since=since, cursor=extract.cursor, status=status
    )


def _store_increment(store: Warehouse, practice_id: str, extract: Extract, at: datetime) -> int:
    """Store the increment a chunk at a time (the first chunk replaces the last increment),
    and return how many of its rows are deletions. A read that fails part-way leaves the
    practice's increment empty, so nothing of it can be normalized."""
    empty = True
    deletions = 0
    try:
        for chunk in extract:
            rows = as_practice(chunk, practice_id).assign(extracted_at=at)
            deletions += int(rows["is_deleted"].notna().sum())
            if empty:
                store.replace(RAW_TRANSACTIONS, rows, practice_id=practice_id)
                empty = False
            else:
                store.append(RAW_TRANSACTIONS, rows)
    except BaseException:
        if not empty:
            _clear_increment(store, practice_id)
        raise
    if empty:
        _clear_increment(store, practice_id)
    return deletions


def _clear_increment(store: Warehouse, practice_id: str) -> None:
    nothing = pd.DataFrame(columns=list(TRANSACTION_COLUMNS))
    store.replace(RAW_TRANSACTIONS, nothing, practice_id=practice_id)
