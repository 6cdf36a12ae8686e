"""Small source frames built by hand, shaped as the readers give them: every value text
(``str``) or ``None``, ``object`` dtype, all columns of the source tables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import pandas as pd

from ar_pipelines.normalize import Normalized, normalize
from ar_pipelines.sources.schema import PATIENT_COLUMNS, TRANSACTION_COLUMNS

TODAY = date(2026, 5, 15)
LOADED = "2026-05-01 08:00:00"
PRACTICE_COLUMNS = ("practice_id", "practice_name", "bill_to", "phone_region")
PAYMENT_TYPE_COLUMNS = (
    "practice_id",
    "code",
    "description",
    "is_insurance_type",
    "is_adjustment_type",
    "is_debit_adjustment_type",
    "is_refund_type",
)


def text_frame(rows: Iterable[dict[str, Any]], columns: Iterable[str]) -> pd.DataFrame:
    names = list(columns)
    data = [[_text(row.get(name)) for name in names] for row in rows]
    return pd.DataFrame(data, columns=names, dtype=object)


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def practices(*rows: dict[str, Any]) -> pd.DataFrame:
    rows = rows or ({"practice_id": "P1", "practice_name": "Smile", "bill_to": "patient"},)
    return text_frame(({"phone_region": "US", **r} for r in rows), PRACTICE_COLUMNS)


def payment_types(*rows: dict[str, Any]) -> pd.DataFrame:
    rows = rows or (
        {"practice_id": "P1", "code": "CASH", "description": "Cash"},
        {"practice_id": "P1", "code": "INS", "description": "Insurance", "is_insurance_type": "1"},
        {"practice_id": "P1", "code": "REF", "description": "Refund", "is_refund_type": "true"},
        {
            "practice_id": "P1",
            "code": "DEB",
            "is_adjustment_type": "1",
            "is_debit_adjustment_type": "1",
        },
        {"practice_id": "P1", "code": "WO", "is_adjustment_type": "1"},
    )
    return text_frame(rows, PAYMENT_TYPE_COLUMNS)


def patient(patient_id: str = "100", **fields: Any) -> dict[str, Any]:
    return {
        "practice_id": "P1",
        "patient_id": patient_id,
        "firstname": "Jane",
        "lastname": "Doe",
        "email": f"jane{patient_id}@example.com",
        "loaded_date": LOADED,
        **fields,
    }


def patients(*rows: dict[str, Any]) -> pd.DataFrame:
    return text_frame(rows or (patient(),), PATIENT_COLUMNS)


def transaction(sr_no: str = "1", **fields: Any) -> dict[str, Any]:
    return {
        "transaction_sr_no": sr_no,
        "practice_id": "P1",
        "patient_id": "100",
        "transaction_type": "Procedure",
        "transaction_date": "2026-03-02",
        "amount": "120.00",
        "procedure_code": "D0120",
        "procedure_description": "Periodic oral evaluation",
        "loaded_date": LOADED,
        **fields,
    }


def transactions(*rows: dict[str, Any]) -> pd.DataFrame:
    return text_frame(rows, TRANSACTION_COLUMNS)


def run(
    *rows: dict[str, Any],
    patient_rows: Iterable[dict[str, Any]] | None = None,
    practice_rows: Iterable[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> Normalized:
    """Normalize ``rows`` as one chunk against the default practice, types and patient."""
    return normalize(
        practices=practices(*(practice_rows or ())),
        payment_types=payment_types(),
        patients=patients(*(patient_rows or ())),
        transactions=transactions(*rows),
        today=TODAY,
        **kwargs,
    )
