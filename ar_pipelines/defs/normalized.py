"""Normalized customers, ledger entries and the quarantine, from the raw rows.

Customers are rebuilt from every patient each run; the verdicts on their emails and
phones are kept in ``normalized.contact_book``, so a run parses only the texts it has not
met. Ledger entries of this run's increment are upserted by ``external_id``, with
``loaded_at`` set to now: the push sends what was loaded since its last complete push.

A row read again (an edit reloads it) updates the entry it made. Rows the source holds
under one ``transaction_sr_no`` at the same time are duplicates of each other, and the
key scan says which rows those are (``normalize.present``): where each has a row key,
the row whose key comes first is the record of the number, in every run, whichever of
them an increment reads; without row keys, a row of a number the source also holds in a
row loaded before the increment is a duplicate of that row, as it would be in a full
run. A duplicate never replaces the record's entry. Deletions the source reports
(``practice_events``, a loader's deleted flag) arrive in the increment and become voids
(amount 0). A row that vanished without a trace is found by comparing the pushed entries
with the source's ids: every run on a database (a cheap scan of its key columns), after
a whole read on the REST API (the first run, or ``full_refresh``), whose nightly runs
never read every transaction.

The quarantine keeps, per source row, its latest verdict: a row read again replaces its
earlier entry, and leaves the quarantine once it normalizes. A keyed row's verdict is
its own (``transactions#row:<key>``); reading a number also replaces the verdicts of its
other rows, unless the source holds the number in several keyed rows now, each of which
then keeps its verdict until it is read again.
"""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
import pandas as pd

from ar_pipelines.defs.common import (
    NORMALIZED_CUSTOMERS,
    NORMALIZED_LEDGER,
    QUARANTINE,
    RAW_PATIENTS,
    RAW_TRANSACTIONS,
    practice_of,
    retried_when_transient,
    utc_now,
)
from ar_pipelines.defs.extract import CURSOR, PENDING_CURSOR, was_whole_read
from ar_pipelines.defs.practices import Practice
from ar_pipelines.defs.resources import Settings, Sources, WarehouseResource
from ar_pipelines.normalize import Normalizer
from ar_pipelines.normalize.contacts import BOOK_COLUMNS, ContactBook
from ar_pipelines.normalize.present import (
    KEY_COLUMNS,
    ROW_KEY,
    SourceKeys,
    earlier_external_ids,
    key_ids,
    row_key,
    source_keys,
)
from ar_pipelines.sources.base import Source
from ar_pipelines.sources.frames import as_practice
from ar_pipelines.sources.schema import GUARANTOR_COLUMNS, PATIENT_COLUMNS, TRANSACTION_COLUMNS
from ar_pipelines.sync import voids_for_missing
from ar_pipelines.warehouse import CONTACT_BOOK, LEDGER_ENTRIES, RAW_GUARANTORS, Warehouse
from ar_pipelines.warehouse import RAW_PATIENTS as RAW_PATIENTS_TABLE
from ar_pipelines.warehouse import RAW_TRANSACTIONS as RAW_TRANSACTIONS_TABLE

QUARANTINE_SHARE_CHECK = "quarantine_share_under_threshold"
_NO_VOIDS = pd.DataFrame()
ROW_SOURCE_KEY = "transactions#row:"  # a keyed transaction row's identity in the quarantine


