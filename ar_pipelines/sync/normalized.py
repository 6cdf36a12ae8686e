"""A practice's normalization run: customers, ledger entries and the quarantine, from the
raw rows in the warehouse.

Customers are made from every patient each run (transactions need the whole directory
of patients), but written only where they change: ``normalized.customer_sources`` keeps,
per customer, a hash of its source row and of its values, and a run writes the customers
whose hash differs or who gained entries in its increment, and deletes those no longer
made; the table ends as a rewrite of every customer would leave it. The verdicts on
emails and phones are kept in ``normalized.contact_book``, so a run parses only the texts
it has not met. Ledger entries of this run's increment are upserted by ``external_id``,
with ``loaded_at`` set to now: the push sends what was loaded since its last complete
push.

A row read again (an edit reloads it) updates the entry it made. Rows the source holds
under one ``transaction_sr_no`` at the same time are duplicates of each other
(``normalize.present``): where each has a row key, the row whose key comes first is the
record of the number, in every run, whichever of them an increment reads; without row
keys, a row of a number the source also holds in a row loaded before the increment is a
duplicate of that row, as it would be in a full run. A duplicate never replaces the
record's entry. Deletions the source reports (``practice_events``, a loader's deleted
flag) arrive in the increment and become voids (amount 0).

Which rows hold a number is told by a scan of the source's keys, or, on a night, by the
index of source rows (``normalized.transaction_rows``, ``normalize.row_index``): the
index's rows of the increment's numbers that the increment did not read again, with the
increment's own. The scan runs after a whole read (the increment itself), every run on a
source that reports no deletions, on a run that asks for the full deletion scan (the
weekly run's ``full_deletion_scan``), when the index is not whole (none written yet, or
the last run could not follow the source), and when the index cannot settle the
increment as the scan would (a deletion that names no row, of a number several rows
hold; a number with a row without a key that the increment did not read): the run then
scans rather than guesses. A scan writes the index afresh; a night settled by it changes
the rows its increment read. A row that vanished without a trace is found only by a
scan, which compares the pushed entries with the source's ids and voids the rest; until
then the index still counts it. An API whose deletions come as events is never scanned
at night (its scan reads every transaction): its runs settle numbers within the
increment, and leave the index out of date.

The quarantine keeps, per source row, its latest verdict: a row read again replaces its
earlier entry, and leaves the quarantine once it normalizes. A keyed row's verdict is
its own (``transactions#row:<key>``); reading a number also replaces the verdicts of its
other rows, unless the source holds the number in several keyed rows now, each of which
then keeps its verdict until it is read again.

The extract keeps the cursor its read returned as pending (``PENDING_CURSOR``); a run
promotes it once the rows are normalized and stored, so a run that fails in between
reads the same rows again. No Dagster here: the assets report the ``NormalizeOutcome``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from ar_pipelines.clock import utc_now
from ar_pipelines.normalize import Normalizer, PracticeSettings
from ar_pipelines.normalize.contacts import BOOK_COLUMNS, ContactBook
from ar_pipelines.normalize.customers import CUSTOMER_COLUMNS
from ar_pipelines.normalize.present import (
    KEY_COLUMNS,
    ROW_KEY,
    SourceKeys,
    earlier_external_ids,
    key_ids,
    row_key,
    source_keys,
)
from ar_pipelines.normalize.row_index import (
    INDEX_COLUMNS,
    IncrementKeys,
    Settled,
    index_rows,
    settle,
)
from ar_pipelines.normalize.text import ObjectArray
from ar_pipelines.sources.base import Source
from ar_pipelines.sources.frames import as_practice
from ar_pipelines.sources.schema import GUARANTOR_COLUMNS, PATIENT_COLUMNS, TRANSACTION_COLUMNS
from ar_pipelines.sync.extract import CURSOR, PENDING_CURSOR, WHOLE_READ
from ar_pipelines.sync.practice import SourcedPractice
from ar_pipelines.sync.voids import voids_for_missing
from ar_pipelines.warehouse import (
    CONTACT_BOOK,
    CUSTOMER_SOURCES,
    CUSTOMERS,
    LEDGER_ENTRIES,
    QUARANTINE,
    RAW_GUARANTORS,
    RAW_PATIENTS,
    RAW_TRANSACTIONS,
    TRANSACTION_ROWS,
    Warehouse,
)

_NO_VOIDS = pd.DataFrame()
# Set while ``normalized.transaction_rows`` follows the source's rows (``_SourceRows``).
ROWS_INDEXED = "transaction_rows_indexed"
ROW_SOURCE_KEY = "transactions#row:"  # a keyed transaction row's identity in the quarantine


@dataclass(frozen=True)
class CustomerCounts:
    """Customers made from the patients read, and the contact texts met on the way."""

    customers: int
    # Of them, those written this run: new, changed, or with entries in the increment.
    customers_rebuilt: int
    patients_read: int
    contacts_parsed: int
    contacts_known: int


@dataclass(frozen=True)
class LedgerCounts:
    """Transactions read and what they became."""

    transactions_read: int
    ledger_entries: int
    transactions_quarantined: int
    voids_of_deleted_rows: int
    # Deletions of rows no run stored: nothing in AR to void.
    deletions_of_rows_never_stored: int
    voids_of_disappeared_rows: int


@dataclass(frozen=True)
class NormalizeOutcome:
    """What a run did: customers, ledger entries and the quarantine, counted."""

    customer_counts: CustomerCounts
    ledger_counts: LedgerCounts
    patients_quarantined: int
    # This run's quarantined rows by reason (a patient's as ``patients:<reason>``).
    quarantined_by_reason: dict[str, int]
    # The practice's open quarantine after the run, by reason.
    open_in_quarantine: int
    open_by_reason: dict[str, int]

    @property
    def rows_read(self) -> int:
        """Transactions and patients read."""
        return self.ledger_counts.transactions_read + self.customer_counts.patients_read

    @property
    def quarantined_this_run(self) -> int:
        return self.ledger_counts.transactions_quarantined + self.patients_quarantined

    @property
    def quarantine_share(self) -> float:
        """The share of the rows read that this run quarantined (0 when none was read)."""
        rows = self.rows_read
        return self.quarantined_this_run / rows if rows else 0.0


def normalize_practice(
    store: Warehouse,
    source: Source,
    practice: SourcedPractice,
    *,
    settings: PracticeSettings,
    full_deletion_scan: bool = False,
) -> NormalizeOutcome:
    """Normalize the ``practice``'s raw rows by its ``settings``: store customers, ledger
    entries, voids, the quarantine and the contact book, and promote the pending cursor.
    ``source`` is asked for payment types and, where the increment and the index of
    stored rows cannot tell, the keys it holds: every run when the source reports no
    deletions, else only when ``full_deletion_scan`` asks for it (the weekly run)."""
    practice_id, sikka_practice_id = practice.id, practice.sikka_practice_id
    loaded_at = utc_now()
    rows = _source_rows(
        store, source, practice_id, sikka_practice_id, full_deletion_scan=full_deletion_scan
    )
    keys = rows.keys
    earlier = rows.earlier
    verdicts = _Verdicts(store, practice_id)
    contacts = ContactBook.of(
        store.read(CONTACT_BOOK, practice_id=practice_id, columns=BOOK_COLUMNS)
    )
    payment_types = source.payment_types(practice_id=sikka_practice_id)
    normalizer = Normalizer(
        settings=settings,
        payment_types=as_practice(payment_types, practice_id),
        patients=store.read(RAW_PATIENTS, practice_id=practice_id, columns=PATIENT_COLUMNS),
        guarantors=store.read(RAW_GUARANTORS, practice_id=practice_id, columns=GUARANTOR_COLUMNS),
        earlier_external_ids=earlier,
        record_keys=None if keys is None else keys.records,
        contacts=contacts,
    )
    customers = normalizer.customers.assign(practice_id=practice_id)
    gained: set[str] = set()
    quarantined: list[pd.DataFrame] = [_with_source_keys(normalizer.patient_quarantine)]
    never_stored = 0
    for chunk in store.read_chunks(
        RAW_TRANSACTIONS, practice_id=practice_id, columns=TRANSACTION_COLUMNS
    ):
        first_row_number = normalizer.counts.rows + 1
        result = normalizer.transactions(chunk)
        entries, unknown = _without_voids_of_unknown_rows(
            store, practice_id, chunk, result.ledger_entries
        )
        never_stored += unknown
        gained.update(entries["customer_external_id"].dropna())
        store.upsert(LEDGER_ENTRIES, entries.assign(practice_id=practice_id, loaded_at=loaded_at))
        quarantined.append(_transaction_verdicts(chunk, result.quarantine, first_row_number))
        verdicts.read(chunk)
    voids = (
        voids_for_missing(store, practice_id=practice_id, present_external_ids=keys.present)
        if keys is not None and rows.complete
        else _NO_VOIDS
    )
    if len(voids):
        store.upsert(LEDGER_ENTRIES, voids.assign(practice_id=practice_id, loaded_at=loaded_at))
    rebuilt = _store_customers(store, practice_id, customers, normalizer.customer_sources, gained)
    held = {} if keys is None else keys.held
    quarantine = _store_quarantine(
        store, practice_id, quarantined, verdicts.replaced(held), loaded_at
    )
    _store_contacts(store, practice_id, contacts)
    rows.store_index(store, practice_id)
    pending = store.get_cursor(practice_id, PENDING_CURSOR)
    if pending is not None:
        store.set_cursor(practice_id, CURSOR, pending)
    counts = normalizer.counts
    open_by_reason = quarantine["reason"].value_counts().to_dict() if len(quarantine) else {}
    return NormalizeOutcome(
        customer_counts=CustomerCounts(
            customers=len(customers),
            customers_rebuilt=rebuilt,
            patients_read=normalizer.patients_in,
            contacts_parsed=contacts.parsed,
            contacts_known=contacts.known,
        ),
        ledger_counts=LedgerCounts(
            transactions_read=counts.rows,
            ledger_entries=counts.ledger_entries,
            transactions_quarantined=sum(counts.quarantined.values()),
            voids_of_deleted_rows=counts.deleted - never_stored,
            deletions_of_rows_never_stored=never_stored,
            voids_of_disappeared_rows=len(voids),
        ),
        patients_quarantined=len(normalizer.patient_quarantine),
        quarantined_by_reason=dict(counts.quarantined) | _reasons(normalizer.patient_quarantine),
        open_in_quarantine=len(quarantine),
        open_by_reason={str(k): int(v) for k, v in open_by_reason.items()},
    )


def was_whole_read(store: Warehouse, practice_id: str) -> bool:
    """Whether the practice's stored increment is every row its source held."""
    return store.get_cursor(practice_id, WHOLE_READ) is not None


