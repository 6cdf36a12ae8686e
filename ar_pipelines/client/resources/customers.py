"""``ar.customers``: create, list, get, update, soft-delete, bulk upsert (002)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypedDict, Unpack

from ar_pipelines.client._bulk import BulkEndpoint, ProgressCallback
from ar_pipelines.client._constants import MAX_CUSTOMERS_PER_REQUEST
from ar_pipelines.client.models import Customer
from ar_pipelines.client.records import CustomerRecord
from ar_pipelines.client.reports import PushReport
from ar_pipelines.client.resources._base import ListEndpoint, Resource

CUSTOMERS_BULK = BulkEndpoint(
    "customers", "/customers/bulk", "customers", MAX_CUSTOMERS_PER_REQUEST
)


class CustomerFilters(TypedDict, total=False):
    search: str | None
    tags: str | None


CUSTOMERS_LIST = ListEndpoint(
    "/customers", Customer, "customers", CustomerFilters.__optional_keys__
)


class Customers(Resource):
    def create(self, record: CustomerRecord | Mapping[str, Any]) -> Customer:
        """Create one customer. Not idempotent: resent only when surely not received."""
        body = CustomerRecord.model_validate(record).payload()
        return self._one("POST", "/customers", Customer, body=body, idempotent=False)

    def list(
        self, *, per_page: int | None = None, **filters: Unpack[CustomerFilters]
    ) -> Iterator[Customer]:
        return self._list(CUSTOMERS_LIST, per_page, filters)

    def get(self, customer_id: str) -> Customer:
        return self._one("GET", f"/customers/{customer_id}", Customer)

    def update(self, customer_id: str, changes: CustomerRecord | Mapping[str, Any]) -> Customer:
        """Change the fields given; the others stay as they are."""
        body = CustomerRecord.model_validate(changes).payload()
        return self._one("PUT", f"/customers/{customer_id}", Customer, body=body)

    def delete(self, customer_id: str) -> Customer:
        """Soft-delete: the customer is hidden from lists and gets."""
        return self._one("DELETE", f"/customers/{customer_id}", Customer)

    def bulk_upsert(
        self,
        records: Iterable[CustomerRecord | Mapping[str, Any]],
        *,
        on_progress: ProgressCallback | None = None,
    ) -> PushReport:
        """Create or update any number of customers by ``external_id``, 100 per request."""
        return self._bulk_upsert(CUSTOMERS_BULK, records, CustomerRecord, on_progress=on_progress)
