"""The declared output schemas refuse what AR would refuse, so a normalizer bug stops here,
and the normalizer's faster path to their verdict refuses the same."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pandera.errors as pa_errors
import pytest

from ar_pipelines.normalize import schemas, validation
from ar_pipelines.normalize.text import Coded, ObjectArray
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


def as_distinct(column: pd.Series) -> Coded:
    """The column as codes into its distinct objects (``None`` as code -1), as the
    normalizer builds its columns: ``rows()`` gives back the very same objects."""
    positions: dict[int, int] = {}
    values: list[Any] = []
    codes = []
    for value in column:
        if value is None:
            codes.append(-1)
            continue
        if id(value) not in positions:
            positions[id(value)] = len(values)
            values.append(value)
        codes.append(positions[id(value)])
    objects = np.fromiter(values, dtype=object, count=len(values))
    return Coded(codes=np.array(codes, dtype=np.intp), values=objects)


def ledger_columns(frame: pd.DataFrame) -> dict[str, Coded | ObjectArray]:
    """``frame``'s columns as the normalizer hands them over: ids per row, the rest
    distinct."""
    return {
        name: frame[name].to_numpy(dtype=object)
        if name in ("external_id", "payment_link_id")
        else as_distinct(frame[name])
        for name in frame.columns
    }


def passes_fast(frame: pd.DataFrame) -> bool:
    columns = ledger_columns(frame)
    distinct = {name: c for name, c in columns.items() if isinstance(c, Coded)}
    return validation.passes(
        schemas.ledger_entries, frame, distinct=distinct, row_checks=schemas.LEDGER_ROW_CHECKS
    )


def test_well_formed_ledger_entries_pass_unchanged() -> None:
    frame = _entries()
    assert schemas.ledger_entries.validate(frame).equals(frame)
    assert schemas.valid_ledger_entries(ledger_columns(frame)).equals(frame)


def test_well_formed_ledger_entries_pass_without_asking_pandera(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = _entries()
    monkeypatch.setattr(schemas.ledger_entries, "validate", pytest.fail)

    assert passes_fast(frame)
    assert schemas.valid_ledger_entries(ledger_columns(frame)).equals(frame)


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
    frame = _entries(**{column: values})
    with pytest.raises(pa_errors.SchemaError) as declared:
        schemas.ledger_entries.validate(frame)

    assert not passes_fast(frame)
    with pytest.raises(pa_errors.SchemaError) as fast:
        schemas.valid_ledger_entries(ledger_columns(frame))
    assert str(fast.value) == str(declared.value)


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
