from __future__ import annotations

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


reads = api.reads(LedgersRead, "Ledger entry", "Ledger entries")
reads.list_route(
    "/ledgers",
    "List ledger entries (transaction_date DESC, created_at DESC)",
    LedgerQuery,
    LedgerPage,
    ledgers.list_entries,
    paging=LedgerPaging,
)
reads.get_route(
    "/ledgers/{ledger_id}",
    "Get one ledger entry by internal UUID",
    LedgerEntryOut,
    ledgers.get_entry,
)