def _without_voids_of_unknown_rows(
    store: Warehouse, practice_id: str, chunk: pd.DataFrame, entries: pd.DataFrame
) -> tuple[pd.DataFrame, int]:
    """``entries`` less the voids of deleted rows the warehouse never held: a deletion
    event of a row no run stored (deleted before the first run, or only ever
    quarantined) has nothing in AR to void, and sending one would add an empty entry."""
    deleted = chunk.loc[chunk["is_deleted"].notna(), "transaction_sr_no"].dropna()
    if deleted.empty:
        return entries, 0
    ids = sorted({f"{practice_id}-{number.strip()}" for number in deleted})
    known = store.existing(
        LEDGER_ENTRIES, practice_id=practice_id, column="external_id", values=ids
    )
    unknown = set(ids) - known
    dropped = entries["external_id"].isin(unknown)
    return entries[~dropped], int(dropped.sum())


def _read_in_earlier_runs(store: Warehouse, practice_id: str, keys: SourceKeys) -> set[str]:
    """Ids the source holds more often than this run's increment does, among those whose
    rows have no row keys to tell them apart (the others are settled by key): their other
    rows were loaded before the increment, so the rows read now are later occurrences.
    When the increment holds as many rows as the source (a full read), none was read
    before."""
    repeated = keys.unkeyed_repeats
    if not repeated:
        return set()
    if store.count(RAW_TRANSACTIONS, practice_id=practice_id) == keys.rows:
        return set()
    increment = store.read_chunks(
        RAW_TRANSACTIONS, practice_id=practice_id, columns=list(KEY_COLUMNS)
    )
    return earlier_external_ids(repeated, increment)


