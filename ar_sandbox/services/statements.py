"""Reading statements: the statement-invoices that aggregation materializes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ar_sandbox.access import Principal
from ar_sandbox.aggregator import BILLABLE_TYPES
from ar_sandbox.errors import not_found
from ar_sandbox.models import Invoice, LedgerEntry
from ar_sandbox.schemas.common import PageInfo
from ar_sandbox.services.common import in_scope, paginate, scoped_rows

ALLOCATION_AND_BILLABLE = (*sorted(BILLABLE_TYPES), "payment_allocation")


def list_statements(
    session: Session,
    principal: Principal,
    *,
    customer_id: str | None,
    customer_external_id: str | None,
    status: str | None,
    from_date: date | None,
    to_date: date | None,
    page: int,
    per_page: int,
) -> tuple[Sequence[Invoice], PageInfo]:
    query = scoped_rows(Invoice, principal, customer_id, customer_external_id).where(
        Invoice.billing_type == "statement"
    )
    if status is not None:
        query = query.where(Invoice.status == status)
    if from_date is not None:
        query = query.where(Invoice.period_start >= from_date)
    if to_date is not None:
        # period_start <= period_end, so this bound is implied; said outright, it closes
        # the index range, and a window reads its own periods, not every later one.
        query = query.where(Invoice.period_end <= to_date, Invoice.period_start <= to_date)
    query = query.order_by(Invoice.period_start.desc(), Invoice.created_at.desc(), Invoice.id)
    return paginate(session, query, page, per_page)


def get_statement(session: Session, principal: Principal, statement_id: str) -> Invoice:
    statement = session.scalar(
        select(Invoice).where(
            *in_scope(Invoice, principal),
            Invoice.id == statement_id,
            Invoice.billing_type == "statement",
        )
    )
    if statement is None:
        raise not_found("Statement")
    return statement


def statement_entries(session: Session, statement: Invoice) -> Sequence[LedgerEntry]:
    """The month's billable rows and the allocation rows to it, so they sum to outstanding."""
    query = (
        select(LedgerEntry)
        .where(
            LedgerEntry.invoice_id == statement.id,
            or_(*(LedgerEntry.transaction_type == t for t in ALLOCATION_AND_BILLABLE)),
        )
        .order_by(LedgerEntry.transaction_date, LedgerEntry.external_id)
    )
    return session.scalars(query).all()
