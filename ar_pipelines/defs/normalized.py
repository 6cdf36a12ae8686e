"""Normalized customers, ledger entries and the quarantine, from the raw rows.

Customers are rebuilt from every patient each run; the verdicts on their emails and
phones are kept in ``normalized.contact_book``, so a run parses only the texts it has not
met. Ledger entries of this run's increment are upserted by ``external_id``, with
``loaded_at`` set to now: the push sends what was loaded since its last complete push. A
row whose ``transaction_sr_no`` the source also holds in a row loaded before the increment
is a duplicate of that row, as it would be in a full run, so it never replaces the entry
made from that row. Deletions the source reports (``practice_events``, a loader's deleted
flag) arrive in the increment and become voids (amount 0). A row that vanished without a
trace is found by comparing the pushed entries with the source's ids: every run on a
database (a cheap scan of two columns), after a whole read on the REST API (the first
run, or ``full_refresh``), whose nightly runs never read every transaction.
The quarantine keeps, per source row, its latest verdict: a row read again replaces its
earlier entry, and leaves the quarantine once it normalizes.
"""

from collections.abc import Iterator
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
    SourceKeys,
    earlier_external_ids,
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


def normalized_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.multi_asset(
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
                contacts=contacts,
            )
            customers = normalizer.customers.assign(practice_id=practice.id)
            store.replace("normalized.customers", customers, practice_id=practice.id)
            quarantined: list[pd.DataFrame] = [normalizer.patient_quarantine]
            source_ids: list[pd.Series] = []
            never_stored = 0
            for chunk in store.read_chunks(
                "raw.transactions", practice_id=practice.id, columns=TRANSACTION_COLUMNS
            ):
                result = normalizer.transactions(chunk)
                entries, unknown = _without_voids_of_unknown_rows(
                    store, practice, chunk, result.ledger_entries
                )
                never_stored += unknown
                entries = entries.assign(practice_id=practice.id, loaded_at=loaded_at)
                store.upsert("normalized.ledger_entries", entries)
                quarantined.append(result.quarantine)
                source_ids.append(chunk["transaction_sr_no"])
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
            quarantine = _store_quarantine(store, practice, quarantined, source_ids, loaded_at)
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
    """Ids the source holds more often than this run's increment does: their other rows
    were loaded before the increment, so the rows read now are later occurrences. When
    the increment holds as many rows as the source (a full read), none was read before."""
    if not keys.repeated:
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
    return earlier_external_ids(keys.repeated, increment)


def _present_keys(store: Warehouse, practice: Practice, source: Source) -> SourceKeys | None:
    """Every id the source holds now, to void entries whose row disappeared without a
    deletion event; ``None`` when this run cannot tell without reading the whole source.

    After a whole read the increment itself holds every live row. A database scans its
    two key columns cheaply every night; an API is scanned only by a full refresh."""
    if was_whole_read(store, practice.id):
        chunks = store.read_chunks(
            RAW_TRANSACTIONS_TABLE, practice_id=practice.id, columns=[*KEY_COLUMNS, "is_deleted"]
        )
        return source_keys(
            chunk.loc[chunk["is_deleted"].isna(), list(KEY_COLUMNS)] for chunk in chunks
        )
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
    source_ids: list[pd.Series],
    quarantined_at: Any,
) -> pd.DataFrame:
    """Replace the verdicts of every row read this run; return the practice's open quarantine."""
    frames = [frame for frame in quarantined if len(frame)]
    new = pd.concat(frames, ignore_index=True) if frames else quarantined[0].iloc[:0]
    new = new.assign(practice_id=practice.id, quarantined_at=quarantined_at)
    new["source_key"] = _source_keys(new["source"], new["source_id"], new["raw"])
    read_again = set(new["source_key"])
    for ids in source_ids:
        read_again.update(f"transactions:{i}" for i in ids.dropna())
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
