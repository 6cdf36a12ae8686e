"""Ledger upsert by ``external_id``, then re-aggregation of touched customers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ar_sandbox.access import Principal
from ar_sandbox.aggregator import ALLOCATION_TYPE
from ar_sandbox.models import LedgerEntry, new_id, utcnow
from ar_sandbox.schemas.common import PageInfo, RecordError, UpsertCounts
from ar_sandbox.schemas.ledgers import LedgerEntryRecord, LedgerPushResult
from ar_sandbox.services.aggregation import PushedEntries, reaggregate
from ar_sandbox.services.common import (
    LockPlan,
    accept_records,
    get_scoped,
    in_scope,
    lock_customers,
    one_of,
    paginate,
    scoped_rows,
)

_ENTRY_FIELDS = (
    "transaction_date",
    "transaction_type",
    "amount",
    "amount_paid",
    "estimated_insurance",
    "payment_link_id",
    "procedure_code",
    "description",
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
                {
                    **values,
                    "id": new_id(),
                    "company_id": principal.company_id,
                    "mode": principal.mode,
                    "external_id": record.external_id,
                    "created_at": now,
                }
            )
        elif stored.transaction_type == ALLOCATION_TYPE:
            counts.errors.append(
                RecordError(
                    index=index,
                    external_id=record.external_id,
                    error="external_id belongs to a server-written payment allocation",
                )
            )
        else:
            updates.append({**values, "id": stored.id})
    counts.created, counts.updated = len(inserts), len(updates)
    counts.failed = len(counts.errors)
    counts.errors.sort(key=lambda e: e.index)
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
    session: Session,
    principal: Principal,
    *,
    customer_id: str | None,
    customer_external_id: str | None,
    from_date: date | None,
    to_date: date | None,
    transaction_type: str | None,
    page: int,
    per_page: int,
) -> tuple[Sequence[LedgerEntry], PageInfo]:
    query = scoped_rows(LedgerEntry, principal, customer_id, customer_external_id)
    if from_date is not None:
        query = query.where(LedgerEntry.transaction_date >= from_date)
    if to_date is not None:
        query = query.where(LedgerEntry.transaction_date <= to_date)
    if transaction_type is not None:
        query = query.where(LedgerEntry.transaction_type == transaction_type)
    query = query.order_by(
        LedgerEntry.transaction_date.desc(), LedgerEntry.created_at.desc(), LedgerEntry.id
    )
    return paginate(session, query, page, per_page)


def get_entry(session: Session, principal: Principal, entry_id: str) -> LedgerEntry:
    return get_scoped(session, principal, LedgerEntry, entry_id, "Ledger entry")
