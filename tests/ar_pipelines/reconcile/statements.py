"""Small hand-made statements for the reconciliation tests: local rows shaped like the
dbt mart ``statements``, and AR statements as the client's models."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd

from ar_pipelines.client.models import Statement

LOCAL_COLUMNS = [
    "external_invoice_id",
    "customer_external_id",
    "period_start",
    "period_end",
    "issue_date",
    "due_date",
    "amount",
    "paid_amount",
    "outstanding",
]


def first_day(month: str) -> date:
    return date.fromisoformat(f"{month}-01")


def last_day(month: str) -> date:
    start = first_day(month)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def number(customer: str, month: str) -> str:
    return f"STMT-{month}-{customer}"


def local_row(customer: str, month: str, amount: Any, paid: Any) -> dict[str, Any]:
    """One local statement; ``amount`` and ``paid`` as the caller wants them typed."""
    start = first_day(month)
    outstanding = (
        Decimal(str(amount)) - Decimal(str(paid))
        if not isinstance(amount, float)
        else amount - paid
    )
    return {
        "external_invoice_id": number(customer, month),
        "customer_external_id": customer,
        "period_start": start,
        "period_end": last_day(month),
        "issue_date": start,
        "due_date": start + timedelta(days=180),
        "amount": amount,
        "paid_amount": paid,
        "outstanding": outstanding,
    }


def local_frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=LOCAL_COLUMNS)


def ar_statement(
    customer: str,
    month: str,
    amount: str,
    paid: str,
    *,
    status: str = "not_assigned",
    enrollment_status: str = "not_enrolled",
) -> Statement:
    start = first_day(month)
    return Statement(
        id=str(uuid.uuid4()),
        customer_id=str(uuid.uuid4()),
        external_invoice_id=number(customer, month),
        invoice_number=number(customer, month),
        amount=Decimal(amount),
        paid_amount=Decimal(paid),
        outstanding=Decimal(amount) - Decimal(paid),
        status=status,
        enrollment_status=enrollment_status,
        period_start=start,
        period_end=last_day(month),
        issue_date=start,
        due_date=start + timedelta(days=180),
    )
