from __future__ import annotations

from uuid import UUID

from ar_sandbox.access import AccountsRead, AccountsWrite
from ar_sandbox.routes._shared import router
from ar_sandbox.schemas.accounts import AccountOut, AccountPage, AccountQuery, InvoiceBulkRequest
from ar_sandbox.schemas.common import Envelope, UpsertCounts
from ar_sandbox.schemas.statements import (
    AccountAssignRequest,
    AccountBulkAssignment,
    AccountBulkAssignRequest,
    StatementEnrollment,
)
from ar_sandbox.services import accounts, enrollment

api = router("accounts")


@api.post_with_alias(
    "/accounts/bulk",
    "/invoices/batch",
    summary="Bulk upsert up to 100 accounts (invoices) by external_id",
)
def _bulk(caller: AccountsWrite, body: InvoiceBulkRequest) -> Envelope[UpsertCounts]:
    return caller.answer(
        "Accounts processed", lambda s, p: accounts.bulk_upsert(s, p, body.invoices)
    )


reads = api.reads(AccountsRead, "Account", "Accounts")
reads.list_route(
    "/accounts",
    "List accounts (invoices), statements included",
    AccountQuery,
    AccountPage,
    accounts.list_accounts,
)
reads.get_route(
    "/accounts/{account_id}", "Get one account by UUID", AccountOut, accounts.get_account
)


@api.post(
    "/accounts/{account_id}/campaign",
    summary="Assign a single account to a campaign",
    tags=["campaigns"],
)
def assign_account(
    caller: AccountsWrite, account_id: UUID, body: AccountAssignRequest
) -> Envelope[StatementEnrollment]:
    return caller.answer(
        "Account assigned to campaign",
        lambda s, p: enrollment.assign_account(s, p, str(account_id), body),
    )


@api.post(
    "/accounts/campaign/bulk",
    summary="Bulk assign up to 100 accounts to a campaign",
    tags=["campaigns"],
    response_model_exclude_none=True,
)
def assign_accounts(
    caller: AccountsWrite, body: AccountBulkAssignRequest
) -> Envelope[AccountBulkAssignment]:
    return caller.answer(
        "Campaign assignment processed", lambda s, p: enrollment.assign_accounts(s, p, body)
    )
