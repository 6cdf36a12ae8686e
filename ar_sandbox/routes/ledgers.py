from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query

from ar_sandbox.access import LedgersRead, LedgersWrite
from ar_sandbox.routes._shared import router
from ar_sandbox.schemas.common import Envelope
from ar_sandbox.schemas.ledgers import (
    LedgerBulkRequest,
    LedgerEntryOut,
    LedgerPage,
    LedgerPaging,
    LedgerPushResult,
    LedgerQuery,
)
from ar_sandbox.services import ledgers
from ar_sandbox.services.common import LockPlan

api = router("ledgers")


@api.post_with_alias(
    "/ledgers/bulk",
    "/ledgers/batch",
    summary="Bulk upsert up to 500 ledger entries by external_id, then re-aggregate statements",
)
def _push(caller: LedgersWrite, body: LedgerBulkRequest) -> Envelope[LedgerPushResult]:
    locks = LockPlan()  # outlives a restart of the transaction
    return caller.answer(
        "Ledger entries processed",
        lambda s, p: ledgers.push_entries(s, p, body.ledger_entries, locks),
    )


@api.get("/ledgers", summary="List ledger entries (transaction_date DESC, created_at DESC)")
def list_ledger_entries(
    caller: LedgersRead,
    wanted: Annotated[LedgerQuery, Query()],
    paging: Annotated[LedgerPaging, Query()],
) -> Envelope[LedgerPage]:
    return caller.listing("Ledger entries retrieved", ledgers.list_entries, wanted, paging)


@api.get("/ledgers/{ledger_id}", summary="Get one ledger entry by internal UUID")
def get_ledger_entry(caller: LedgersRead, ledger_id: UUID) -> Envelope[LedgerEntryOut]:
    return caller.fetch("Ledger entry retrieved", ledgers.get_entry, ledger_id, LedgerEntryOut.of)
