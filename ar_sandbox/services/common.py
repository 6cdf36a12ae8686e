"""Pieces every service uses: scoping, paging, customer references, locking."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import ARRAY, ColumnElement, Select, any_, bindparam, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ar_sandbox.access import Principal
from ar_sandbox.db import RestartTransaction
from ar_sandbox.errors import not_found
from ar_sandbox.models import CampaignExecution, Customer, Dispute, Invoice, new_id, utcnow
from ar_sandbox.schemas.common import (
    ByCustomer,
    CustomerRecord,
    ItemPage,
    PageInfo,
    Paging,
    RecordError,
    UpsertCounts,
)

RowT = TypeVar("RowT")
PageT = TypeVar("PageT", bound=ItemPage)
# The timestamped rows filed against an invoice.
FiledT = TypeVar("FiledT", Dispute, CampaignExecution)


def in_scope(model: type[Any], principal: Principal) -> list[ColumnElement[bool]]:
    """The company-and-mode filter that every query of business rows carries."""
    return [model.company_id == principal.company_id, model.mode == principal.mode]


def new_row(principal: Principal, **values: Any) -> dict[str, Any]:
    """The values of a new business row: a fresh id, in the caller's company and mode."""
    return {**values, "id": new_id(), "company_id": principal.company_id, "mode": principal.mode}


def filed_against(principal: Principal, invoice: Invoice) -> dict[str, Any]:
    """A new row filed against ``invoice`` (a payment, a dispute, a campaign execution),
    which belongs to the invoice's customer."""
    return new_row(principal, invoice_id=invoice.id, customer_id=invoice.customer_id)


def file_against(
    session: Session,
    principal: Principal,
    invoice: Invoice,
    model: type[FiledT],
    **values: Any,
) -> FiledT:
    """Add a new ``model`` row filed against ``invoice`` (see ``filed_against``), created
    now, and mark the invoice updated at the same instant. The caller moves the invoice
    on (its status) and flushes."""
    now = utcnow()
    row = model(**filed_against(principal, invoice), **values, created_at=now, updated_at=now)
    session.add(row)
    invoice.updated_at = now
    return row


def one_of(
    session: Session, column: InstrumentedAttribute[str], values: Sequence[str]
) -> ColumnElement[bool]:
    """``column IN (values)``, as ``column = ANY(:values)`` on Postgres.

    An IN list costs one placeholder per value, which SQLAlchemy renders and psycopg
    parses again on every execution (psycopg caches the parsing of short queries only);
    one array parameter keeps the query short and the same whatever the number of values.
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def get_scoped(
    session: Session,
    principal: Principal,
    model: type[RowT],
    row_id: str,
    what: str,
    *conditions: ColumnElement[bool],
    lock: bool = False,
) -> RowT:
    """The row of ``model`` with ``row_id`` in the caller's company and mode, or a 404.

    Another company's or mode's row is a 404 too: its existence is not revealed, and
    neither is that of a row that fails the further ``conditions`` (a deleted customer,
    an account asked for as a statement).
    """
    query = select(model).where(*in_scope(model, principal), model.id == row_id, *conditions)  # type: ignore[attr-defined]
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise not_found(what)
    return row


def scoped_rows(model: type[RowT], principal: Principal, by: ByCustomer) -> Select[RowT]:
    """``select(model)`` within the caller's company and mode, for one customer if named.

    A customer's rows share its company and mode, so when a customer is named the
    scope goes through it: the planner then reads that customer's rows by index
    instead of scanning the whole company's.
    """
    query = select(model)
    if by.customer_id is None and by.customer_external_id is None:
        return query.where(*in_scope(model, principal))
    customers = select(Customer.id).where(*in_scope(Customer, principal))
    if by.customer_id is not None:
        customers = customers.where(Customer.id == str(by.customer_id))
    if by.customer_external_id is not None:
        customers = customers.where(Customer.external_id == by.customer_external_id)
    return query.where(model.customer_id.in_(customers))  # type: ignore[attr-defined]


def paginate(
    session: Session,
    query: Select[RowT],
    paging: Paging,
    page_type: type[PageT],
    item: Callable[[RowT], Any],
) -> PageT:
    """The page of ``query``'s rows that ``paging`` asks for, each made an item by ``item``."""
    page, per_page = paging.page, paging.per_page
    offset = (page - 1) * per_page
    rows: Sequence[RowT] = []
    total: int | None = None
    if page == 1:
        rows = session.scalars(query.limit(per_page)).all()
        if len(rows) < per_page:
            # A first page that is not full holds every row: no count needed (most
            # listings of one customer's rows are that short).
            total = len(rows)
    if total is None:
        total = (
            session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        )
        if page > 1 and offset < total:  # never hand the database an offset past the end
            rows = session.scalars(query.offset(offset).limit(per_page)).all()
    info = PageInfo(
        total=total, page=page, per_page=per_page, total_pages=math.ceil(total / per_page)
    )
    return page_type.of([item(row) for row in rows], info)


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class CustomerRef:
    customer_id: str | None
    customer_external_id: str | None


