"""What the server answers, as typed models.

Every model tolerates fields it does not know (they stay reachable through
``model_extra``), and fields the docs show only sometimes default to ``None``.
Amounts arrive as ``Decimal`` straight from the JSON text and are kept to the cent.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

CENT = Decimal("0.01")


def _to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


Money = Annotated[Decimal, AfterValidator(_to_cents)]


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="allow")


class RecordError(ApiModel):
    """A per-record failure inside a 200 answer (``errors[]``)."""

    index: int
    external_id: str | None = None
    error: str


class _Counts(ApiModel):
    """What an upsert answer counts, whether of the records sent or of the statements
    they re-aggregated."""

    total: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0


class UpsertCounts(_Counts):
    errors: list[RecordError] = Field(default_factory=list)


class StatementCounts(_Counts):
    allocations_created: int = 0

    def __add__(self, other: StatementCounts) -> StatementCounts:
        """The counts of two answers together (every field is a count)."""
        names = StatementCounts.model_fields
        return StatementCounts(**{n: getattr(self, n) + getattr(other, n) for n in names})


class LedgerPushResult(ApiModel):
    ledger_entries: UpsertCounts
    statements: StatementCounts


class SyncResult(ApiModel):
    customers: UpsertCounts = Field(default_factory=UpsertCounts)
    invoices: UpsertCounts = Field(default_factory=UpsertCounts)
    ledger_entries: UpsertCounts = Field(default_factory=UpsertCounts)
    statements: StatementCounts = Field(default_factory=StatementCounts)


class Customer(ApiModel):
    id: str
    company_id: str | None = None
    external_id: str | None = None
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    tags: list[str] = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    communication_preferences: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None


class LedgerEntry(ApiModel):
    id: str
    company_id: str | None = None
    customer_id: str | None = None
    invoice_id: str | None = None
    external_id: str
    transaction_date: date
    transaction_type: str
    amount: Money
    amount_paid: Money | None = None
    estimated_insurance: Money | None = None
    payment_link_id: str | None = None
    procedure_code: str | None = None
    description: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Account(ApiModel):
    """An account (invoice); statements are accounts with ``billing_type="statement"``."""

    id: str
    company_id: str | None = None
    customer_id: str | None = None
    external_id: str | None = None
    invoice_number: str | None = None
    billing_type: str | None = None
    amount: Money
    paid_amount: Money = Decimal("0.00")
    outstanding: Money | None = None
    currency: str = "USD"
    status: str | None = None
    enrollment_status: str | None = None
    issue_date: date | None = None
    due_date: date | None = None
    description: str | None = None
    source: str | None = None
    campaign_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Statement(ApiModel):
    id: str
    company_id: str | None = None
    customer_id: str | None = None
    external_invoice_id: str
    invoice_number: str | None = None
    billing_type: str = "statement"
    amount: Money
    paid_amount: Money
    outstanding: Money
    currency: str = "USD"
    status: str | None = None
    enrollment_status: str | None = None
    period_start: date
    period_end: date
    due_date: date | None = None
    issue_date: date | None = None
    source: str | None = None
    campaign_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class StatementDetail(Statement):
    """A statement with the ledger rows that compose it, when they were asked for."""

    entries: list[LedgerEntry] | None = None


class Campaign(ApiModel):
    id: str
    company_id: str | None = None
    name: str
    description: str | None = None
    type: str | None = None
    category: str | None = None
    status: str | None = None
    next_campaign_id: str | None = None
    accepts_enrollments: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Payment(ApiModel):
    id: str
    account_id: str | None = None
    customer_id: str | None = None
    external_id: str | None = None
    amount: Money
    payment_date: date | None = None
    payment_method: str | None = None
    reference: str | None = None
    created_at: datetime | None = None


class PaymentRecorded(ApiModel):
    payment: Payment
    account: Account


class Dispute(ApiModel):
    id: str
    account_id: str | None = None
    customer_id: str | None = None
    reason: str
    description: str | None = None
    amount: Money | None = None
    status: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class DisputeOpened(ApiModel):
    dispute: Dispute
    account: Account


class Enrollment(ApiModel):
    """One enrolled invoice; ``execution_id`` is unknown when the enrollment was
    confirmed by reading the statement back after a retry."""

    invoice_id: str
    customer_id: str | None = None
    execution_id: str | None = None
    status: str = "enrolled"


class SkippedStatement(ApiModel):
    statement_id: str
    error: str


class StatementEnrollment(ApiModel):
    campaign_id: str
    enrolled_count: int
    skipped_count: int = 0
    results: list[Enrollment] = Field(default_factory=list)
    skipped_errors: list[SkippedStatement] | None = None


class AccountAssignment(ApiModel):
    invoice_id: str
    invoice_number: str | None = None
    status: str
    error: str | None = None
    execution_id: str | None = None


class AccountBulkAssignment(ApiModel):
    campaign_id: str
    total_enrollments: int
    successful_enrollments: int
    failed_enrollments: int
    results: list[AccountAssignment] = Field(default_factory=list)
