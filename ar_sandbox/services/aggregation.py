"""Apply the pure aggregator to stored entries: statements, allocations, links.

Runs inside the push's transaction for every customer the push touched. Rows are
diffed against what is stored so that an unchanged customer writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from ar_sandbox.access import Principal
from ar_sandbox.aggregator import (
    ALLOCATION_TYPE,
    BILLABLE_TYPES,
    PAYMENT_TYPES,
    CustomerStatements,
    Entry,
    aggregate,
    due_date,
    month_of,
    period_end,
    statement_number,
)
from ar_sandbox.models import Customer, Dispute, Invoice, LedgerEntry, utcnow
from ar_sandbox.schemas.common import StatementCounts
from ar_sandbox.services.common import new_row, one_of

ZERO = Decimal("0.00")
_ENTRIES = cast(Table, LedgerEntry.__table__)
_STATEMENTS = cast(Table, Invoice.__table__)


@dataclass
class _Writes:
    new_statements: list[dict[str, Any]] = field(default_factory=list)
    statement_updates: list[dict[str, Any]] = field(default_factory=list)
    statement_deletes: list[str] = field(default_factory=list)
    entry_links: list[dict[str, Any]] = field(default_factory=list)
    new_allocations: list[dict[str, Any]] = field(default_factory=list)
    allocation_updates: list[dict[str, Any]] = field(default_factory=list)
    allocation_deletes: list[str] = field(default_factory=list)


@dataclass
class _Stored:
    """One customer's stored rows, as plain tuples."""

    key: str  # external_id, or the UUID when there is none
    entries: list[Any] = field(default_factory=list)
    allocations: dict[str, Any] = field(default_factory=dict)
    statements: dict[date, Any] = field(default_factory=dict)


@dataclass
class PushedEntries:
    """The ledger rows of a push, not written yet.

    ``reaggregate`` writes them once, after the statements they link to and with their
    ``invoice_id`` set, instead of writing them and then updating every one of them
    again to link it.
    """

    inserts: list[dict[str, Any]] = field(default_factory=list)  # whole rows
    updates: list[dict[str, Any]] = field(default_factory=list)  # "id" and the new values


@dataclass(slots=True)
class _PushedRow:
    """A row of the push as it will be written; planning adds its ``invoice_id``."""

    id: str
    external_id: str
    transaction_date: date
    transaction_type: str
    amount: Decimal
    values: dict[str, Any]  # the INSERT or UPDATE parameters

    @classmethod
    def of(cls, external_id: str, values: dict[str, Any]) -> _PushedRow:
        return cls(
            values["id"],
            external_id,
            values["transaction_date"],
            values["transaction_type"],
            values["amount"],
            values,
        )


def reaggregate(
    session: Session,
    principal: Principal,
    customer_ids: Iterable[str],
    pushed: PushedEntries | None = None,
) -> StatementCounts:
    """Re-aggregate the customers, writing ``pushed`` on the way (see ``PushedEntries``)."""
    pushed = pushed if pushed is not None else PushedEntries()
    ids = sorted(set(customer_ids))
    counts = StatementCounts()
    if not ids:
        _apply(session, _Writes(), pushed)
        return counts
    stored = _load(session, principal, ids, pushed)
    writes = _Writes()
    undeletable = _statements_with_disputes(session, stored)
    now = utcnow()
    for customer_id, rows in stored.items():
        result = aggregate(
            Entry(r.external_id, r.transaction_date, r.transaction_type, r.amount)
            for r in rows.entries
        )
        _plan_customer(principal, customer_id, rows, result, undeletable, writes, counts, now)
    _apply(session, writes, pushed)
    counts.total = counts.created + counts.updated + counts.skipped + counts.failed
    return counts


