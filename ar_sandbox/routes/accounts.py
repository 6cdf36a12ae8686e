from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query
from sqlalchemy.orm import Session

from ar_sandbox.access import AccountsRead, AccountsWrite, DatabaseDep
from ar_sandbox.errors import ApiError, bad_request
from ar_sandbox.routes._shared import Page, QueryText, router
from ar_sandbox.schemas.accounts import AccountOut, AccountPage, InvoiceBulkRequest
from ar_sandbox.schemas.common import Envelope, UpsertCounts
from ar_sandbox.schemas.statements import (
    AccountAssignmentResult,
    AccountAssignRequest,
    AccountBulkAssignment,
    AccountBulkAssignRequest,
    EnrollmentResult,
    StatementEnrollment,
    StatementStatus,
)
from ar_sandbox.services import accounts, enrollment

api = router("accounts")


def _bulk(
    database: DatabaseDep, principal: AccountsWrite, body: InvoiceBulkRequest
) -> Envelope[UpsertCounts]:
    counts = database.run(lambda s: accounts.bulk_upsert(s, principal, body.invoices))
    return Envelope(message="Accounts processed", data=counts)


api.post("/accounts/bulk", summary="Bulk upsert up to 100 accounts (invoices) by external_id")(
    _bulk
)
api.post("/invoices/batch", summary="Alias for /accounts/bulk")(_bulk)


@api.get("/accounts", summary="List accounts (invoices), statements included")
def list_accounts(
    database: DatabaseDep,
    principal: AccountsRead,
    customer_id: UUID | None = None,
    customer_external_id: QueryText | None = None,
    status: Annotated[StatementStatus | None, Query()] = None,
    billing_type: Annotated[QueryText | None, Query(description="standard or statement")] = None,
    page: Page = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Envelope[AccountPage]:
    def work(session: Session) -> AccountPage:
        rows, info = accounts.list_accounts(
            session,
            principal,
            customer_id=str(customer_id) if customer_id else None,
            customer_external_id=customer_external_id,
            status=status,
            billing_type=billing_type,
            page=page,
            per_page=per_page,
        )
        return AccountPage(accounts=[AccountOut.of(r) for r in rows], **info.model_dump())

    return Envelope(message="Accounts retrieved", data=database.run(work))


@api.get("/accounts/{account_id}", summary="Get one account by UUID")
def get_account(
    database: DatabaseDep, principal: AccountsRead, account_id: UUID
) -> Envelope[AccountOut]:
    data = database.run(
        lambda s: AccountOut.of(accounts.get_account(s, principal, str(account_id)))
    )
    return Envelope(message="Account retrieved", data=data)


@api.post(
    "/accounts/{account_id}/campaign",
    summary="Assign a single account to a campaign",
    tags=["campaigns"],
)
def assign_account(
    database: DatabaseDep, principal: AccountsWrite, account_id: UUID, body: AccountAssignRequest
) -> Envelope[StatementEnrollment]:
    enrollment.refuse_test_keys(principal)

    def work(session: Session) -> StatementEnrollment:
        invoices = enrollment.lock_invoices(session, principal, [str(account_id)])
        invoice = invoices.get(str(account_id))
        if invoice is None:
            raise ApiError(404, enrollment.NOT_FOUND_MESSAGE)
        campaign = enrollment.open_campaign(session, principal, str(body.campaign_id), sa=False)
        try:
            enrollment.check_customer(invoice, str(body.customer_id) if body.customer_id else None)
            done = enrollment.enroll(session, principal, invoice, campaign)
        except enrollment.EnrollmentRefusedError as refused:
            raise bad_request(str(refused)) from refused
        result = EnrollmentResult(
            customer_id=invoice.customer_id, invoice_id=invoice.id, execution_id=done.execution.id
        )
        return StatementEnrollment(
            campaign_id=campaign.id, enrolled_count=1, skipped_count=0, results=[result]
        )

    return Envelope(message="Account assigned to campaign", data=database.run(work))


@api.post(
    "/accounts/campaign/bulk",
    summary="Bulk assign up to 100 accounts to a campaign",
    tags=["campaigns"],
    response_model_exclude_none=True,
)
def assign_accounts(
    database: DatabaseDep, principal: AccountsWrite, body: AccountBulkAssignRequest
) -> Envelope[AccountBulkAssignment]:
    enrollment.refuse_test_keys(principal)

    def work(session: Session) -> AccountBulkAssignment:
        campaign = enrollment.open_campaign(session, principal, str(body.campaign_id), sa=False)
        wanted = [str(i) for i in body.account_ids]
        invoices = enrollment.lock_invoices(session, principal, wanted)
        results: list[AccountAssignmentResult] = []
        for account_id in wanted:
            invoice = invoices.get(account_id)
            if invoice is None:
                results.append(
                    AccountAssignmentResult(
                        invoice_id=account_id, status="FAILED", error=enrollment.NOT_FOUND_MESSAGE
                    )
                )
                continue
            try:
                done = enrollment.enroll(session, principal, invoice, campaign)
            except enrollment.EnrollmentRefusedError as refused:
                results.append(
                    AccountAssignmentResult(
                        invoice_id=account_id,
                        invoice_number=invoice.invoice_number,
                        status="FAILED",
                        error=str(refused),
                    )
                )
                continue
            results.append(
                AccountAssignmentResult(
                    invoice_id=account_id,
                    invoice_number=invoice.invoice_number,
                    status="SUCCESS",
                    execution_id=done.execution.id,
                )
            )
        succeeded = sum(r.status == "SUCCESS" for r in results)
        return AccountBulkAssignment(
            campaign_id=campaign.id,
            total_enrollments=len(results),
            successful_enrollments=succeeded,
            failed_enrollments=len(results) - succeeded,
            results=results,
        )

    return Envelope(message="Campaign assignment processed", data=database.run(work))
