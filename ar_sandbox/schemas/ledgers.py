"""Ledger entry schemas (001: ExternalLedgerEntryRecord and the list/get shapes)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ar_sandbox.schemas.common import (
    BusinessDate,
    LedgerExternalId,
    LongText,
    Money,
    MoneyOut,
    PageInfo,
    StatementCounts,
    Str50,
    Str100,
    Str255,
    Timestamp,
    UpsertCounts,
)

MAX_LEDGER_ENTRIES = 500
PUSHABLE_TYPES = (
    "charge",
    "insurance_payment",
    "patient_payment",
    "adjustment",
    "other_debit",
    "other_credit",
)
TransactionType = Literal[
    "charge", "insurance_payment", "patient_payment", "adjustment", "other_debit", "other_credit"
]
ListedType = Literal[
    "charge",
    "insurance_payment",
    "patient_payment",
    "adjustment",
    "other_debit",
    "other_credit",
    "payment_allocation",
]
NON_NEGATIVE = {"charge", "adjustment", "other_debit"}
NON_POSITIVE = {"other_credit", "patient_payment", "insurance_payment"}


class LedgerEntryRecord(BaseModel):
    """One raw transaction to upsert by ``external_id``."""

    external_id: LedgerExternalId
    customer_id: UUID | None = None
    customer_external_id: Str255 | None = None
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

    @model_validator(mode="after")
    def _names_a_customer(self) -> LedgerEntryRecord:
        if self.customer_id is None and not self.customer_external_id:
            raise PydanticCustomError(
                "customer_required",
                "customer_id or customer_external_id is required",
                {"field": "customer_external_id"},
            )
        return self


class LedgerBulkRequest(BaseModel):
    ledger_entries: Annotated[list[LedgerEntryRecord], Field(min_length=1, max_length=500)]


class LedgerPushResult(BaseModel):
    ledger_entries: UpsertCounts
    statements: StatementCounts


class LedgerEntryOut(BaseModel):
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

    @classmethod
    def of(cls, row: Any) -> LedgerEntryOut:
        return cls.model_validate(row, from_attributes=True)


class LedgerPage(PageInfo):
    entries: list[LedgerEntryOut]
