"""``ar.accounts``: bulk upsert of invoices, list, get, and campaign assignment (003)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Unpack

from ar_pipelines.client._bulk import BulkEndpoint, ProgressCallback
from ar_pipelines.client._constants import MAX_INVOICES_PER_REQUEST
from ar_pipelines.client._retry import RetryCounter
from ar_pipelines.client.models import (
    Account,
    AccountBulkAssignment,
    Enrollment,
    StatementEnrollment,
)
from ar_pipelines.client.records import InvoiceRecord, encode
from ar_pipelines.client.reports import EnrollmentReport, NotEnrolled, PushReport
from ar_pipelines.client.resources._base import ByCustomer, ListEndpoint, Resource
from ar_pipelines.client.resources._enroll import ChunkAnswer, enroll_in_chunks

ENROLLED_STATUSES = {"SUCCESS", "PENDING"}

ACCOUNTS_BULK = BulkEndpoint("invoices", "/accounts/bulk", "invoices", MAX_INVOICES_PER_REQUEST)


class AccountFilters(ByCustomer, total=False):
    status: str | None
    billing_type: str | None


ACCOUNTS_LIST = ListEndpoint("/accounts", Account, "accounts", AccountFilters.__optional_keys__)


class Accounts(Resource):
    def bulk_upsert(
        self,
        invoices: Iterable[InvoiceRecord | Mapping[str, Any]],
        *,
        on_progress: ProgressCallback | None = None,
    ) -> PushReport:
        """Create or update any number of accounts by ``external_id``, 100 per request."""
        return self._bulk_upsert(ACCOUNTS_BULK, invoices, InvoiceRecord, on_progress=on_progress)

    def list(
        self, *, per_page: int | None = None, **filters: Unpack[AccountFilters]
    ) -> Iterator[Account]:
        return self._list(ACCOUNTS_LIST, per_page, filters)

    def get(self, account_id: str) -> Account:
        return self._one("GET", f"/accounts/{account_id}", Account)

    def assign_campaign(
        self, account_id: str, *, campaign_id: str, customer_id: str | None = None
    ) -> StatementEnrollment:
        """Assign one account to a campaign (optionally checking it is this customer's)."""
        self._require_live("Assigning an account to a campaign")
        campaign = str(campaign_id)
        body = {"campaign_id": campaign, "customer_id": customer_id}
        return self._enroll_one(
            f"/accounts/{account_id}/campaign",
            campaign,
            lambda: self._in_campaign(str(account_id), campaign),
            body={k: v for k, v in body.items() if v is not None},
        )

    def assign_campaign_bulk(
        self, account_ids: Iterable[object], *, campaign_id: str
    ) -> EnrollmentReport:
        """Assign any number of accounts to one campaign, 100 per request."""
        self._require_live("Assigning accounts to a campaign")
        campaign = str(campaign_id)

        def send(chunk: list[str], counter: RetryCounter) -> ChunkAnswer:
            answer = self._transport.request(
                "POST",
                "/accounts/campaign/bulk",
                body=encode({"campaign_id": campaign, "account_ids": chunk}),
                idempotent=False,
                counter=counter,
            )
            result = AccountBulkAssignment.model_validate(answer.data)
            enrolled = [
                Enrollment(
                    invoice_id=r.invoice_id, execution_id=r.execution_id, status=r.status.lower()
                )
                for r in result.results
                if r.status in ENROLLED_STATUSES
            ]
            refused = [
                NotEnrolled(r.invoice_id, r.error or r.status)
                for r in result.results
                if r.status not in ENROLLED_STATUSES
            ]
            return ChunkAnswer(enrolled, refused, answer.attempts)

        def confirm(account_id: str) -> bool:
            return self._in_campaign(account_id, campaign) is not None

        return enroll_in_chunks(account_ids, campaign, send=send, confirm=confirm)

    def _in_campaign(self, account_id: str, campaign_id: str) -> Account | None:
        """The account read back, when it is assigned to the campaign."""
        account = self.get(account_id)
        return account if account.campaign_id == campaign_id else None
