from __future__ import annotations

from uuid import UUID

from sqlalchemy.orm import Session

from ar_sandbox.access import DisputesRead, DisputesWrite, PaymentsRead, PaymentsWrite, Principal
from ar_sandbox.routes._shared import CONFLICT_RESPONSES, router
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


api.reads(PaymentsRead, "Payment", "Payments").filed_routes(
    PaymentPage, PaymentOut, accounts.list_payments, accounts.get_payment
)


@disputes_api.post("/accounts/{account_id}/disputes", summary="Open a dispute on an account")
def open_dispute(
    caller: DisputesWrite, account_id: UUID, body: DisputeCreate
) -> Envelope[DisputeOpened]:
    def work(session: Session, principal: Principal) -> DisputeOpened:
        dispute, account = accounts.open_dispute(session, principal, str(account_id), body)
        return DisputeOpened(dispute=DisputeOut.of(dispute), account=AccountOut.of(account))

    return caller.answer("Dispute created", work)


disputes_api.reads(DisputesRead, "Dispute", "Disputes").filed_routes(
    DisputePage, DisputeOut, accounts.list_disputes, accounts.get_dispute
)
