"""Accounts (invoices): bulk upsert, read; payments and disputes against them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, insert, select, update
from sqlalchemy.orm import Session

from ar_sandbox.access import Principal
from ar_sandbox.errors import ApiError, bad_request
from ar_sandbox.models import Dispute, Invoice, Payment, utcnow
from ar_sandbox.schemas.accounts import (
    AccountOut,
    AccountPage,
    AccountQuery,
    ByAccount,
    DisputeCreate,
    DisputeOut,
    DisputePage,
    InvoiceRecord,
    PaymentCreate,
    PaymentOut,
    PaymentPage,
)
from ar_sandbox.schemas.common import Paging, UpsertCounts
from ar_sandbox.services.common import (
    accept_records,
    file_against,
    filed_against,
    get_scoped,
    in_scope,
    new_row,
    paginate,
    refuse,
    scoped_rows,
    settle,
)

FiledT = TypeVar("FiledT", Payment, Dispute)


def today() -> date:
    return datetime.now(UTC).date()


def bulk_upsert(
    session: Session, principal: Principal, records: Sequence[InvoiceRecord]
) -> UpsertCounts:
    counts = UpsertCounts(total=len(records))
    accepted = accept_records(session, principal, records, counts)
    query = select(Invoice.external_id, Invoice).where(
        *in_scope(Invoice, principal),
        Invoice.external_id.in_([records[i].external_id for i, _ in accepted]),
    )
    existing = dict(session.execute(query).all())
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for index, customer in accepted:
        record = records[index]
        values = {
            "customer_id": customer,
            "invoice_number": record.invoice_number or record.external_id,
            "amount": record.amount,
            "currency": record.currency,
            "issue_date": record.issue_date,
            "due_date": record.due_date,
            "description": record.description,
            "updated_at": now,
        }
        stored = existing.get(record.external_id)
        if stored is None:
            inserts.append(
                new_row(
                    principal,
                    **values,
                    external_id=record.external_id,
                    billing_type="standard",
                    paid_amount=0,
                    status="not_assigned",
                    enrollment_status="not_enrolled",
                    source="api",
                    created_at=now,
                )
            )
        elif stored.billing_type == "statement":
            reason = "external_id belongs to a statement; statements change through ledger entries"
            refuse(counts, index, record, reason)
        elif record.amount < stored.paid_amount:
            reason = f"amount {record.amount} is below the {stored.paid_amount} already paid"
            refuse(counts, index, record, reason)
        else:
            updates.append({**values, "id": stored.id})
    if inserts:
        session.execute(insert(Invoice), inserts)
    if updates:
        session.execute(update(Invoice), updates)
    return settle(counts, len(inserts), len(updates))


def list_accounts(
    session: Session, principal: Principal, wanted: AccountQuery, paging: Paging
) -> AccountPage:
    query = scoped_rows(Invoice, principal, wanted)
    if wanted.status is not None:
        query = query.where(Invoice.status == wanted.status)
    if wanted.billing_type is not None:
        query = query.where(Invoice.billing_type == wanted.billing_type)
    query = query.order_by(Invoice.issue_date.desc(), Invoice.created_at.desc(), Invoice.id)
    return paginate(session, query, paging, AccountPage, AccountOut.of)


def get_account(session: Session, principal: Principal, account_id: str) -> Invoice:
    return get_scoped(session, principal, Invoice, account_id, "Account")


def _lock_account(session: Session, principal: Principal, account_id: str) -> Invoice:
    return get_scoped(session, principal, Invoice, account_id, "Account", lock=True)


def record_payment(
    session: Session, principal: Principal, account_id: str, body: PaymentCreate
) -> tuple[Payment, Invoice, bool]:
    """Apply a payment; returns (payment, account, created). Replays are idempotent."""
    account = _lock_account(session, principal, account_id)
    if account.billing_type == "statement":
        raise bad_request("Payments on statements are recorded as ledger entries (Ledgers API)")
    if body.external_id:
        previous = session.scalar(
            select(Payment).where(
                *in_scope(Payment, principal), Payment.external_id == body.external_id
            )
        )
        if previous is not None:
            if previous.invoice_id == account.id and previous.amount == body.amount:
                return previous, account, False
            raise ApiError(409, f"A payment with external_id {body.external_id!r} already exists")
    outstanding = account.amount - account.paid_amount
    if body.amount > outstanding:
        raise bad_request(
            f"Payment amount {body.amount} exceeds the outstanding balance {outstanding}"
        )
    payment = Payment(
        **filed_against(principal, account),
        external_id=body.external_id,
        amount=body.amount,
        payment_date=body.payment_date or today(),
        payment_method=body.payment_method,
        reference=body.reference,
        created_at=utcnow(),
    )
    session.add(payment)
    account.paid_amount = account.paid_amount + body.amount
    if account.paid_amount == account.amount:
        account.status = "paid_in_full"
    account.updated_at = utcnow()
    session.flush()
    return payment, account, True


def list_payments(
    session: Session, principal: Principal, wanted: ByAccount, paging: Paging
) -> PaymentPage:
    query = _filed_against(session, principal, Payment, wanted)
    query = query.order_by(Payment.payment_date.desc(), Payment.created_at.desc(), Payment.id)
    return paginate(session, query, paging, PaymentPage, PaymentOut.of)


def get_payment(session: Session, principal: Principal, payment_id: str) -> Payment:
    return get_scoped(session, principal, Payment, payment_id, "Payment")


def open_dispute(
    session: Session, principal: Principal, account_id: str, body: DisputeCreate
) -> tuple[Dispute, Invoice]:
    account = _lock_account(session, principal, account_id)
    if body.amount is not None and body.amount > account.amount:
        raise bad_request(
            f"Disputed amount {body.amount} exceeds the account amount {account.amount}"
        )
    dispute = file_against(
        session,
        principal,
        account,
        Dispute,
        reason=body.reason,
        description=body.description,
        amount=body.amount,
        status="open",
    )
    account.status = "disputed"
    session.flush()
    return dispute, account


def list_disputes(
    session: Session, principal: Principal, wanted: ByAccount, paging: Paging
) -> DisputePage:
    query = _filed_against(session, principal, Dispute, wanted)
    query = query.order_by(Dispute.created_at.desc(), Dispute.id)
    return paginate(session, query, paging, DisputePage, DisputeOut.of)


def _filed_against(
    session: Session, principal: Principal, model: type[FiledT], wanted: ByAccount
) -> Select[FiledT]:
    """The caller's payments or disputes, of one account if named (a 404 if it is not theirs)."""
    query = select(model).where(*in_scope(model, principal))
    if wanted.account_id is None:
        return query
    account = get_account(session, principal, str(wanted.account_id))
    return query.where(model.invoice_id == account.id)


def get_dispute(session: Session, principal: Principal, dispute_id: str) -> Dispute:
    return get_scoped(session, principal, Dispute, dispute_id, "Dispute")
