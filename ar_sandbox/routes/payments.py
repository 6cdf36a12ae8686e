from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query
from sqlalchemy.orm import Session

from ar_sandbox.access import DatabaseDep, DisputesRead, DisputesWrite, PaymentsRead, PaymentsWrite
from ar_sandbox.routes._shared import CONFLICT_RESPONSES, Page, router
from ar_sandbox.schemas.accounts import (
    AccountOut,
    DisputeCreate,
    DisputeOpened,
    DisputeOut,
    DisputePage,
    PaymentCreate,
    PaymentOut,
    PaymentPage,
    PaymentRecorded,
)
from ar_sandbox.schemas.common import Envelope
from ar_sandbox.services import accounts

api = router("payments")
disputes_api = router("disputes")

PerPage = Annotated[int, Query(ge=1, le=100)]


@api.post(
    "/accounts/{account_id}/payments",
    summary="Record a payment against an account",
    responses=CONFLICT_RESPONSES,
)
def record_payment(
    database: DatabaseDep, principal: PaymentsWrite, account_id: UUID, body: PaymentCreate
) -> Envelope[PaymentRecorded]:
    def work(session: Session) -> tuple[PaymentRecorded, bool]:
        payment, account, created = accounts.record_payment(
            session, principal, str(account_id), body
        )
        return PaymentRecorded(
            payment=PaymentOut.of(payment), account=AccountOut.of(account)
        ), created

    data, created = database.run(work)
    message = "Payment recorded" if created else "Payment already recorded"
    return Envelope(message=message, data=data)


@api.get("/accounts/{account_id}/payments", summary="List an account's payments")
def list_account_payments(
    database: DatabaseDep,
    principal: PaymentsRead,
    account_id: UUID,
    page: Page = 1,
    per_page: PerPage = 20,
) -> Envelope[PaymentPage]:
    return _payments(database, principal, str(account_id), page, per_page)


@api.get("/payments", summary="List payments")
def list_payments(
    database: DatabaseDep,
    principal: PaymentsRead,
    account_id: UUID | None = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> Envelope[PaymentPage]:
    return _payments(database, principal, str(account_id) if account_id else None, page, per_page)


def _payments(
    database: DatabaseDep, principal: PaymentsRead, account_id: str | None, page: int, per_page: int
) -> Envelope[PaymentPage]:
    def work(session: Session) -> PaymentPage:
        rows, info = accounts.list_payments(
            session, principal, account_id=account_id, page=page, per_page=per_page
        )
        return PaymentPage(payments=[PaymentOut.of(r) for r in rows], **info.model_dump())

    return Envelope(message="Payments retrieved", data=database.run(work))


@api.get("/payments/{payment_id}", summary="Get one payment")
def get_payment(
    database: DatabaseDep, principal: PaymentsRead, payment_id: UUID
) -> Envelope[PaymentOut]:
    data = database.run(
        lambda s: PaymentOut.of(accounts.get_payment(s, principal, str(payment_id)))
    )
    return Envelope(message="Payment retrieved", data=data)


@disputes_api.post("/accounts/{account_id}/disputes", summary="Open a dispute on an account")
def open_dispute(
    database: DatabaseDep, principal: DisputesWrite, account_id: UUID, body: DisputeCreate
) -> Envelope[DisputeOpened]:
    def work(session: Session) -> DisputeOpened:
        dispute, account = accounts.open_dispute(session, principal, str(account_id), body)
        return DisputeOpened(dispute=DisputeOut.of(dispute), account=AccountOut.of(account))

    return Envelope(message="Dispute created", data=database.run(work))


@disputes_api.get("/accounts/{account_id}/disputes", summary="List an account's disputes")
def list_account_disputes(
    database: DatabaseDep,
    principal: DisputesRead,
    account_id: UUID,
    page: Page = 1,
    per_page: PerPage = 20,
) -> Envelope[DisputePage]:
    return _disputes(database, principal, str(account_id), page, per_page)


@disputes_api.get("/disputes", summary="List disputes")
def list_disputes(
    database: DatabaseDep,
    principal: DisputesRead,
    account_id: UUID | None = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> Envelope[DisputePage]:
    return _disputes(database, principal, str(account_id) if account_id else None, page, per_page)


def _disputes(
    database: DatabaseDep, principal: DisputesRead, account_id: str | None, page: int, per_page: int
) -> Envelope[DisputePage]:
    def work(session: Session) -> DisputePage:
        rows, info = accounts.list_disputes(
            session, principal, account_id=account_id, page=page, per_page=per_page
        )
        return DisputePage(disputes=[DisputeOut.of(r) for r in rows], **info.model_dump())

    return Envelope(message="Disputes retrieved", data=database.run(work))


@disputes_api.get("/disputes/{dispute_id}", summary="Get one dispute")
def get_dispute(
    database: DatabaseDep, principal: DisputesRead, dispute_id: UUID
) -> Envelope[DisputeOut]:
    data = database.run(
        lambda s: DisputeOut.of(accounts.get_dispute(s, principal, str(dispute_id)))
    )
    return Envelope(message="Dispute retrieved", data=data)
