"""Statements, campaigns and enrollment (003, 004)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from ar_sandbox.schemas.common import MoneyOut, PageInfo, Timestamp
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


class StatementOut(BaseModel):
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
    def fields_of(cls, row: Any) -> dict[str, Any]:
        return {
            "id": row.id,
            "company_id": row.company_id,
            "customer_id": row.customer_id,
            "external_invoice_id": row.external_id,
            "invoice_number": row.invoice_number,
            "billing_type": row.billing_type,
            "amount": row.amount,
            "paid_amount": row.paid_amount,
            "outstanding": row.amount - row.paid_amount,
            "currency": row.currency,
            "status": row.status,
            "enrollment_status": row.enrollment_status,
            "period_start": row.period_start,
            "period_end": row.period_end,
            "due_date": row.due_date,
            "issue_date": row.issue_date,
            "source": row.source,
            "campaign_id": row.campaign_id,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }

    @classmethod
    def of(cls, row: Any) -> StatementOut:
        return cls(**cls.fields_of(row))


class StatementDetail(StatementOut):
    entries: list[LedgerEntryOut] | None = None


class StatementPage(PageInfo):
    statements: list[StatementOut]


class EnrollmentResult(BaseModel):
    customer_id: str
    invoice_id: str
    execution_id: str
    status: str = "enrolled"


class SkippedStatement(BaseModel):
    statement_id: str
    error: str


class StatementEnrollment(BaseModel):
    campaign_id: str
    enrolled_count: int
    skipped_count: int
    results: list[EnrollmentResult]
    skipped_errors: list[SkippedStatement] | None = None


class StatementBulkEnrollRequest(BaseModel):
    """ExternalStatementCampaignAssignRequest."""

    campaign_id: UUID
    statement_ids: Annotated[list[UUID], Field(min_length=1, max_length=MAX_ENROLLMENTS)]


class AccountAssignRequest(BaseModel):
    campaign_id: UUID
    customer_id: UUID | None = None


class AccountBulkAssignRequest(BaseModel):
    campaign_id: UUID
    account_ids: Annotated[list[UUID], Field(min_length=1, max_length=MAX_ENROLLMENTS)]


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


class CampaignOut(BaseModel):
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


class CampaignPage(PageInfo):
    campaigns: list[CampaignOut]


class ExecutionOut(BaseModel):
    id: str
    campaign_id: str
    invoice_id: str
    customer_id: str
    status: str
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, row: Any) -> ExecutionOut:
        return cls.model_validate(row, from_attributes=True)


class AdvanceResult(BaseModel):
    execution: ExecutionOut
    invoice_status: str
    next_execution: ExecutionOut | None = None
