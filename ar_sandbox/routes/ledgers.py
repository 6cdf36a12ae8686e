from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import Query
from sqlalchemy.orm import Session

from ar_sandbox.access import DatabaseDep, LedgersRead, LedgersWrite
from ar_sandbox.routes._shared import Page, QueryText, router
from ar_sandbox.schemas.common import Envelope
from ar_sandbox.schemas.ledgers import (
    LedgerBulkRequest,
    LedgerEntryOut,
    LedgerPage,
    LedgerPushResult,
    ListedType,
)
from ar_sandbox.services import ledgers
from ar_sandbox.services.common import LockPlan

api = router("ledgers")


def _push(
    database: DatabaseDep, principal: LedgersWrite, body: LedgerBulkRequest
) -> Envelope[LedgerPushResult]:
    locks = LockPlan()  # outlives a restart of the transaction
    result = database.run(lambda s: ledgers.push_entries(s, principal, body.ledger_entries, locks))
    return Envelope(message="Ledger entries processed", data=result)


api.post(
    "/ledgers/bulk",
    summary="Bulk upsert up to 500 ledger entries by external_id, then re-aggregate statements",
)(_push)
api.post("/ledgers/batch", summary="Alias for /ledgers/bulk")(_push)


@api.get("/ledgers", summary="List ledger entries (transaction_date DESC, created_at DESC)")
def list_ledger_entries(
    database: DatabaseDep,
    principal: LedgersRead,
    customer_id: UUID | None = None,
    customer_external_id: QueryText | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
    transaction_type: Annotated[ListedType | None, Query()] = None,
    page: Page = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Envelope[LedgerPage]:
    def work(session: Session) -> LedgerPage:
        rows, info = ledgers.list_entries(
            session,
            principal,
            customer_id=str(customer_id) if customer_id else None,
            customer_external_id=customer_external_id,
            from_date=from_date,
            to_date=to_date,
            transaction_type=transaction_type,
            page=page,
            per_page=per_page,
        )
        return LedgerPage(entries=[LedgerEntryOut.of(r) for r in rows], **info.model_dump())

    return Envelope(message="Ledger entries retrieved", data=database.run(work))


@api.get("/ledgers/{ledger_id}", summary="Get one ledger entry by internal UUID")
def get_ledger_entry(
    database: DatabaseDep, principal: LedgersRead, ledger_id: UUID
) -> Envelope[LedgerEntryOut]:
    entry = database.run(
        lambda s: LedgerEntryOut.of(ledgers.get_entry(s, principal, str(ledger_id)))
    )
    return Envelope(message="Ledger entry retrieved", data=entry)