def resolve_customers(
    session: Session, principal: Principal, refs: Sequence[CustomerRef]
) -> list[str | Exception]:
    """Each reference's customer id, or the reason it does not resolve.

    Two queries for any number of references. Deleted customers, and customers of
    another company or mode, do not resolve (their existence is not revealed).
    """
    ids = {r.customer_id for r in refs if r.customer_id}
    external_ids = {r.customer_external_id for r in refs if r.customer_external_id}
    live = [*in_scope(Customer, principal), Customer.deleted_at.is_(None)]
    by_id: set[str] = set()
    by_external: dict[str, str] = {}
    for chunk in _chunks(sorted(ids), 500):
        by_id.update(session.scalars(select(Customer.id).where(*live, Customer.id.in_(chunk))))
    for chunk in _chunks(sorted(external_ids), 500):
        query = select(Customer.external_id, Customer.id).where(
            *live, Customer.external_id.in_(chunk)
        )
        by_external.update({ext: cid for ext, cid in session.execute(query) if ext})
    resolved: list[str | Exception] = []
    for ref in refs:
        from_id = ref.customer_id if ref.customer_id in by_id else None
        from_external = by_external.get(ref.customer_external_id or "")
        if ref.customer_id and from_id is None:
            resolved.append(LookupError(f"Customer {ref.customer_id} not found"))
        elif ref.customer_external_id and from_external is None:
            resolved.append(
                LookupError(f"Customer with external_id {ref.customer_external_id!r} not found")
            )
        elif from_id and from_external and from_id != from_external:
            resolved.append(
                LookupError("customer_id and customer_external_id name different customers")
            )
        else:
            resolved.append(from_id or from_external or LookupError("Customer not found"))
    return resolved


def accept_records(
    session: Session,
    principal: Principal,
    records: Sequence[CustomerRecord],
    counts: UpsertCounts,
) -> list[tuple[int, str]]:
    """The records a bulk upsert goes on with, as (index, customer id).

    The last occurrence of an ``external_id`` wins and earlier ones count as
    skipped; a record whose customer does not resolve is a per-record failure.
    """
    keep, duplicates = last_occurrences([r.external_id for r in records])
    counts.skipped = len(duplicates)
    refs = [
        CustomerRef(
            str(records[i].customer_id) if records[i].customer_id else None,
            records[i].customer_external_id,
        )
        for i in keep
    ]
    accepted: list[tuple[int, str]] = []
    for index, customer in zip(keep, resolve_customers(session, principal, refs), strict=True):
        if isinstance(customer, Exception):
            refuse(counts, index, records[index], str(customer))
        else:
            accepted.append((index, customer))
    return accepted


def refuse(counts: UpsertCounts, index: int, record: CustomerRecord, reason: str) -> None:
    """Count the record at ``index`` of a bulk upsert as failed, for ``reason``."""
    counts.errors.append(RecordError(index=index, external_id=record.external_id, error=reason))


def settle(counts: UpsertCounts, created: int, updated: int) -> UpsertCounts:
    """The counts of a bulk upsert whose writes are planned, errors in record order."""
    counts.created, counts.updated = created, updated
    counts.failed = len(counts.errors)
    counts.errors.sort(key=lambda e: e.index)
    return counts


def last_occurrences(keys: Sequence[str]) -> tuple[list[int], list[int]]:
    """Indexes of the last occurrence of each key, and of the earlier duplicates."""
    last: dict[str, int] = {}
    for index, key in enumerate(keys):
        last[key] = index
    keep = sorted(last.values())
    kept = set(keep)
    return keep, [i for i in range(len(keys)) if i not in kept]


@dataclass
class LockPlan:
    """What one request learned about the customer locks it needs, across restarts."""

    customers: set[str] = field(default_factory=set)
    restarts: int = 0
    MAX_RESTARTS = 3

    def take_more(self, session: Session, held: set[str], more: set[str]) -> None:
        """Lock ``more`` as well as ``held``, in order, restarting when order would break."""
        self.customers |= more
        in_order = max(held, default="") < min(more)
        if not in_order and self.restarts < self.MAX_RESTARTS:
            self.restarts += 1
            raise RestartTransaction
        # After the held locks in id order, or out of order after enough restarts:
        # then a deadlock is possible, and the database detects it and we retry.
        held |= more
        lock_customers(session, more)


def lock_customers(session: Session, customer_ids: Iterable[str]) -> None:
    """Serialize writers per customer on databases with row locks (Postgres).

    Locks are taken in id order, so two pushes never wait on each other in a cycle.
    SQLite needs nothing here: ``BEGIN IMMEDIATE`` already serializes writers.
    """
    if session.get_bind().dialect.name == "sqlite":
        return
    for chunk in _chunks(sorted(set(customer_ids)), 500):
        session.execute(
            select(Customer.id)
            .where(Customer.id.in_(chunk))
            .order_by(Customer.id)
            .with_for_update()
        ).all()


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