def normalized_assets(
    partitions: dg.PartitionsDefinition, pool: str | None = None
) -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
        pool=pool,
        specs=[
            dg.AssetSpec(
                NORMALIZED_CUSTOMERS,
                deps=[RAW_PATIENTS],
                description="One AR customer per pushable patient (or guarantor).",
            ),
            dg.AssetSpec(
                NORMALIZED_LEDGER,
                deps=[RAW_TRANSACTIONS, RAW_PATIENTS],
                description=(
                    "Every ledger entry of the practice as last loaded, voids included: "
                    "the dbt project's source."
                ),
            ),
            dg.AssetSpec(
                QUARANTINE,
                deps=[RAW_TRANSACTIONS, RAW_PATIENTS],
                description="Source rows that cannot become records, each with its reason.",
            ),
        ],
        check_specs=[
            dg.AssetCheckSpec(
                QUARANTINE_SHARE_CHECK,
                asset=QUARANTINE,
                description="This run quarantined at most the practice's threshold of its rows.",
            )
        ],
        partitions_def=partitions,
        group_name="normalize",
        can_subset=False,
    )
    def normalized(
        context: dg.AssetExecutionContext,
        sources: Sources,
        warehouse: WarehouseResource,
        settings: Settings,
    ) -> Iterator[dg.MaterializeResult[Any] | dg.AssetCheckResult]:
        practice = practice_of(context, settings)
        loaded_at = utc_now()
        with (
            retried_when_transient(context),
            warehouse.open() as store,
            sources.open(practice) as source,
        ):
            keys = _present_keys(store, practice, source)
            earlier = set() if keys is None else _read_in_earlier_runs(store, practice, keys)
            verdicts = _Verdicts(store, practice)
            contacts = ContactBook.of(
                store.read(CONTACT_BOOK, practice_id=practice.id, columns=BOOK_COLUMNS)
            )
            payment_types = source.payment_types(practice_id=practice.sikka_practice_id)
            normalizer = Normalizer(
                settings=practice.mapping,
                payment_types=as_practice(payment_types, practice.id),
                patients=store.read(
                    RAW_PATIENTS_TABLE, practice_id=practice.id, columns=PATIENT_COLUMNS
                ),
                guarantors=store.read(
                    RAW_GUARANTORS, practice_id=practice.id, columns=GUARANTOR_COLUMNS
                ),
                earlier_external_ids=earlier,
                record_keys=None if keys is None else keys.records,
                contacts=contacts,
            )
            customers = normalizer.customers.assign(practice_id=practice.id)
            store.replace("normalized.customers", customers, practice_id=practice.id)
            quarantined: list[pd.DataFrame] = [_with_source_keys(normalizer.patient_quarantine)]
            never_stored = 0
            for chunk in store.read_chunks(
                "raw.transactions", practice_id=practice.id, columns=TRANSACTION_COLUMNS
            ):
                first_row_number = normalizer.counts.rows + 1
                result = normalizer.transactions(chunk)
                entries, unknown = _without_voids_of_unknown_rows(
                    store, practice, chunk, result.ledger_entries
                )
                never_stored += unknown
                entries = entries.assign(practice_id=practice.id, loaded_at=loaded_at)
                store.upsert("normalized.ledger_entries", entries)
                quarantined.append(
                    _transaction_verdicts(chunk, result.quarantine, first_row_number)
                )
                verdicts.read(chunk)
            voids = (
                voids_for_missing(store, practice_id=practice.id, present_external_ids=keys.present)
                if keys is not None
                else _NO_VOIDS
            )
            if len(voids):
                store.upsert(
                    "normalized.ledger_entries",
                    voids.assign(practice_id=practice.id, loaded_at=loaded_at),
                )
            held = {} if keys is None else keys.held
            quarantine = _store_quarantine(
                store, practice, quarantined, verdicts.replaced(held), loaded_at
            )
            _store_contacts(store, practice, contacts)
            pending = store.get_cursor(practice.id, PENDING_CURSOR)
            if pending is not None:
                store.set_cursor(practice.id, CURSOR, pending)
        counts = normalizer.counts
        rows = counts.rows + normalizer.patients_in
        quarantined_rows = sum(counts.quarantined.values()) + len(normalizer.patient_quarantine)
        yield dg.MaterializeResult(
            asset_key=NORMALIZED_CUSTOMERS,
            metadata={
                "customers": len(customers),
                "patients_read": normalizer.patients_in,
                "contacts_parsed": contacts.parsed,
                "contacts_known": contacts.known,
            },
        )
        yield dg.MaterializeResult(
            asset_key=NORMALIZED_LEDGER,
            metadata={
                "transactions_read": counts.rows,
                "ledger_entries": counts.ledger_entries,
                "transactions_quarantined": sum(counts.quarantined.values()),
                "voids_of_deleted_rows": counts.deleted - never_stored,
                "deletions_of_rows_never_stored": never_stored,
                "voids_of_disappeared_rows": len(voids),
            },
        )
        by_reason = quarantine["reason"].value_counts().to_dict() if len(quarantine) else {}
        yield dg.MaterializeResult(
            asset_key=QUARANTINE,
            metadata={
                "quarantined_this_run": quarantined_rows,
                "open_in_quarantine": len(quarantine),
                "by_reason": dg.MetadataValue.json({str(k): int(v) for k, v in by_reason.items()}),
            },
        )
        share = quarantined_rows / rows if rows else 0.0
        yield dg.AssetCheckResult(
            check_name=QUARANTINE_SHARE_CHECK,
            asset_key=QUARANTINE,
            passed=share <= practice.quarantine_threshold,
            metadata={
                "share": round(share, 6),
                "threshold": practice.quarantine_threshold,
                "rows_read": rows,
                "quarantined": quarantined_rows,
                "by_reason": dg.MetadataValue.json(
                    dict(counts.quarantined) | _reasons(normalizer.patient_quarantine)
                ),
            },
        )

    return [normalized]


