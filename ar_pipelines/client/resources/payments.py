"""``ar.payments`` and ``ar.disputes``: money and challenges against an account."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Generic

from ar_pipelines.client.models import Dispute, DisputeOpened, Payment, PaymentRecorded
from ar_pipelines.client.records import DisputeRecord, PaymentRecord
from ar_pipelines.client.resources._base import ListEndpoint, M, Resource


class _OfAccounts(Resource, Generic[M]):
    """Items that belong to an account: listed for one account or across all of them."""

    _listing: ListEndpoint[M]

    def list(self, *, account_id: str | None = None, per_page: int | None = None) -> Iterator[M]:
        items = self._listing.items
        path = f"/accounts/{account_id}/{items}" if account_id else None
        return self._list(self._listing, per_page, {}, path=path)


class Payments(_OfAccounts[Payment]):
    _listing = ListEndpoint("/payments", Payment, "payments")

    def record(
        self, account_id: str, payment: PaymentRecord | Mapping[str, Any]
    ) -> PaymentRecorded:
        """Record a payment. With an ``external_id`` it is idempotent and retried freely;
        without one it is resent only when surely not received, so it is never doubled."""
        record = PaymentRecord.model_validate(payment)
        return self._one(
            "POST",
            f"/accounts/{account_id}/payments",
            PaymentRecorded,
            body=record.payload(),
            idempotent=record.external_id is not None,
        )

    def get(self, payment_id: str) -> Payment:
        return self._one("GET", f"/payments/{payment_id}", Payment)


class Disputes(_OfAccounts[Dispute]):
    _listing = ListEndpoint("/disputes", Dispute, "disputes")

    def open(self, account_id: str, dispute: DisputeRecord | Mapping[str, Any]) -> DisputeOpened:
        """Open a dispute on an account. Resent only when surely not received."""
        body = DisputeRecord.model_validate(dispute).payload()
        return self._one(
            "POST", f"/accounts/{account_id}/disputes", DisputeOpened, body=body, idempotent=False
        )

    def get(self, dispute_id: str) -> Dispute:
        return self._one("GET", f"/disputes/{dispute_id}", Dispute)
