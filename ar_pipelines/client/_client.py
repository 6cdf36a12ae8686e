"""``ARClient``: one connection pool, one retry policy, a namespace per resource."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

from ar_pipelines.client._constants import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    MAX_CUSTOMERS_PER_REQUEST,
    MAX_INVOICES_PER_REQUEST,
    MAX_LEDGER_ENTRIES_PER_REQUEST,
)
from ar_pipelines.client._http import ApiKey, Transport, api_root
from ar_pipelines.client._retry import RetryPolicy
from ar_pipelines.client.models import SyncResult
from ar_pipelines.client.records import (
    CustomerRecord,
    InvoiceRecord,
    LedgerEntryRecord,
    Record,
    encode,
)
from ar_pipelines.client.resources.accounts import Accounts
from ar_pipelines.client.resources.campaigns import Campaigns
from ar_pipelines.client.resources.customers import Customers
from ar_pipelines.client.resources.ledgers import Ledgers
from ar_pipelines.client.resources.payments import Disputes, Payments
from ar_pipelines.client.resources.statements import Statements
from ar_pipelines.closing import Closing


class ARClient(Closing):
    """A client of the AR External API.

    ``base_url`` and ``api_key`` default to ``AR_BASE_URL`` and ``AR_API_KEY``. Hand in
    ``http_client`` to choose the transport (tests inject faults that way); otherwise
    the client owns one pool sized for ``concurrency`` requests in flight.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry_policy: RetryPolicy | None = None,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        url = base_url or os.environ.get(BASE_URL_ENV)
        if not url:
            raise ValueError(f"an AR base URL is required (pass base_url= or set {BASE_URL_ENV})")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._key = ApiKey(api_key or os.environ.get(API_KEY_ENV, ""))
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=timeout,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self._transport = Transport(
            http=self._http,
            base_url=url,
            api_key=self._key,
            policy=retry_policy or RetryPolicy(max_retries=max_retries),
            sleep=sleep,
            rng=random.Random(seed),
        )
        self.base_url = api_root(url)
        self.concurrency = concurrency
        self.customers = Customers(self._transport, concurrency=concurrency)
        self.accounts = Accounts(self._transport, concurrency=concurrency)
        self.ledgers = Ledgers(self._transport, concurrency=concurrency)
        self.statements = Statements(self._transport, concurrency=concurrency)
        self.campaigns = Campaigns(self._transport, concurrency=concurrency)
        self.payments = Payments(self._transport, concurrency=concurrency)
        self.disputes = Disputes(self._transport, concurrency=concurrency)

    @property
    def mode(self) -> str | None:
        """``"live"`` or ``"test"``, read from the key's prefix."""
        return self._key.mode

    @property
    def retries(self) -> dict[str, int]:
        """Every retry this client has made, by cause."""
        return self._transport.retries.snapshot()

    def sync(
        self,
        *,
        customers: Iterable[CustomerRecord | Mapping[str, Any]] = (),
        invoices: Iterable[InvoiceRecord | Mapping[str, Any]] = (),
        ledger_entries: Iterable[LedgerEntryRecord | Mapping[str, Any]] = (),
    ) -> SyncResult:
        """One combined ``/sync`` request: customers, then invoices, then ledger entries.

        It is one transaction on the server, so it is not split: over the limits
        (100 / 100 / 500) is a ``ValueError`` here; use the bulk calls for more.
        """
        body = {
            "customers": _payloads(customers, CustomerRecord, MAX_CUSTOMERS_PER_REQUEST),
            "invoices": _payloads(invoices, InvoiceRecord, MAX_INVOICES_PER_REQUEST),
            "ledger_entries": _payloads(
                ledger_entries, LedgerEntryRecord, MAX_LEDGER_ENTRIES_PER_REQUEST
            ),
        }
        answer = self._transport.request("POST", "/sync", body=encode(body))
        return SyncResult.model_validate(answer.data)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __repr__(self) -> str:
        return f"ARClient(base_url={self.base_url!r}, mode={self.mode!r})"


def _payloads(
    records: Iterable[Record | Mapping[str, Any]], model: type[Record], limit: int
) -> list[dict[str, Any]]:
    payloads = [model.model_validate(r).payload() for r in records]
    if len(payloads) > limit:
        raise ValueError(
            f"/sync takes at most {limit} {model.__name__}s per request, got {len(payloads)}"
        )
    return payloads
