from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query

from ar_sandbox.access import AccountsRead, AccountsWrite
from ar_sandbox.routes._shared import PagingQuery, router
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


@api.get("/accounts", summary="List accounts (invoices), statements included")
def list_accounts(
    caller: AccountsRead, wanted: Annotated[AccountQuery, Query()], paging: PagingQuery
) -> Envelope[AccountPage]:
    return caller.listing("Accounts retrieved", accounts.list_accounts, wanted, paging)


@api.get("/accounts/{account_id}", summary="Get one account by UUID")
def get_account(caller: AccountsRead, account_id: UUID) -> Envelope[AccountOut]:
    return caller.fetch("Account retrieved", accounts.get_account, account_id, AccountOut.of)


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
