from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query
from sqlalchemy.orm import Session

from ar_sandbox.access import Principal, StatementsRead, StatementsWrite
from ar_sandbox.errors import bad_request
from ar_sandbox.routes._shared import PagingQuery, router
from ar_sandbox.schemas.common import Envelope
from ar_sandbox.schemas.ledgers import LedgerEntryOut
from ar_sandbox.schemas.statements import (
    EnrollmentResult,
    SkippedStatement,
    StatementBulkEnrollRequest,
    StatementDetail,
    StatementEnrollment,
    StatementPage,
    StatementQuery,
)
from ar_sandbox.services import enrollment, statements

api = router("statements")


@api.get("/statements", summary="List statement-invoices (period_start DESC, created_at DESC)")
def list_statements(
    caller: StatementsRead, wanted: Annotated[StatementQuery, Query()], paging: PagingQuery
) -> Envelope[StatementPage]:
    return caller.listing("Statements retrieved", statements.list_statements, wanted, paging)


@api.get(
    "/statements/{statement_id}",
    summary="Get one statement, with the ledger rows that compose it",
    response_model_exclude_none=False,
)
def get_statement(
    caller: StatementsRead, statement_id: UUID, include_entries: bool = True
) -> Envelope[StatementDetail]:
    def work(session: Session, principal: Principal) -> StatementDetail:
        statement = statements.get_statement(session, principal, str(statement_id))
        entries = None
        if include_entries:
            entries = [
                LedgerEntryOut.of(e) for e in statements.statement_entries(session, statement)
            ]
        return StatementDetail.of(statement, entries=entries)

    return caller.answer("Statement retrieved", work)


@api.post(
    "/statements/{statement_id}/campaign",
    summary="Enroll one statement into a Statement-Acknowledgement campaign",
    response_model_exclude_none=True,
)
def enroll_statement(
    caller: StatementsWrite,
    statement_id: UUID,
    campaign_id: Annotated[UUID, Query(description="Target SA campaign UUID")],
) -> Envelope[StatementEnrollment]:
    enrollment.refuse_test_keys(caller.principal)

    def work(session: Session, principal: Principal) -> StatementEnrollment:
        found = statements.get_statement(session, principal, str(statement_id))
        statement = enrollment.lock_invoices(session, principal, [found.id])[found.id]
        return enrollment.enroll_alone(session, principal, statement, str(campaign_id), sa=True)

    return caller.answer("Statement enrolled in campaign", work)


@api.post(
    "/statements/campaign/bulk",
    summary="Bulk-enroll up to 100 statements into one SA campaign",
    response_model_exclude_none=True,
)
def enroll_statements(
    caller: StatementsWrite, body: StatementBulkEnrollRequest
) -> Envelope[StatementEnrollment]:
    enrollment.refuse_test_keys(caller.principal)

    def work(session: Session, principal: Principal) -> StatementEnrollment:
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
        for attempt in enrollment.enroll_each(session, principal, campaign, wanted, found):
            if attempt.execution is not None:
                results.append(EnrollmentResult.of(attempt.execution))
            else:
                error = "Statement not found" if attempt.invoice is None else attempt.refusal
                skipped.append(SkippedStatement(statement_id=attempt.invoice_id, error=error))
        return StatementEnrollment(
            campaign_id=campaign.id,
            enrolled_count=len(results),
            skipped_count=len(skipped),
            results=results,
            skipped_errors=skipped or None,
        )

    data = caller.run(work)
    return Envelope(message=f"{data.enrolled_count} statements enrolled in campaign", data=data)
