from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query
from sqlalchemy.orm import Session

from ar_sandbox.access import AccountsRead, AccountsWrite, Principal
from ar_sandbox.errors import ApiError
from ar_sandbox.routes._shared import PagingQuery, router
from ar_sandbox.schemas.accounts import AccountOut, AccountPage, AccountQuery, InvoiceBulkRequest
from ar_sandbox.schemas.common import Envelope, UpsertCounts
from ar_sandbox.schemas.statements import (
    AccountAssignmentResult,
    AccountAssignRequest,
    AccountBulkAssignment,
    AccountBulkAssignRequest,
    StatementEnrollment,
)
from ar_sandbox.services import accounts, enrollment

api = router("accounts")


def _bulk(caller: AccountsWrite, body: InvoiceBulkRequest) -> Envelope[UpsertCounts]:
    return caller.answer(
        "Accounts processed", lambda s, p: accounts.bulk_upsert(s, p, body.invoices)
    )


api.post("/accounts/bulk", summary="Bulk upsert up to 100 accounts (invoices) by external_id")(
    _bulk
)
api.post("/invoices/batch", summary="Alias for /accounts/bulk")(_bulk)


@api.get("/accounts", summary="List accounts (invoices), statements included")
def list_accounts(
    caller: AccountsRead, wanted: Annotated[AccountQuery, Query()], paging: PagingQuery
) -> Envelope[AccountPage]:
    return caller.listing("Accounts retrieved", accounts.list_accounts, wanted, paging)


@api.get("/accounts/{account_id}", summary="Get one account by UUID")
def get_account(caller: AccountsRead, account_id: UUID) -> Envelope[AccountOut]:
    return caller.fetch("Account retrieved", accounts.get_account, account_id, AccountOut.of)


@api.post(
    "/accounts/{account_id}/campaign",
    summary="Assign a single account to a campaign",
    tags=["campaigns"],
)
def assign_account(
    caller: AccountsWrite, account_id: UUID, body: AccountAssignRequest
) -> Envelope[StatementEnrollment]:
    enrollment.refuse_test_keys(caller.principal)

    def work(session: Session, principal: Principal) -> StatementEnrollment:
        invoices = enrollment.lock_invoices(session, principal, [str(account_id)])
        invoice = invoices.get(str(account_id))
        if invoice is None:
            raise ApiError(404, enrollment.NOT_FOUND_MESSAGE)
        customer_id = str(body.customer_id) if body.customer_id else None
        campaign_id = str(body.campaign_id)
        return enrollment.enroll_alone(
            session, principal, invoice, campaign_id, sa=False, customer_id=customer_id
        )

    return caller.answer("Account assigned to campaign", work)


@api.post(
    "/accounts/campaign/bulk",
    summary="Bulk assign up to 100 accounts to a campaign",
    tags=["campaigns"],
    response_model_exclude_none=True,
)
def assign_accounts(
    caller: AccountsWrite, body: AccountBulkAssignRequest
) -> Envelope[AccountBulkAssignment]:
    enrollment.refuse_test_keys(caller.principal)

    def work(session: Session, principal: Principal) -> AccountBulkAssignment:
        campaign = enrollment.open_campaign(session, principal, str(body.campaign_id), sa=False)
        wanted = [str(i) for i in body.account_ids]
        invoices = enrollment.lock_invoices(session, principal, wanted)
        attempts = enrollment.enroll_each(session, principal, campaign, wanted, invoices)
        results = [_assignment(attempt) for attempt in attempts]
        succeeded = sum(r.status == "SUCCESS" for r in results)
        return AccountBulkAssignment(
            campaign_id=campaign.id,
            total_enrollments=len(results),
            successful_enrollments=succeeded,
            failed_enrollments=len(results) - succeeded,
            results=results,
        )

    return caller.answer("Campaign assignment processed", work)


def _assignment(attempt: enrollment.Attempt) -> AccountAssignmentResult:
    """How the bulk assignment reports one of its accounts."""
    if attempt.invoice is None:
        return AccountAssignmentResult(
            invoice_id=attempt.invoice_id, status="FAILED", error=enrollment.NOT_FOUND_MESSAGE
        )
    number = attempt.invoice.invoice_number
    if attempt.execution is None:
        return AccountAssignmentResult(
            invoice_id=attempt.invoice_id,
            invoice_number=number,
            status="FAILED",
            error=attempt.refusal,
        )
    return AccountAssignmentResult(
        invoice_id=attempt.invoice_id,
        invoice_number=number,
        status="SUCCESS",
        execution_id=attempt.execution.id,
    )
