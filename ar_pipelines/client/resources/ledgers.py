"""``ar.ledgers``: bulk upsert (then the server re-aggregates statements), list, get (001)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Unpack

from ar_pipelines.client._bulk import BulkEndpoint, ProgressCallback
from ar_pipelines.client._constants import MAX_LEDGER_ENTRIES_PER_REQUEST
from ar_pipelines.client.models import LedgerEntry, LedgerPushResult, StatementCounts, UpsertCounts
from ar_pipelines.client.records import LedgerEntryRecord
from ar_pipelines.client.reports import PushReport
from ar_pipelines.client.resources._base import ByCustomer, ByDates, ListEndpoint, Resource


def _counts(data: Any) -> tuple[UpsertCounts, StatementCounts]:
    result = LedgerPushResult.model_validate(data)
    return result.ledger_entries, result.statements


LEDGERS_BULK = BulkEndpoint(
    "ledger_entries", "/ledgers/bulk", "ledger_entries", MAX_LEDGER_ENTRIES_PER_REQUEST, _counts
)


class LedgerFilters(ByCustomer, ByDates, total=False):
    transaction_type: str | None


LEDGERS_LIST = ListEndpoint(
    "/ledgers", LedgerEntry, "entries", LedgerFilters.__optional_keys__, limit_of="ledgers"
)


def customer_of(entry: Mapping[str, Any]) -> str:
    """Groups entries of one customer together, whichever way the customer is named."""
    return entry.get("customer_external_id") or "\x00" + (entry.get("customer_id") or "")


class Ledgers(Resource):
    def bulk_upsert(
        self,
        entries: Iterable[LedgerEntryRecord | Mapping[str, Any]],
        *,
        on_progress: ProgressCallback | None = None,
    ) -> PushReport:
        """Upsert any number of entries by ``external_id``, 500 per request.

        Entries are grouped by customer before chunking, so each customer is
        re-aggregated by as few requests as possible.
        """
        return self._bulk_upsert(
            LEDGERS_BULK,
            entries,
            LedgerEntryRecord,
            on_progress=on_progress,
            order=customer_of,
        )

    def list(
        self, *, per_page: int | None = None, **filters: Unpack[LedgerFilters]
    ) -> Iterator[LedgerEntry]:
        """Entries newest first (``transaction_date``, then creation), every page."""
        return self._list(LEDGERS_LIST, per_page, filters)

    def get(self, ledger_id: str) -> LedgerEntry:
        return self._one("GET", f"/ledgers/{ledger_id}", LedgerEntry)
