from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query
from sqlalchemy.orm import Session

from ar_sandbox.access import DisputesRead, DisputesWrite, PaymentsRead, PaymentsWrite, Principal
from ar_sandbox.routes._shared import CONFLICT_RESPONSES, PagingQuery, router
from ar_sandbox.schemas.accounts import (
    AccountOut,
    ByAccount,
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


@api.post(
    "/accounts/{account_id}/payments",
    summary="Record a payment against an account",
    responses=CONFLICT_RESPONSES,
)
def record_payment(
    caller: PaymentsWrite, account_id: UUID, body: PaymentCreate
) -> Envelope[PaymentRecorded]:
    def work(session: Session, principal: Principal) -> tuple[PaymentRecorded, bool]:
        payment, account, created = accounts.record_payment(
            session, principal, str(account_id), body
        )
        return PaymentRecorded(
            payment=PaymentOut.of(payment), account=AccountOut.of(account)
        ), created

    data, created = caller.run(work)
    message = "Payment recorded" if created else "Payment already recorded"
    return Envelope(message=message, data=data)


@api.get("/accounts/{account_id}/payments", summary="List an account's payments")
def list_account_payments(
    caller: PaymentsRead, account_id: UUID, paging: PagingQuery
) -> Envelope[PaymentPage]:
    return list_payments(caller, ByAccount(account_id=account_id), paging)


@api.get("/payments", summary="List payments")
def list_payments(
    caller: PaymentsRead, wanted: Annotated[ByAccount, Query()], paging: PagingQuery
) -> Envelope[PaymentPage]:
    return caller.listing("Payments retrieved", accounts.list_payments, wanted, paging)


@api.get("/payments/{payment_id}", summary="Get one payment")
def get_payment(caller: PaymentsRead, payment_id: UUID) -> Envelope[PaymentOut]:
    return caller.fetch("Payment retrieved", accounts.get_payment, payment_id, PaymentOut.of)


@disputes_api.post("/accounts/{account_id}/disputes", summary="Open a dispute on an account")
def open_dispute(
    caller: DisputesWrite, account_id: UUID, body: DisputeCreate
) -> Envelope[DisputeOpened]:
    def work(session: Session, principal: Principal) -> DisputeOpened:
        dispute, account = accounts.open_dispute(session, principal, str(account_id), body)
        return DisputeOpened(dispute=DisputeOut.of(dispute), account=AccountOut.of(account))

    return caller.answer("Dispute created", work)


@disputes_api.get("/accounts/{account_id}/disputes", summary="List an account's disputes")
def list_account_disputes(
    caller: DisputesRead, account_id: UUID, paging: PagingQuery
) -> Envelope[DisputePage]:
    return list_disputes(caller, ByAccount(account_id=account_id), paging)


@disputes_api.get("/disputes", summary="List disputes")
def list_disputes(
    caller: DisputesRead, wanted: Annotated[ByAccount, Query()], paging: PagingQuery
) -> Envelope[DisputePage]:
    return caller.listing("Disputes retrieved", accounts.list_disputes, wanted, paging)


@disputes_api.get("/disputes/{dispute_id}", summary="Get one dispute")
def get_dispute(caller: DisputesRead, dispute_id: UUID) -> Envelope[DisputeOut]:
    return caller.fetch("Dispute retrieved", accounts.get_dispute, dispute_id, DisputeOut.of)
