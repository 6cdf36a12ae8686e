from __future__ import annotations

from sqlalchemy.orm import Session

from ar_sandbox.access import Principal, SyncWrite
from ar_sandbox.routes._shared import router
from ar_sandbox.schemas.common import Envelope, StatementCounts, UpsertCounts
from ar_sandbox.schemas.sync import SyncRequest, SyncResult
from ar_sandbox.services import accounts, customers, ledgers
from ar_sandbox.services.common import LockPlan

api = router("sync")


@api.post("/sync", summary="Customers, then invoices, then ledger entries, then aggregation")
def sync(caller: SyncWrite, body: SyncRequest) -> Envelope[SyncResult]:
    locks = LockPlan()  # outlives a restart of the transaction

    def work(session: Session, principal: Principal) -> SyncResult:
        result = SyncResult(
            customers=UpsertCounts(),
            invoices=UpsertCounts(),
            ledger_entries=UpsertCounts(),
            statements=StatementCounts(),
        )
        if body.customers:
            result.customers = customers.bulk_upsert(session, principal, body.customers)
        if body.invoices:
            result.invoices = accounts.bulk_upsert(session, principal, body.invoices)
        if body.ledger_entries:
            pushed = ledgers.push_entries(session, principal, body.ledger_entries, locks)
            result.ledger_entries, result.statements = pushed.ledger_entries, pushed.statements
        return result

    return caller.answer("Sync completed successfully", work)
