"""Accounts (invoices), payments and disputes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, AliasChoices, BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from ar_sandbox.schemas.common import (
    BusinessDate,
    ExternalId,
    LongText,
    Money,
    MoneyOut,
    PageInfo,
    Str64,
    Str255,
    Text,
    Timestamp,
)

MAX_INVOICES = 100


def _currency(value: str) -> str:
    if len(value) != 3 or not value.isascii() or not value.isalpha():
        raise ValueError("currency must be a three-letter ISO 4217 code")
    return value.upper()


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("amount must be greater than 0")
    return value


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("amount must be 0 or more")
    return value


Currency = Annotated[Text, AfterValidator(_currency)]
PositiveMoney = Annotated[Money, AfterValidator(_positive)]


class InvoiceRecord(BaseModel):
    """ExternalInvoiceRecord: one account to upsert by ``external_id``."""

    external_id: ExternalId
    customer_id: UUID | None = None
    customer_external_id: Str255 | None = None
    invoice_number: Str255 | None = None
    amount: Annotated[Money, AfterValidator(_not_negative)]
    currency: Currency = "USD"
    issue_date: BusinessDate
    due_date: BusinessDate
    description: LongText | None = None

    @model_validator(mode="after")
    def _consistent(self) -> InvoiceRecord:
        if self.customer_id is None and not self.customer_external_id:
            raise PydanticCustomError(
                "customer_required",
                "customer_id or customer_external_id is required",
                {"field": "customer_external_id"},
            )
        if self.due_date < self.issue_date:
            raise PydanticCustomError(
                "due_before_issue", "due_date must not be before issue_date", {"field": "due_date"}
            )
        if self.external_id.startswith("STMT-"):
            raise PydanticCustomError(
                "reserved_prefix",
                "external_id prefix 'STMT-' is reserved for statements",
                {"field": "external_id"},
            )
        return self


class InvoiceBulkRequest(BaseModel):
    """The body of both ``/accounts/bulk`` and ``/invoices/batch``: either key works."""

    invoices: Annotated[
        list[InvoiceRecord],
        Field(
            min_length=1,
            max_length=MAX_INVOICES,
            validation_alias=AliasChoices("invoices", "accounts"),
        ),
    ]


class AccountOut(BaseModel):
    id: str
    company_id: str
    customer_id: str
    external_id: str
    invoice_number: str
    billing_type: str
    amount: MoneyOut
    paid_amount: MoneyOut
    outstanding: MoneyOut
    currency: str
    status: str
    enrollment_status: str
    issue_date: date
    due_date: date
    description: str | None
    source: str
    campaign_id: str | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, row: Any) -> AccountOut:
        return cls(
            **{name: getattr(row, name) for name in cls.model_fields if name != "outstanding"},
            outstanding=row.amount - row.paid_amount,
        )


class AccountPage(PageInfo):
    accounts: list[AccountOut]


class PaymentCreate(BaseModel):
    amount: PositiveMoney
    payment_date: BusinessDate | None = None
    payment_method: Str64 | None = None
    reference: Str255 | None = None
    external_id: ExternalId | None = None


class PaymentOut(BaseModel):
    id: str
    account_id: str
    customer_id: str
    external_id: str | None
    amount: MoneyOut
    payment_date: date
    payment_method: str | None
    reference: str | None
    created_at: Timestamp

    @classmethod
    def of(cls, row: Any) -> PaymentOut:
        return cls(
            id=row.id,
            account_id=row.invoice_id,
            customer_id=row.customer_id,
            external_id=row.external_id,
            amount=row.amount,
            payment_date=row.payment_date,
            payment_method=row.payment_method,
            reference=row.reference,
            created_at=row.created_at,
        )


class PaymentPage(PageInfo):
    payments: list[PaymentOut]


class PaymentRecorded(BaseModel):
    payment: PaymentOut
    account: AccountOut


class DisputeCreate(BaseModel):
    reason: ExternalId
    description: LongText | None = None
    amount: PositiveMoney | None = None


class DisputeOut(BaseModel):
    id: str
    account_id: str
    customer_id: str
    reason: str
    description: str | None
    amount: MoneyOut | None
    status: str
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, row: Any) -> DisputeOut:
        return cls(
            id=row.id,
            account_id=row.invoice_id,
            customer_id=row.customer_id,
            reason=row.reason,
            description=row.description,
            amount=row.amount,
            status=row.status,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class DisputePage(PageInfo):
    disputes: list[DisputeOut]


class DisputeOpened(BaseModel):
    dispute: DisputeOut
    account: AccountOut
