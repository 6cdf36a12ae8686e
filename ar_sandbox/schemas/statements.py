"""Statements, campaigns and enrollment (003, 004)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, Field

from ar_sandbox.schemas.common import (
    ByCustomer,
    ItemPage,
    MoneyOut,
    QueryText,
    RowOut,
    Timestamp,
)
from ar_sandbox.schemas.ledgers import LedgerEntryOut

MAX_ENROLLMENTS = 100
StatementStatus = Literal[
    "not_assigned",
    "in_progress",
    "pending_collection",
    "disputed",
    "uncollectible",
    "paid_in_full",
    "settled",
]
CampaignStatus = Literal[
    "draft", "scheduled", "active", "running", "paused", "completed", "cancelled", "archived"
]
EnrollmentIds = Annotated[list[UUID], Field(min_length=1, max_length=MAX_ENROLLMENTS)]


class StatementOut(RowOut):
    id: str
    company_id: str
    customer_id: str
    external_invoice_id: str
    invoice_number: str
    billing_type: str
    amount: MoneyOut
    paid_amount: MoneyOut
    outstanding: MoneyOut
    currency: str
    status: str
    enrollment_status: str
    period_start: date
    period_end: date
    due_date: date
    issue_date: date
    source: str
    campaign_id: str | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, row: Any, **values: Any) -> Self:
        outstanding = row.amount - row.paid_amount
        return cls.read(row, external_invoice_id=row.external_id, outstanding=outstanding, **values)


class StatementDetail(StatementOut):
    entries: list[LedgerEntryOut] | None = None


class StatementQuery(ByCustomer):
    status: StatementStatus | None = None
    from_date: date | None = Field(None, description="Inclusive lower bound on period_start")
    to_date: date | None = Field(None, description="Inclusive upper bound on period_end")


class StatementPage(ItemPage):
    statements: list[StatementOut]


class EnrollmentResult(BaseModel):
    customer_id: str
    invoice_id: str
    execution_id: str
    status: str = "enrolled"

    @classmethod
    def of(cls, execution: Any) -> Self:
        return cls(
            customer_id=execution.customer_id,
            invoice_id=execution.invoice_id,
            execution_id=execution.id,
        )


class SkippedStatement(BaseModel):
    statement_id: str
    error: str


class StatementEnrollment(BaseModel):
    campaign_id: str
    enrolled_count: int
    skipped_count: int
    results: list[EnrollmentResult]
    skipped_errors: list[SkippedStatement] | None = None

    @classmethod
    def of_one(cls, execution: Any) -> Self:
        """The answer to enrolling one invoice: the execution it started."""
        result = EnrollmentResult.of(execution)
        return cls(
            campaign_id=execution.campaign_id, enrolled_count=1, skipped_count=0, results=[result]
        )


class StatementBulkEnrollRequest(BaseModel):
    """ExternalStatementCampaignAssignRequest."""

    campaign_id: UUID
    statement_ids: EnrollmentIds


class AccountAssignRequest(BaseModel):
    campaign_id: UUID
    customer_id: UUID | None = None


class AccountBulkAssignRequest(BaseModel):
    campaign_id: UUID
    account_ids: EnrollmentIds


class AccountAssignmentResult(BaseModel):
    invoice_id: str
    invoice_number: str | None = None
    status: Literal["SUCCESS", "FAILED", "SKIPPED", "PENDING"]
    error: str | None = None
    execution_id: str | None = None


class AccountBulkAssignment(BaseModel):
    campaign_id: str
    total_enrollments: int
    successful_enrollments: int
    failed_enrollments: int
    results: list[AccountAssignmentResult]


class CampaignOut(RowOut):
    id: str
    company_id: str
    name: str
    description: str | None
    type: str
    category: str
    status: str
    next_campaign_id: str | None
    accepts_enrollments: bool
    created_at: Timestamp
    updated_at: Timestamp


class CampaignQuery(BaseModel):
    search: QueryText | None = None
    status: CampaignStatus | None = None
    type: QueryText | None = Field(None, description="Campaign type, e.g. payment_reminder")


class CampaignPage(ItemPage):
    campaigns: list[CampaignOut]


class ExecutionOut(RowOut):
    id: str
    campaign_id: str
    invoice_id: str
    customer_id: str
    status: str
    created_at: Timestamp
    updated_at: Timestamp


class AdvanceResult(BaseModel):
    execution: ExecutionOut
    invoice_status: str
    next_execution: ExecutionOut | None = None
