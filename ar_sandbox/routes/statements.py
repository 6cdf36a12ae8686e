from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query
from sqlalchemy.orm import Session

from ar_sandbox.access import Principal, StatementsRead, StatementsWrite
from ar_sandbox.routes._shared import router
from ar_sandbox.schemas.common import Envelope
from ar_sandbox.schemas.ledgers import LedgerEntryOut
from ar_sandbox.schemas.statements import (
    StatementBulkEnrollRequest,
    StatementDetail,
    StatementEnrollment,
    StatementPage,
    StatementQuery,
)
from ar_sandbox.services import enrollment, statements

api = router("statements")
api.reads(StatementsRead, "Statement", "Statements").list_route(
    "/statements",
    "List statement-invoices (period_start DESC, created_at DESC)",
    StatementQuery,
    StatementPage,
    statements.list_statements,
)


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

    return caller.read("Statement retrieved", work)


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
    return caller.answer(
        "Statement enrolled in campaign",
        lambda s, p: enrollment.enroll_statement(s, p, str(statement_id), str(campaign_id)),
    )


@api.post(
    "/statements/campaign/bulk",
    summary="Bulk-enroll up to 100 statements into one SA campaign",
    response_model_exclude_none=True,
)
def enroll_statements(
    caller: StatementsWrite, body: StatementBulkEnrollRequest
) -> Envelope[StatementEnrollment]:
    data = caller.run(lambda s, p: enrollment.enroll_statements(s, p, body))
    return Envelope(message=f"{data.enrolled_count} statements enrolled in campaign", data=data)
