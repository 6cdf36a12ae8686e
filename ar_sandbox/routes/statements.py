from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import Query
from sqlalchemy.orm import Session

from ar_sandbox.access import DatabaseDep, StatementsRead, StatementsWrite
from ar_sandbox.errors import bad_request
from ar_sandbox.routes._shared import Page, QueryText, router
from ar_sandbox.schemas.common import Envelope
from ar_sandbox.schemas.ledgers import LedgerEntryOut
from ar_sandbox.schemas.statements import (
    EnrollmentResult,
    SkippedStatement,
    StatementBulkEnrollRequest,
    StatementDetail,
    StatementEnrollment,
    StatementOut,
    StatementPage,
    StatementStatus,
)
from ar_sandbox.services import enrollment, statements

api = router("statements")


@api.get("/statements", summary="List statement-invoices (period_start DESC, created_at DESC)")
def list_statements(
    database: DatabaseDep,
    principal: StatementsRead,
    customer_id: UUID | None = None,
    customer_external_id: QueryText | None = None,
    status: Annotated[StatementStatus | None, Query()] = None,
    from_date: Annotated[
        date | None, Query(description="Inclusive lower bound on period_start")
    ] = None,
    to_date: Annotated[
        date | None, Query(description="Inclusive upper bound on period_end")
    ] = None,
    page: Page = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Envelope[StatementPage]:
    def work(session: Session) -> StatementPage:
        rows, info = statements.list_statements(
            session,
            principal,
            customer_id=str(customer_id) if customer_id else None,
            customer_external_id=customer_external_id,
            status=status,
            from_date=from_date,
            to_date=to_date,
            page=page,
            per_page=per_page,
        )
        return StatementPage(statements=[StatementOut.of(r) for r in rows], **info.model_dump())

    return Envelope(message="Statements retrieved", data=database.run(work))


@api.get(
    "/statements/{statement_id}",
    summary="Get one statement, with the ledger rows that compose it",
    response_model_exclude_none=False,
)
def get_statement(
    database: DatabaseDep,
    principal: StatementsRead,
    statement_id: UUID,
    include_entries: bool = True,
) -> Envelope[StatementDetail]:
    def work(session: Session) -> StatementDetail:
        statement = statements.get_statement(session, principal, str(statement_id))
        entries = None
        if include_entries:
            entries = [
                LedgerEntryOut.of(e) for e in statements.statement_entries(session, statement)
            ]
        return StatementDetail(**StatementOut.fields_of(statement), entries=entries)

    return Envelope(message="Statement retrieved", data=database.run(work))


@api.post(
    "/statements/{statement_id}/campaign",
    summary="Enroll one statement into a Statement-Acknowledgement campaign",
    response_model_exclude_none=True,
)
def enroll_statement(
    database: DatabaseDep,
    principal: StatementsWrite,
    statement_id: UUID,
    campaign_id: Annotated[UUID, Query(description="Target SA campaign UUID")],
) -> Envelope[StatementEnrollment]:
    enrollment.refuse_test_keys(principal)

    def work(session: Session) -> StatementEnrollment:
        statement = statements.get_statement(session, principal, str(statement_id))
        campaign = enrollment.open_campaign(session, principal, str(campaign_id), sa=True)
        statement = enrollment.lock_invoices(session, principal, [statement.id])[statement.id]
        try:
            done = enrollment.enroll(session, principal, statement, campaign)
        except enrollment.EnrollmentRefusedError as refused:
            raise bad_request(str(refused)) from refused
        result = EnrollmentResult(
            customer_id=statement.customer_id,
            invoice_id=statement.id,
            execution_id=done.execution.id,
        )
        return StatementEnrollment(
            campaign_id=campaign.id, enrolled_count=1, skipped_count=0, results=[result]
        )

    return Envelope(message="Statement enrolled in campaign", data=database.run(work))


@api.post(
    "/statements/campaign/bulk",
    summary="Bulk-enroll up to 100 statements into one SA campaign",
    response_model_exclude_none=True,
)
def enroll_statements(
    database: DatabaseDep, principal: StatementsWrite, body: StatementBulkEnrollRequest
) -> Envelope[StatementEnrollment]:
    enrollment.refuse_test_keys(principal)

    def work(session: Session) -> StatementEnrollment:
        campaign = enrollment.open_campaign(session, principal, str(body.campaign_id), sa=True)
        wanted = list(dict.fromkeys(str(i) for i in body.statement_ids))
        found = {
            i: s
            for i, s in enrollment.lock_invoices(session, principal, wanted).items()
            if s.billing_type == "statement"
        }
        if not found:
            raise bad_request("No valid statements in batch")
        results: list[EnrollmentResult] = []
        skipped: list[SkippedStatement] = []
        for statement_id in wanted:
            statement = found.get(statement_id)
            if statement is None:
                skipped.append(
                    SkippedStatement(statement_id=statement_id, error="Statement not found")
                )
                continue
            try:
                done = enrollment.enroll(session, principal, statement, campaign)
            except enrollment.EnrollmentRefusedError as refused:
                skipped.append(SkippedStatement(statement_id=statement_id, error=str(refused)))
                continue
            results.append(
                EnrollmentResult(
                    customer_id=statement.customer_id,
                    invoice_id=statement.id,
                    execution_id=done.execution.id,
                )
            )
        return StatementEnrollment(
            campaign_id=campaign.id,
            enrolled_count=len(results),
            skipped_count=len(skipped),
            results=results,
            skipped_errors=skipped or None,
        )

    data = database.run(work)
    return Envelope(message=f"{data.enrolled_count} statements enrolled in campaign", data=data)
