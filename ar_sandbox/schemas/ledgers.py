"""Ledger entry schemas (001: ExternalLedgerEntryRecord and the list/get shapes)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from ar_sandbox.schemas.common import (
    BusinessDate,
    ByCustomer,
    CustomerRecord,
    ItemPage,
    LedgerExternalId,
    LongText,
    Money,
    MoneyOut,
    Paging,
    RowOut,
    StatementCounts,
    Str50,
    Str100,
    Timestamp,
    UpsertCounts,
)

MAX_LEDGER_ENTRIES = 500
TransactionType = Literal[
    "charge", "insurance_payment", "patient_payment", "adjustment", "other_debit", "other_credit"
]
"""What a push may send; the server writes the payment allocations itself."""
ListedType = Literal[TransactionType, "payment_allocation"]
NON_NEGATIVE = {"charge", "adjustment", "other_debit"}
NON_POSITIVE = {"other_credit", "patient_payment", "insurance_payment"}


class LedgerEntryRecord(CustomerRecord):
    """One raw transaction to upsert by ``external_id``."""

    external_id: LedgerExternalId
    transaction_date: BusinessDate
    transaction_type: TransactionType
    amount: Money
    amount_paid: Money | None = None
    estimated_insurance: Money | None = None
    payment_link_id: Str100 | None = None
    procedure_code: Str50 | None = None
    description: LongText | None = None

    @field_validator("external_id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.startswith("ALLOC-"):
            raise ValueError("external_id prefix 'ALLOC-' is reserved for payment allocations")
        return value

    @field_validator("amount")
    @classmethod
    def _sign_fits_type(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        kind = info.data.get("transaction_type")
        if kind in NON_NEGATIVE and value < 0:
            raise ValueError(f"amount must be >= 0 for {kind}")
        if kind in NON_POSITIVE and value > 0:
            raise ValueError(f"amount must be <= 0 for {kind}")
        return value


class LedgerBulkRequest(BaseModel):
    ledger_entries: Annotated[
        list[LedgerEntryRecord], Field(min_length=1, max_length=MAX_LEDGER_ENTRIES)
    ]


class LedgerPushResult(BaseModel):
    ledger_entries: UpsertCounts
    statements: StatementCounts


class LedgerEntryOut(RowOut):
    id: str
    company_id: str
    customer_id: str
    invoice_id: str | None
    external_id: str
    transaction_date: date
    transaction_type: str
    amount: MoneyOut
    amount_paid: MoneyOut | None
    estimated_insurance: MoneyOut | None
    payment_link_id: str | None
    procedure_code: str | None
    description: str | None
    created_at: Timestamp
    updated_at: Timestamp


class LedgerQuery(ByCustomer):
    from_date: date | None = None
    to_date: date | None = None
    transaction_type: ListedType | None = None


class LedgerPaging(Paging):
    """Ledger pages are longer: up to 200 entries, 50 unless asked."""

    per_page: Annotated[int, Field(ge=1, le=200)] = 50


class LedgerPage(ItemPage):
    entries: list[LedgerEntryOut]
