"""Storage models. Every business row carries ``company_id`` and ``mode``.

Money is stored exactly: ``NUMERIC(14,2)`` where the database has it, and the
decimal's text on SQLite (whose NUMERIC is a float). Sums are taken in Python.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

CENT = Decimal("0.01")


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """Naive UTC, the same on every backend; rendered with a ``Z`` on the way out."""
    return datetime.now(UTC).replace(tzinfo=None)


class Money(TypeDecorator[Decimal]):
    """An exact two-decimal amount on every backend."""

    impl = Numeric(14, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(Numeric(14, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        quantized = Decimal(value).quantize(CENT)
        return str(quantized) if dialect.name == "sqlite" else quantized

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value).quantize(CENT)


class Base(DeclarativeBase):
    pass


def _id_column() -> Mapped[str]:
    return mapped_column(String(36), primary_key=True, default=new_id)


# The mixins' sort orders put a table's identity first and its timestamps last, with
# the table's own columns between them in the order they are declared.


class Created:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, sort_order=1)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, sort_order=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, sort_order=1)


class Scoped:
    """A business row: every query of it is scoped by its company and mode."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id, sort_order=-1)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), sort_order=-1)
    mode: Mapped[str] = mapped_column(String(8), sort_order=-1)


class Organization(Created, Base):
    __tablename__ = "organizations"
    id: Mapped[str] = _id_column()
    name: Mapped[str] = mapped_column(String(255))


class Company(Created, Base):
    """A workspace: the unit every row is scoped by."""

    __tablename__ = "companies"
    id: Mapped[str] = _id_column()
    name: Mapped[str] = mapped_column(String(255))
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"))


class ApiKey(Created, Base):
    """A key is stored as its SHA-256; the key itself is shown once, at creation."""

    __tablename__ = "api_keys"
    id: Mapped[str] = _id_column()
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255), default="")
    mode: Mapped[str] = mapped_column(String(8))
    company_id: Mapped[str | None] = mapped_column(ForeignKey("companies.id"))
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"))
    scopes: Mapped[str] = mapped_column(Text, default="[]")  # JSON list; [] = everything
    workspace_ids: Mapped[str] = mapped_column(Text, default="[]")  # JSON list; [] = all
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, sort_order=2)


class Customer(Scoped, Timestamped, Base):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("company_id", "mode", "external_id"),
        Index("ix_customers_company_id", "company_id"),
    )
    external_id: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(16))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    company_name: Mapped[str | None] = mapped_column(String(255))
    tags: Mapped[str] = mapped_column(Text, default="[]")
    custom_fields: Mapped[str] = mapped_column(Text, default="{}")
    communication_preferences: Mapped[str] = mapped_column(Text, default="{}")
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, sort_order=2)


class Invoice(Scoped, Timestamped, Base):
    """Accounts and statements alike; statements have ``billing_type = 'statement'``."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("company_id", "mode", "external_id"),
        Index("ix_invoices_customer_billing", "customer_id", "billing_type"),
        # A company's statements listed by period (the list's order and its date filters):
        # each page reads its window of periods, not every statement of the company. Read
        # backwards, the index is the list's order (period_start DESC, created_at DESC, id),
        # so an offset steps over index entries without sorting; ``period_end`` lets the
        # window's bound and its count read the index alone.
        Index(
            "ix_invoices_company_billing_period",
            "company_id",
            "mode",
            "billing_type",
            "period_start",
            "created_at",
            literal_column("id").desc(),
            "period_end",
        ),
    )
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    external_id: Mapped[str] = mapped_column(String(255))
    invoice_number: Mapped[str] = mapped_column(String(255))
    billing_type: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[str] = mapped_column(String(32), default="not_assigned")
    enrollment_status: Mapped[str] = mapped_column(String(32), default="not_enrolled")
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32), default="api")
    campaign_id: Mapped[str | None] = mapped_column(ForeignKey("campaigns.id"))


class LedgerEntry(Scoped, Timestamped, Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (UniqueConstraint("company_id", "mode", "external_id"),)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    invoice_id: Mapped[str | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(255))
    transaction_date: Mapped[date] = mapped_column(Date)
    transaction_type: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Money)
    amount_paid: Mapped[Decimal | None] = mapped_column(Money)
    estimated_insurance: Mapped[Decimal | None] = mapped_column(Money)
    payment_link_id: Mapped[str | None] = mapped_column(String(100))
    procedure_code: Mapped[str | None] = mapped_column(String(50))
    description: Mapped[str | None] = mapped_column(Text)


class Payment(Scoped, Created, Base):
    """Money applied directly against an account (not a ledger entry)."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("company_id", "mode", "external_id"),)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    external_id: Mapped[str | None] = mapped_column(String(255))
    amount: Mapped[Decimal] = mapped_column(Money)
    payment_date: Mapped[date] = mapped_column(Date)
    payment_method: Mapped[str | None] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(String(255))


class Dispute(Scoped, Timestamped, Base):
    __tablename__ = "disputes"
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    reason: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(32), default="open")


class Campaign(Scoped, Timestamped, Base):
    __tablename__ = "campaigns"
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    next_campaign_id: Mapped[str | None] = mapped_column(ForeignKey("campaigns.id"))


class CampaignExecution(Scoped, Timestamped, Base):
    """One run of a campaign against one invoice. Active: pending, running, waiting."""

    __tablename__ = "campaign_executions"
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(String(32), default="pending")
