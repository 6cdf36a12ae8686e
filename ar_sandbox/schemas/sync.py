"""The combined ``POST /sync``: customers, then invoices, then ledger entries."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from ar_sandbox.schemas.accounts import MAX_INVOICES, InvoiceRecord
from ar_sandbox.schemas.common import StatementCounts, UpsertCounts
from ar_sandbox.schemas.customers import MAX_CUSTOMERS, CustomerBulkRecord
from ar_sandbox.schemas.ledgers import MAX_LEDGER_ENTRIES, LedgerEntryRecord


class SyncRequest(BaseModel):
    customers: Annotated[list[CustomerBulkRecord], Field(max_length=MAX_CUSTOMERS)] = []
    invoices: Annotated[list[InvoiceRecord], Field(max_length=MAX_INVOICES)] = []
    ledger_entries: Annotated[list[LedgerEntryRecord], Field(max_length=MAX_LEDGER_ENTRIES)] = []

    @model_validator(mode="after")
    def _not_empty(self) -> SyncRequest:
        if not (self.customers or self.invoices or self.ledger_entries):
            raise PydanticCustomError(
                "empty_sync",
                "at least one of customers, invoices or ledger_entries must be non-empty",
                {"field": "ledger_entries"},
            )
        return self


class SyncResult(BaseModel):
    customers: UpsertCounts
    invoices: UpsertCounts
    ledger_entries: UpsertCounts
    statements: StatementCounts
