"""Ledger upsert by ``external_id``, then re-aggregation of touched customers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ar_sandbox.access import Principal
from ar_sandbox.aggregator import ALLOCATION_TYPE
from ar_sandbox.models import LedgerEntry, utcnow
from ar_sandbox.schemas.common import CustomerRecord, Paging, UpsertCounts
from ar_sandbox.schemas.ledgers import (
    LedgerEntryOut,
    LedgerEntryRecord,
    LedgerPage,
    LedgerPushResult,
    LedgerQuery,
)
from ar_sandbox.services.aggregation import PushedEntries, reaggregate
from ar_sandbox.services.common import (
    LockPlan,
    accept_records,
    get_scoped,
    in_scope,
    lock_customers,
    new_row,
    one_of,
    paginate,
    refuse,
    scoped_rows,
    settle,
)

# What a record sets of its entry: every field but those naming the entry and its customer.
_ENTRY_FIELDS = tuple(
    name for name in LedgerEntryRecord.model_fields if name not in CustomerRecord.model_fields
)


def push_entries(
    session: Session,
    principal: Principal,
    records: Sequence[LedgerEntryRecord],
    locks: LockPlan | None = None,
) -> LedgerPushResult:
    """Upsert ``records`` (the last occurrence of an ``external_id`` wins) and re-aggregate.

    ``locks`` carries what an earlier attempt of the same request learned about the
    customers it must lock, so that a restart takes them all at once, in order.
    """
    locks = locks if locks is not None else LockPlan()
    counts = UpsertCounts(total=len(records))
    accepted = accept_records(session, principal, records, counts)

    external_ids = [records[i].external_id for i, _ in accepted]
    # Read under the locks of the rows' owners, so that no concurrent push moves or
    # creates them meanwhile. A row found under a customer not locked yet (the push
    # moves it to another customer) needs that lock too, and a fresh read.
    touched = {cid for _, cid in accepted} | locks.customers
    lock_customers(session, touched)
    existing = _existing(session, principal, external_ids)
    while extra := {row.customer_id for row in existing.values()} - touched:
        locks.take_more(session, touched, extra)
        existing = _existing(session, principal, external_ids)

    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for index, customer_id in accepted:
        record = records[index]
        values = {name: getattr(record, name) for name in _ENTRY_FIELDS}
        values.update(customer_id=customer_id, updated_at=now)
        stored = existing.get(record.external_id)
        if stored is None:
            inserts.append(
                new_row(principal, **values, external_id=record.external_id, created_at=now)
            )
        elif stored.transaction_type == ALLOCATION_TYPE:
            reason = "external_id belongs to a server-written payment allocation"
            refuse(counts, index, record, reason)
        else:
            updates.append({**values, "id": stored.id})
    settle(counts, len(inserts), len(updates))
    # Aggregation writes the rows, each once and already linked to its statement.
    statements = reaggregate(session, principal, touched, PushedEntries(inserts, updates))
    return LedgerPushResult(ledger_entries=counts, statements=statements)


def _existing(session: Session, principal: Principal, external_ids: list[str]) -> dict[str, Any]:
    if not external_ids:
        return {}
    query = select(
        LedgerEntry.id,
        LedgerEntry.external_id,
        LedgerEntry.customer_id,
        LedgerEntry.transaction_type,
    ).where(
        *in_scope(LedgerEntry, principal), one_of(session, LedgerEntry.external_id, external_ids)
    )
    return {row.external_id: row for row in session.execute(query)}


def list_entries(
    session: Session, principal: Principal, wanted: LedgerQuery, paging: Paging
) -> LedgerPage:
    query = scoped_rows(LedgerEntry, principal, wanted)
    if wanted.from_date is not None:
        query = query.where(LedgerEntry.transaction_date >= wanted.from_date)
    if wanted.to_date is not None:
        query = query.where(LedgerEntry.transaction_date <= wanted.to_date)
    if wanted.transaction_type is not None:
        query = query.where(LedgerEntry.transaction_type == wanted.transaction_type)
    query = query.order_by(
        LedgerEntry.transaction_date.desc(), LedgerEntry.created_at.desc(), LedgerEntry.id
    )
    return paginate(session, query, paging, LedgerPage, LedgerEntryOut.of)


def get_entry(session: Session, principal: Principal, entry_id: str) -> LedgerEntry:
    return get_scoped(session, principal, LedgerEntry, entry_id, "Ledger entry")
