"""Small hand-made statements for the reconciliation tests: local rows shaped like the
dbt mart ``statements``, and AR statements as the client's models. Their numbers and
dates are the reference's, so the tests cannot drift from the contract."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from ar_pipelines.client.models import Statement
from ar_pipelines.statements.reference import LedgerEntry, compute_statements
from tests.ar_pipelines.statements.ledgers import STATEMENT_HEADER

DATES = ("period_start", "period_end", "issue_date", "due_date")


def numbered(customer: str, month: str) -> tuple[str, dict[str, date]]:
    """The number and the dates (``DATES``) of ``customer``'s statement for ``month``
    (``YYYY-MM``), as the reference gives them to a month with a charge."""
    charge = LedgerEntry(
        external_id="C-1",
        customer=customer,
        transaction_date=date.fromisoformat(f"{month}-01"),
        transaction_type="charge",
        amount=Decimal("1.00"),
    )
    (statement,) = compute_statements([charge]).statements
    return statement.external_invoice_id, {name: getattr(statement, name) for name in DATES}


def local_row(customer: str, month: str, amount: Any, paid: Any) -> dict[str, Any]:
    """One local statement; ``amount`` and ``paid`` as the caller wants them typed."""
    number, dates = numbered(customer, month)
    outstanding = (
        Decimal(str(amount)) - Decimal(str(paid))
        if not isinstance(amount, float)
        else amount - paid
    )
    return {
        "external_invoice_id": number,
        "customer_external_id": customer,
        **dates,
        "amount": amount,
        "paid_amount": paid,
        "outstanding": outstanding,
    }


def local_frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(STATEMENT_HEADER))


def ar_statement(
    customer: str,
    month: str,
    amount: str,
    paid: str,
    *,
    status: str = "not_assigned",
    enrollment_status: str = "not_enrolled",
) -> Statement:
    number, dates = numbered(customer, month)
    return Statement(
        id=str(uuid.uuid4()),
        customer_id=str(uuid.uuid4()),
        external_invoice_id=number,
        invoice_number=number,
        amount=Decimal(amount),
        paid_amount=Decimal(paid),
        outstanding=Decimal(amount) - Decimal(paid),
        status=status,
        enrollment_status=enrollment_status,
        **dates,
    )


# One side's (amount, paid) of a statement; ``None`` where that side lacks the statement.
Side = tuple[Any, Any] | None


def both_sides(*statements: tuple[str, str, Side, Side]) -> tuple[pd.DataFrame, list[Statement]]:
    """The local frame and AR's statements for ``statements``, each given as (customer,
    month, local side, AR side): a statement's two sides read side by side."""
    local = [local_row(c, month, *side) for c, month, side, _ in statements if side is not None]
    ar = [ar_statement(c, month, *side) for c, month, _, side in statements if side is not None]
    return local_frame(*local), ar