def _without_voids_of_unknown_rows(
    store: Warehouse, practice: Practice, chunk: pd.DataFrame, entries: pd.DataFrame
) -> tuple[pd.DataFrame, int]:
    """``entries`` less the voids of deleted rows the warehouse never held: a deletion
    event of a row no run stored (deleted before the first run, or only ever
    quarantined) has nothing in AR to void, and sending one would add an empty entry."""
    deleted = chunk.loc[chunk["is_deleted"].notna(), "transaction_sr_no"].dropna()
    if deleted.empty:
        return entries, 0
    ids = sorted({f"{practice.id}-{number.strip()}" for number in deleted})
    mark = "?" if store.dialect == "duckdb" else "%s"
    marks = ", ".join([mark] * len(ids))
    known = store.query(
        f"select external_id from {store.relation(LEDGER_ENTRIES)}"  # noqa: S608
        f" where practice_id = {mark} and external_id in ({marks})",
        [practice.id, *ids],
    )
    unknown = set(ids) - set(known["external_id"])
    dropped = entries["external_id"].isin(unknown)
    return entries[~dropped], int(dropped.sum())


def _read_in_earlier_runs(store: Warehouse, practice: Practice, keys: SourceKeys) -> set[str]:
    """Ids the source holds more often than this run's increment does, among those whose
    rows have no row keys to tell them apart (the others are settled by key): their other
    rows were loaded before the increment, so the rows read now are later occurrences.
    When the increment holds as many rows as the source (a full read), none was read
    before."""
    repeated = keys.unkeyed_repeats
    if not repeated:
        return set()
    mark = "?" if store.dialect == "duckdb" else "%s"
    counted = store.query(
        f"select count(*) as n from {store.relation(RAW_TRANSACTIONS_TABLE)}"  # noqa: S608
        f" where practice_id = {mark}",
        [practice.id],
    )
    if int(counted["n"].iloc[0]) == keys.rows:
        return set()
    increment = store.read_chunks(
        RAW_TRANSACTIONS_TABLE, practice_id=practice.id, columns=list(KEY_COLUMNS)
    )
    return earlier_external_ids(repeated, increment)


def _present_keys(store: Warehouse, practice: Practice, source: Source) -> SourceKeys | None:
    """Every id the source holds now, to void entries whose row disappeared without a
    deletion event; ``None`` when this run cannot tell without reading the whole source.

    After a whole read the increment itself holds every live row. A database scans its
    key columns cheaply every night; an API is scanned only by a full refresh."""
    if was_whole_read(store, practice.id):
        columns = [*KEY_COLUMNS, ROW_KEY]
        chunks = store.read_chunks(
            RAW_TRANSACTIONS_TABLE, practice_id=practice.id, columns=[*columns, "is_deleted"]
        )
        return source_keys(chunk.loc[chunk["is_deleted"].isna(), columns] for chunk in chunks)
    if not source.scans_keys_cheaply:
        return None
    scan = source.transaction_keys(practice_id=practice.sikka_practice_id)
    return source_keys(as_practice(chunk, practice.id) for chunk in scan)


def _reasons(quarantine: pd.DataFrame) -> dict[str, int]:
    if not len(quarantine):
        return {}
    return {f"patients:{k}": int(v) for k, v in quarantine["reason"].value_counts().items()}


def _store_quarantine(
    store: Warehouse,
    practice: Practice,
    quarantined: list[pd.DataFrame],
    replaced: set[str],
    quarantined_at: Any,
) -> pd.DataFrame:
    """Replace the verdicts of every row read this run (``replaced`` names the earlier
    verdicts that go, beyond those the new ones replace); return the practice's open
    quarantine."""
    frames = [frame for frame in quarantined if len(frame)]
    new = pd.concat(frames, ignore_index=True) if frames else quarantined[0].iloc[:0]
    new = new.assign(practice_id=practice.id, quarantined_at=quarantined_at)
    read_again = set(new["source_key"]) | replaced
    # Patients are read whole each run: their earlier verdicts all go.
    store.delete(
        "normalized.quarantine", practice_id=practice.id, column="source", values=["patients"]
    )
    store.delete(
        "normalized.quarantine", practice_id=practice.id, column="source_key", values=read_again
    )
    store.append("normalized.quarantine", new)
    return store.read("normalized.quarantine", practice_id=practice.id, columns=["reason"])


def _store_contacts(store: Warehouse, practice: Practice, contacts: ContactBook) -> None:
    """Keep the verdicts reached this run; drop those of library versions no longer used."""
    store.delete(CONTACT_BOOK, practice_id=practice.id, column="kind", values=contacts.stale_kinds)
    new = contacts.new_verdicts()
    if len(new):
        store.upsert(CONTACT_BOOK, new.assign(practice_id=practice.id))


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

    def __init__(self, store: Warehouse, practice: Practice) -> None:
        open_ = store.read(
            "normalized.quarantine",
            practice_id=practice.id,
            columns=["source", "source_id", "source_key"],
        )
        open_ = open_[open_["source"] == "transactions"].reset_index(drop=True)
        self._source_keys: list[str] = open_["source_key"].tolist()
        self._numbers: list[str | None] = open_["source_id"].tolist()
        self._ids: list[str | None] = key_ids(
            pd.DataFrame(
                {"practice_id": practice.id, "transaction_sr_no": open_["source_id"]},
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