def _load(
    session: Session, principal: Principal, ids: list[str], pushed: PushedEntries
) -> dict[str, _Stored]:
    """The customers' entries (as the push leaves them), allocations and statements.

    Selected by ``customer_id`` alone, with the scope checked row by row: with
    ``company_id = ? AND mode = ?`` in the WHERE, a planner without statistics (SQLite
    always, Postgres until its first ANALYZE) prefers the (company_id, mode,
    external_id) index to the customer_id one and reads the company's whole ledger on
    every push.
    """
    customers = session.execute(
        select(Customer.id, Customer.external_id).where(Customer.id.in_(ids))
    )
    stored = {cid: _Stored(key=ext or cid) for cid, ext in customers}
    scope = (principal.company_id, principal.mode)
    entry_query = select(
        LedgerEntry.id,
        LedgerEntry.customer_id,
        LedgerEntry.external_id,
        LedgerEntry.transaction_date,
        LedgerEntry.transaction_type,
        LedgerEntry.amount,
        LedgerEntry.invoice_id,
        LedgerEntry.company_id,
        LedgerEntry.mode,
    ).where(LedgerEntry.customer_id.in_(ids))
    updated = {values["id"]: values for values in pushed.updates}
    for row in session.execute(entry_query):
        if (row.company_id, row.mode) != scope:
            continue
        if row.transaction_type == ALLOCATION_TYPE:
            stored[row.customer_id].allocations[row.external_id] = row
        elif row.id in updated:  # possibly moving to another customer
            values = updated[row.id]
            stored[values["customer_id"]].entries.append(_PushedRow.of(row.external_id, values))
        else:
            stored[row.customer_id].entries.append(row)
    for values in pushed.inserts:
        stored[values["customer_id"]].entries.append(_PushedRow.of(values["external_id"], values))
    statement_query = select(
        Invoice.id,
        Invoice.customer_id,
        Invoice.period_start,
        Invoice.amount,
        Invoice.paid_amount,
        Invoice.enrollment_status,
        Invoice.external_id,
        Invoice.company_id,
        Invoice.mode,
    ).where(Invoice.customer_id.in_(ids), Invoice.billing_type == "statement")
    for statement in session.execute(statement_query):
        if (statement.company_id, statement.mode) == scope:
            stored[statement.customer_id].statements[statement.period_start] = statement
    return stored


def _statements_with_disputes(session: Session, stored: dict[str, _Stored]) -> set[str]:
    candidates = [s.id for rows in stored.values() for s in rows.statements.values()]
    if not candidates:
        return set()
    query = select(Dispute.invoice_id).where(one_of(session, Dispute.invoice_id, candidates))
    query = query.distinct()
    return set(session.scalars(query))


def _plan_customer(
    principal: Principal,
    customer_id: str,
    rows: _Stored,
    result: CustomerStatements,
    undeletable: set[str],
    writes: _Writes,
    counts: StatementCounts,
    now: Any,
) -> None:
    statement_ids: dict[date, str] = {}
    for statement in result.statements:
        number = statement_number(statement.month, rows.key)
        existing = rows.statements.get(statement.month)
        if existing is None:
            new_statement = new_row(
                principal,
                customer_id=customer_id,
                external_id=number,
                invoice_number=number,
                billing_type="statement",
                amount=statement.amount,
                paid_amount=statement.paid_amount,
                currency="USD",
                status="not_assigned",
                enrollment_status="not_enrolled",
                issue_date=statement.month,
                due_date=due_date(statement.month),
                period_start=statement.month,
                period_end=period_end(statement.month),
                source="api",
                created_at=now,
                updated_at=now,
            )
            writes.new_statements.append(new_statement)
            statement_id = new_statement["id"]
            counts.created += 1
        else:
            statement_id = existing.id
            changed = (existing.amount, existing.paid_amount) != (
                statement.amount,
                statement.paid_amount,
            )
            if changed or existing.external_id != number:
                writes.statement_updates.append(
                    {
                        "id": statement_id,
                        "amount": statement.amount,
                        "paid_amount": statement.paid_amount,
                        "external_id": number,
                        "invoice_number": number,
                        "updated_at": now,
                    }
                )
            counts.updated += changed
            counts.skipped += not changed
        statement_ids[statement.month] = statement_id

    for month, existing in rows.statements.items():
        if month in statement_ids:
            continue
        deletable = existing.enrollment_status == "not_enrolled" and existing.id not in undeletable
        if deletable:
            writes.statement_deletes.append(existing.id)
            counts.updated += 1
        elif (existing.amount, existing.paid_amount) != (ZERO, ZERO):
            writes.statement_updates.append(
                {"id": existing.id, "amount": ZERO, "paid_amount": ZERO, "updated_at": now}
            )
            counts.updated += 1
        else:
            counts.skipped += 1

    _plan_allocations(principal, customer_id, rows, result, statement_ids, writes, now)
    counts.allocations_created += len(result.allocations)


