"""Reading statements: the statement-invoices that aggregation materializes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ar_sandbox.access import Principal
from ar_sandbox.aggregator import BILLABLE_TYPES
from ar_sandbox.models import Invoice, LedgerEntry
from ar_sandbox.schemas.common import Paging
from ar_sandbox.schemas.statements import StatementOut, StatementPage, StatementQuery
from ar_sandbox.services.common import (
    get_scoped,
    paginate,
    scoped_rows,
)

ALLOCATION_AND_BILLABLE = (*sorted(BILLABLE_TYPES), "payment_allocation")


def list_statements(
    session: Session, principal: Principal, wanted: StatementQuery, paging: Paging
) -> StatementPage:
    query = scoped_rows(Invoice, principal, wanted).where(Invoice.billing_type == "statement")
    if wanted.status is not None:
        query = query.where(Invoice.status == wanted.status)
    if wanted.from_date is not None:
        query = query.where(Invoice.period_start >= wanted.from_date)
    if (to_date := wanted.to_date) is not None:
        # period_start <= period_end, so this bound is implied; said outright, it closes
        # the index range, and a window reads its own periods, not every later one.
        query = query.where(Invoice.period_end <= to_date, Invoice.period_start <= to_date)
    query = query.order_by(Invoice.period_start.desc(), Invoice.created_at.desc(), Invoice.id)
    return paginate(session, query, paging, StatementPage, StatementOut.of)


def get_statement(session: Session, principal: Principal, statement_id: str) -> Invoice:
    return get_scoped(
        session, principal, Invoice, statement_id, "Statement", Invoice.billing_type == "statement"
    )


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
