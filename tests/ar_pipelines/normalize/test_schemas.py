"""The declared output schemas refuse what AR would refuse, so a normalizer bug stops here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import pandera.errors as pa_errors
import pytest

from ar_pipelines.normalize import schemas
from ar_pipelines.normalize.transactions import LEDGER_COLUMNS


def _entries(**changes: list[Any]) -> pd.DataFrame:
    columns: dict[str, list[Any]] = {
        "external_id": ["P1-1", "P1-2"],
        "customer_external_id": ["P1-PT1", "P1-PT1"],
        "transaction_date": ["2026-01-05", "2026-01-20"],
        "transaction_type": ["charge", "patient_payment"],
        "amount": [Decimal("120.50"), Decimal("-20.00")],
        "amount_paid": [None, None],
        "estimated_insurance": [Decimal("80.00"), None],
        "payment_link_id": [None, "P1-9"],
        "procedure_code": ["D1110", None],
        "description": ["Prophylaxis", None],
    }
    columns.update(changes)
    return pd.DataFrame({name: pd.Series(columns[name], dtype=object) for name in LEDGER_COLUMNS})


def test_well_formed_ledger_entries_pass_unchanged() -> None:
    frame = _entries()
    assert schemas.ledger_entries.validate(frame).equals(frame)


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("external_id", ["P1-1", "P1-1"]),  # repeated
        ("external_id", ["P1-1", None]),
        ("external_id", ["P1-1", ""]),
        ("external_id", ["P1-1", "x" * 101]),
        ("external_id", ["P1-1", 7]),
        ("customer_external_id", ["P1-PT1", "c" * 243]),
        ("payment_link_id", [None, "l" * 101]),
        ("procedure_code", ["p" * 51, None]),
        ("description", [b"bytes", None]),
        ("transaction_date", ["2026-01-05", "05/01/2026"]),
        ("transaction_type", ["charge", "payment_allocation"]),
        ("transaction_type", ["charge", None]),
        ("transaction_date", ["2026-01-05", None]),
        ("customer_external_id", [None, "P1-PT1"]),
        ("amount", [Decimal("120.505"), Decimal("-20.00")]),
        ("amount", [120.5, Decimal("-20.00")]),
        ("amount", [Decimal("120.50"), None]),
        ("amount", [Decimal("1E+10"), Decimal("-20.00")]),
        ("amount", [Decimal("-120.50"), Decimal("-20.00")]),  # a charge below zero
        ("amount", [Decimal("120.50"), Decimal("20.00")]),  # a payment above zero
        ("estimated_insurance", [Decimal("NaN"), None]),
    ],
)
def test_a_ledger_entry_ar_would_refuse_fails_validation(column: str, values: list[Any]) -> None:
    with pytest.raises(pa_errors.SchemaError):
        schemas.ledger_entries.validate(_entries(**{column: values}))


def test_a_customer_without_email_or_phone_fails_validation() -> None:
    customers = pd.DataFrame(
        {
            "external_id": ["P1-PT1"],
            "first_name": ["Ada"],
            "last_name": ["Byron"],
            "email": [None],
            "phone": [None],
        },
        dtype=object,
    )
    with pytest.raises(pa_errors.SchemaError, match="email_or_phone"):
        schemas.customers.validate(customers)


def test_a_phone_not_in_e164_fails_validation() -> None:
    customers = pd.DataFrame(
        {
            "external_id": ["P1-PT1"],
            "first_name": [None],
            "last_name": [None],
            "email": [None],
            "phone": ["(555) 010-0199"],
        },
        dtype=object,
    )
    with pytest.raises(pa_errors.SchemaError):
        schemas.customers.validate(customers)