@dataclass
class _SourceRows:
    """What a run knows of the rows the source holds now: ``keys`` settles the numbers
    several rows hold (``None``: nothing beyond the increment), ``complete`` when it names
    every live row (so entries it does not name are voided), ``earlier`` the ids whose
    first row was loaded before the increment. ``store_index`` then brings the index of
    source rows up to date: marked whole after a scan wrote it afresh, changed by what it
    settled, or marked out of date when this run did not follow the source's rows."""

    keys: SourceKeys | None
    complete: bool
    earlier: set[str]
    settled: Settled | None = None
    rescanned: bool = False
    follows: bool = True

    def store_index(self, store: Warehouse, practice_id: str) -> None:
        if self.rescanned:
            store.set_cursor(practice_id, ROWS_INDEXED, utc_now())
        elif self.settled is not None:
            settled = self.settled
            store.delete(
                TRANSACTION_ROWS,
                practice_id=practice_id,
                column="row_key",
                values=settled.keys_gone,
            )
            store.delete(
                TRANSACTION_ROWS,
                practice_id=practice_id,
                column="external_id",
                values=settled.ids_gone,
            )
            if len(settled.added):
                store.append(TRANSACTION_ROWS, settled.added.assign(practice_id=practice_id))
        elif not self.follows:
            store.clear_cursor(practice_id, ROWS_INDEXED)