def _plan_allocations(
    principal: Principal,
    customer_id: str,
    rows: _Stored,
    result: CustomerStatements,
    statement_ids: dict[date, str],
    writes: _Writes,
    now: Any,
) -> None:
    first_statement: dict[str, str] = {}
    wanted: dict[str, dict[str, Any]] = {}
    for allocation in result.allocations:
        statement_id = statement_ids[allocation.month]
        first_statement.setdefault(allocation.payment_external_id, statement_id)
        external_id = f"ALLOC-{allocation.payment_external_id}-{statement_id}"
        wanted[external_id] = {
            "external_id": external_id,
            "transaction_date": allocation.payment_date,
            "amount": -allocation.amount,
            "invoice_id": statement_id,
        }
    for external_id, stored in rows.allocations.items():
        target = wanted.pop(external_id, None)
        if target is None:
            writes.allocation_deletes.append(stored.id)
        elif (stored.amount, stored.transaction_date) != (
            target["amount"],
            target["transaction_date"],
        ):
            writes.allocation_updates.append(
                {
                    "id": stored.id,
                    "amount": target["amount"],
                    "transaction_date": target["transaction_date"],
                    "updated_at": now,
                }
            )
    for target in wanted.values():
        writes.new_allocations.append(
            new_row(
                principal,
                **target,
                customer_id=customer_id,
                transaction_type=ALLOCATION_TYPE,
                created_at=now,
                updated_at=now,
            )
        )

    for entry in rows.entries:
        if entry.transaction_type in BILLABLE_TYPES:
            link = statement_ids.get(month_of(entry.transaction_date))
        elif entry.transaction_type in PAYMENT_TYPES:
            link = first_statement.get(entry.external_id)
        else:
            link = None
        if isinstance(entry, _PushedRow):
            entry.values["invoice_id"] = link
        elif link != entry.invoice_id:
            writes.entry_links.append({"id": entry.id, "invoice_id": link})


def _apply(session: Session, writes: _Writes, pushed: PushedEntries) -> None:
    """Write in an order the foreign keys accept: statements exist before the rows that
    link to them, and rows link elsewhere before their statement is deleted."""
    _insert_rows(session, _STATEMENTS, writes.new_statements)
    _update_rows(session, _STATEMENTS, writes.statement_updates)
    _insert_rows(session, _ENTRIES, pushed.inserts)
    _update_rows(session, _ENTRIES, pushed.updates)
    _update_rows(session, _ENTRIES, writes.entry_links)
    if writes.allocation_deletes:
        session.execute(delete(LedgerEntry).where(LedgerEntry.id.in_(writes.allocation_deletes)))
    _update_rows(session, _ENTRIES, writes.allocation_updates)
    _insert_rows(session, _ENTRIES, writes.new_allocations)
    if writes.statement_deletes:
        session.execute(delete(Invoice).where(Invoice.id.in_(writes.statement_deletes)))


# Bulk writes go through Core, not the ORM's bulk INSERT and UPDATE: those cost about half
# as much again per row, and the ORM's INSERT starts a new statement whenever the set of
# None columns changes from one row to the next, hundreds of round trips for a push.


def _insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT the rows, one executemany per set of columns."""
    for batch in _by_columns(rows).values():
        session.execute(insert(table), batch)


def _update_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """UPDATE each row, found by its "id", to its other values; one executemany per set of
    columns."""
    for columns, batch in _by_columns(rows).items():
        changed = [name for name in columns if name != "id"]
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({name: bindparam(f"new_{name}", type_=table.c[name].type) for name in changed})
        )
        params = [{"row_id": row["id"], **{f"new_{n}": row[n] for n in changed}} for row in batch]
        session.execute(statement, params)


def _by_columns(rows: list[dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """The rows grouped by their keys, in order: rows built alike share one batch."""
    batches: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        batches[tuple(row)].append(row)
    return batches
