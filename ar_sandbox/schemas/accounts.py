"""Accounts (invoices), payments and disputes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import AfterValidator, AliasChoices, BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from ar_sandbox.schemas.common import (
    BusinessDate,
    ByCustomer,
    CustomerRecord,
    ExternalId,
    ItemPage,
    LongText,
    Money,
    MoneyOut,
    QueryText,
    RowOut,
    Str64,
    Str255,
    Text,
    Timestamp,
)
from ar_sandbox.schemas.statements import StatementStatus

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


class InvoiceRecord(CustomerRecord):
    """ExternalInvoiceRecord: one account to upsert by ``external_id``."""

    external_id: ExternalId
    invoice_number: Str255 | None = None
    amount: Annotated[Money, AfterValidator(_not_negative)]
    currency: Currency = "USD"
    issue_date: BusinessDate
    due_date: BusinessDate
    description: LongText | None = None

    @model_validator(mode="after")
    def _consistent(self) -> InvoiceRecord:
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


class AccountOut(RowOut):
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
    def of(cls, row: Any) -> Self:
        return cls.read(row, outstanding=row.amount - row.paid_amount)


class AccountQuery(ByCustomer):
    status: StatementStatus | None = None
    billing_type: QueryText | None = Field(None, description="standard or statement")


class AccountPage(ItemPage):
    accounts: list[AccountOut]


class ByAccount(BaseModel):
    """Filters that narrow a list of payments or disputes to one account, if they name one."""

    account_id: UUID | None = None


class PaymentCreate(BaseModel):
    amount: PositiveMoney
    payment_date: BusinessDate | None = None
    payment_method: Str64 | None = None
    reference: Str255 | None = None
    external_id: ExternalId | None = None


class FiledOut(RowOut):
    """A row filed against an account (a payment, a dispute), which names it ``account_id``."""

    id: str
    account_id: str
    customer_id: str

    @classmethod
    def of(cls, row: Any) -> Self:
        return cls.read(row, account_id=row.invoice_id)


class PaymentOut(FiledOut):
    external_id: str | None
    amount: MoneyOut
    payment_date: date
    payment_method: str | None
    reference: str | None
    created_at: Timestamp


class PaymentPage(ItemPage):
    payments: list[PaymentOut]


class PaymentRecorded(BaseModel):
    payment: PaymentOut
    account: AccountOut


class DisputeCreate(BaseModel):
    reason: ExternalId
    description: LongText | None = None
    amount: PositiveMoney | None = None


class DisputeOut(FiledOut):
    reason: str
    description: str | None
    amount: MoneyOut | None
    status: str
    created_at: Timestamp
    updated_at: Timestamp


class DisputePage(ItemPage):
    disputes: list[DisputeOut]


class DisputeOpened(BaseModel):
    dispute: DisputeOut
    account: AccountOut