def _source_rows(
    store: Warehouse,
    source: Source,
    practice_id: str,
    sikka_practice_id: str,
    *,
    full_deletion_scan: bool,
) -> _SourceRows:
    """The rows the source holds now, as far as this run needs them.

    After a whole read the increment itself holds every live row. Otherwise the source's
    keys are scanned when it reports no deletions (a database scans its key columns
    cheaply), when the run asks for the full deletion scan, or when the index of stored
    rows cannot settle the increment (``normalize.row_index``); a source that reports its
    deletions is otherwise settled by that index alone. An API whose deletions come as
    events is scanned only when asked: its scan reads every transaction."""
    if was_whole_read(store, practice_id):
        columns = [*KEY_COLUMNS, ROW_KEY]
        chunks = store.read_chunks(
            RAW_TRANSACTIONS, practice_id=practice_id, columns=[*columns, "is_deleted"]
        )
        live = (chunk.loc[chunk["is_deleted"].isna(), columns] for chunk in chunks)
        return _scanned(store, practice_id, live, indexed=source.reports_deletions)
    nightly = source.reports_deletions and not full_deletion_scan
    if nightly and store.get_cursor(practice_id, ROWS_INDEXED) is not None:
        settled = _settled_by_index(store, practice_id)
        if settled is not None:
            return _SourceRows(settled.keys, complete=False, earlier=set(), settled=settled)
    if nightly and not source.scans_keys_cheaply:
        return _SourceRows(None, complete=False, earlier=set(), follows=False)
    scan = source.transaction_keys(practice_id=sikka_practice_id)
    return _scanned(
        store,
        practice_id,
        (as_practice(chunk, practice_id) for chunk in scan),
        indexed=source.reports_deletions,
    )


