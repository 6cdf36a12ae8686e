"""Sandbox-only routes (not part of AR): drive campaign executions forward in tests."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import Query
from sqlalchemy.orm import Session

from ar_sandbox.access import AnyKey, Principal
from ar_sandbox.routes._shared import router
from ar_sandbox.schemas.common import Envelope
from ar_sandbox.schemas.statements import AdvanceResult, ExecutionOut
from ar_sandbox.services import enrollment

api = router("sandbox")


@api.get("/executions", summary="List campaign executions (sandbox only)")
def list_executions(caller: AnyKey, invoice_id: UUID | None = None) -> Envelope[list[ExecutionOut]]:
    return caller.read(
        "Executions retrieved",
        lambda s, p: [
            ExecutionOut.of(e)
            for e in enrollment.list_executions(s, p, str(invoice_id) if invoice_id else None)
        ],
    )


@api.post("/executions/{execution_id}/advance", summary="Advance an execution (sandbox only)")
def advance_execution(
    caller: AnyKey,
    execution_id: UUID,
    to: Annotated[Literal["running", "waiting", "completed"] | None, Query()] = None,
) -> Envelope[AdvanceResult]:
    def work(session: Session, principal: Principal) -> AdvanceResult:
        execution, invoice, follow_up = enrollment.advance_execution(
            session, principal, str(execution_id), to
        )
        return AdvanceResult(
            execution=ExecutionOut.of(execution),
            invoice_status=invoice.status,
            next_execution=ExecutionOut.of(follow_up) if follow_up else None,
        )

    return caller.answer("Execution advanced", work)