def _scanned(
    store: Warehouse, practice_id: str, scan: Iterable[pd.DataFrame], *, indexed: bool
) -> _SourceRows:
    """Every live row's keys (``scan``): what settles this run. When the index of source
    rows is ``indexed`` (its source reports deletions: nightly runs settle by it) the scan
    writes it afresh on the way, a frame at a time."""
    if not indexed:
        keys = source_keys(scan)
        earlier = _read_in_earlier_runs(store, practice_id, keys)
        return _SourceRows(keys, complete=True, earlier=earlier, follows=False)
    store.clear_cursor(practice_id, ROWS_INDEXED)
    written = False

    def noted(frames: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        nonlocal written
        for frame in frames:
            rows = index_rows(frame).assign(practice_id=practice_id)
            if written:
                store.append(TRANSACTION_ROWS, rows)
            else:
                store.replace(TRANSACTION_ROWS, rows, practice_id=practice_id)
                written = True
            yield frame

    keys = source_keys(noted(scan))
    if not written:
        store.replace(
            TRANSACTION_ROWS, pd.DataFrame(columns=list(INDEX_COLUMNS)), practice_id=practice_id
        )
    earlier = _read_in_earlier_runs(store, practice_id, keys)
    return _SourceRows(keys, complete=True, earlier=earlier, rescanned=True)


def _settled_by_index(store: Warehouse, practice_id: str) -> Settled | None:
    """The increment settled by the index's rows of its numbers and row keys only."""
    increment = IncrementKeys.of(
        store.read_chunks(
            RAW_TRANSACTIONS,
            practice_id=practice_id,
            columns=[*KEY_COLUMNS, ROW_KEY, "is_deleted"],
        )
    )
    columns = list(INDEX_COLUMNS)
    numbers = increment.numbers
    of_numbers = store.read_in(
        TRANSACTION_ROWS,
        practice_id=practice_id,
        column="external_id",
        values=numbers,
        columns=columns,
    )
    of_keys = store.read_in(
        TRANSACTION_ROWS,
        practice_id=practice_id,
        column="row_key",
        values=increment.row_keys,
        columns=columns,
    )
    # Rows of the increment's numbers are read above; by their keys come only the rows
    # that held another number. Rows without keys may repeat exactly: each is a row.
    moved = of_keys[~of_keys["external_id"].isin(pd.Index(numbers, dtype=object))]
    return settle(increment, pd.concat([of_numbers, moved], ignore_index=True))


def _reasons(quarantine: pd.DataFrame) -> dict[str, int]:
    if not len(quarantine):
        return {}
    return {f"patients:{k}": int(v) for k, v in quarantine["reason"].value_counts().items()}


def _store_quarantine(
    store: Warehouse,
    practice_id: str,
    quarantined: list[pd.DataFrame],
    replaced: set[str],
    quarantined_at: datetime,
) -> pd.DataFrame:
    """Replace the verdicts of every row read this run (``replaced`` names the earlier
    verdicts that go, beyond those the new ones replace); return the practice's open
    quarantine."""
    frames = [frame for frame in quarantined if len(frame)]
    new = pd.concat(frames, ignore_index=True) if frames else quarantined[0].iloc[:0]
    new = new.assign(practice_id=practice_id, quarantined_at=quarantined_at)
    read_again = set(new["source_key"]) | replaced
    # Patients are read whole each run: their earlier verdicts all go.
    store.delete(QUARANTINE, practice_id=practice_id, column="source", values=["patients"])
    store.delete(QUARANTINE, practice_id=practice_id, column="source_key", values=read_again)
    store.append(QUARANTINE, new)
    return store.read(QUARANTINE, practice_id=practice_id, columns=["reason"])


def _store_customers(
    store: Warehouse,
    practice_id: str,
    customers: pd.DataFrame,
    sources: ObjectArray,
    gained: set[str],
) -> int:
    """Write the customers whose source row or values changed since they were last
    written, or who gained entries in this run, and delete those no longer made; return
    how many were written. Every customer is still made in memory (transactions need the
    whole directory of patients, and the contact book answers for texts met before), but
    the table is touched only where it changes, and ends as a rewrite of every customer
    would leave it. A practice with no hashes stored yet has its customers replaced."""
    ids = customers["external_id"].tolist()
    hashes = _customer_hashes(customers, sources)
    made = pd.DataFrame(
        {"external_id": pd.Series(ids, dtype=object), "input_hash": pd.Series(hashes, dtype=object)}
    ).assign(practice_id=practice_id)
    stored = store.read(CUSTOMER_SOURCES, practice_id=practice_id)
    if stored.empty:
        store.replace(CUSTOMERS, customers, practice_id=practice_id)
        store.replace(CUSTOMER_SOURCES, made, practice_id=practice_id)
        return len(customers)
    before = dict(zip(stored["external_id"], stored["input_hash"], strict=True))
    rebuild = np.array(
        [before.get(i) != h or i in gained for i, h in zip(ids, hashes, strict=True)], dtype=bool
    )
    gone = sorted(set(before) - set(ids))
    store.delete(CUSTOMERS, practice_id=practice_id, column="external_id", values=gone)
    store.delete(CUSTOMER_SOURCES, practice_id=practice_id, column="external_id", values=gone)
    if rebuild.any():
        store.upsert(CUSTOMERS, customers[rebuild])
        store.upsert(CUSTOMER_SOURCES, made[rebuild])
    return int(rebuild.sum())


def _customer_hashes(customers: pd.DataFrame, sources: ObjectArray) -> list[str]:
    """Per customer, a hash of its source row and of the values made of it: a customer
    whose row is unchanged but whose values would differ (another library version, other
    settings) is rebuilt too."""
    values = [customers[name].tolist() for name in CUSTOMER_COLUMNS]
    return [
        hashlib.sha256(
            "\x1e".join([str(source), *("\x00" if v is None else str(v) for v in row)]).encode()
        ).hexdigest()
        for source, *row in zip(sources.tolist(), *values, strict=True)
    ]


def _store_contacts(store: Warehouse, practice_id: str, contacts: ContactBook) -> None:
    """Keep the verdicts reached this run; drop those of library versions no longer used."""
    store.delete(CONTACT_BOOK, practice_id=practice_id, column="kind", values=contacts.stale_kinds)
    new = contacts.new_verdicts()
    if len(new):
        store.upsert(CONTACT_BOOK, new.assign(practice_id=practice_id))


def _source_keys(source: pd.Series, source_id: pd.Series, raw: pd.Series) -> list[str]:
    """A row's identity in the quarantine: its id, or its whole text when it has none."""
    return [
        f"{s}:{i}" if i is not None else f"{s}#raw:{r}"
        for s, i, r in zip(source, source_id, raw, strict=True)
    ]


def _with_source_keys(quarantine: pd.DataFrame) -> pd.DataFrame:
    keys = _source_keys(quarantine["source"], quarantine["source_id"], quarantine["raw"])
    return quarantine.assign(source_key=pd.Series(keys, index=quarantine.index, dtype=object))


def _transaction_verdicts(
    chunk: pd.DataFrame, quarantine: pd.DataFrame, first_row_number: int
) -> pd.DataFrame:
    """The chunk's quarantine rows with their identity: a keyed row's is its row key."""
    quarantine = _with_source_keys(quarantine)
    if not len(quarantine):
        return quarantine
    at = quarantine["row_number"].to_numpy() - first_row_number
    own = [row_key(k) for k in chunk[ROW_KEY].to_numpy(dtype=object)[at]]
    keys = [
        f"{ROW_SOURCE_KEY}{k}" if k is not None else key
        for k, key in zip(own, quarantine["source_key"], strict=True)
    ]
    return quarantine.assign(source_key=pd.Series(keys, index=quarantine.index, dtype=object))


class _Verdicts:
    """The practice's open transaction verdicts, and which of them this run replaces.

    A row read again replaces its own verdict (``transactions#row:<key>`` for a keyed row,
    ``transactions:<sr_no>`` otherwise). Reading a number replaces the verdicts of its
    other rows too, as a number once named one verdict, except where the source holds the
    number in several keyed rows now: those rows keep theirs until each is read again.
    Only the open verdicts are looked for in the rows read, so a whole read costs little.
    """

    def __init__(self, store: Warehouse, practice_id: str) -> None:
        open_ = store.read(
            QUARANTINE,
            practice_id=practice_id,
            columns=["source", "source_id", "source_key"],
        )
        open_ = open_[open_["source"] == "transactions"].reset_index(drop=True)
        self._source_keys: list[str] = open_["source_key"].tolist()
        self._numbers: list[str | None] = open_["source_id"].tolist()
        self._ids: list[str | None] = key_ids(
            pd.DataFrame(
                {"practice_id": practice_id, "transaction_sr_no": open_["source_id"]},
                dtype=object,
            )
        ).tolist()
        self._row_keys = [
            key.removeprefix(ROW_SOURCE_KEY) if key.startswith(ROW_SOURCE_KEY) else None
            for key in self._source_keys
        ]
        numbers = sorted({n for n in self._numbers if n is not None})
        self._wanted_numbers = pd.Index(numbers, dtype=object)
        self._wanted_keys = pd.Index(sorted({k for k in self._row_keys if k}), dtype=object)
        self._numbers_read: set[str] = set()
        self._keys_read: set[str] = set()

    def read(self, chunk: pd.DataFrame) -> None:
        """Note which numbers and row keys of open verdicts ``chunk`` holds."""
        if len(self._wanted_numbers):
            numbers = chunk["transaction_sr_no"]
            self._numbers_read.update(numbers[numbers.isin(self._wanted_numbers)])
        if len(self._wanted_keys):
            keys = chunk[ROW_KEY].dropna().str.strip()
            self._keys_read.update(keys[keys.isin(self._wanted_keys)])

    def replaced(self, held: Mapping[str, tuple[str, ...]]) -> set[str]:
        """The verdicts the rows read replace. ``held``: the ids several keyed rows hold
        now, with their row keys (``SourceKeys.held``)."""
        gone = set()
        for source_key, number, external_id, key in zip(
            self._source_keys, self._numbers, self._ids, self._row_keys, strict=True
        ):
            if key is not None and key in self._keys_read:
                gone.add(source_key)
            elif number is not None and number in self._numbers_read:
                kept_apart = key is not None and key in held.get(external_id or "", ())
                if not kept_apart:
                    gone.add(source_key)
        return gone
