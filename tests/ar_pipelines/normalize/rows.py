"""Small source frames built by hand, shaped as the readers give them: every value text
(``str``) or ``None``, ``object`` dtype, Sikka's field names, values as Sikka serves them
(four-decimal amounts, ``T00:00:00`` dates)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import pandas as pd

from ar_pipelines.normalize import Normalized, Normalizer, PracticeSettings, normalize
from ar_pipelines.sources.schema import (
    GUARANTOR_COLUMNS,
    PATIENT_COLUMNS,
    PAYMENT_TYPE_COLUMNS,
    TRANSACTION_COLUMNS,
)

TODAY = date(2026, 5, 15)
LOADED = "2026-05-01 08:00:00"
# The practice of most tests: bills patients in the US; REF payments are refunds.
SETTINGS = PracticeSettings(refund_payment_types=("REF",))


def text_frame(rows: Iterable[dict[str, Any]], columns: Iterable[str]) -> pd.DataFrame:
    names = list(columns)
    data = [[_text(row.get(name)) for name in names] for row in rows]
    return pd.DataFrame(data, columns=names, dtype=object)


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def payment_types(*rows: dict[str, Any]) -> pd.DataFrame:
    """Payment types as a reader lists them: classes are ``"true"`` flags."""
    rows = rows or (
        {"practice_id": "P1", "code": "CASH", "description": "Cash"},
        {
            "practice_id": "P1",
            "code": "INS",
            "description": "Insurance",
            "is_insurance_type": "true",
        },
        {"practice_id": "P1", "code": "REF", "description": "Refund"},
        {
            "practice_id": "P1",
            "code": "DEB",
            "description": "Late fee",
            "is_debit_adjustment_type": "true",
        },
        {
            "practice_id": "P1",
            "code": "WO",
            "description": "Write-off",
            "is_adjustment_type": "true",
        },
    )
    return text_frame(rows, PAYMENT_TYPE_COLUMNS)


def person(id_column: str, person_id: str, first: str, last: str) -> dict[str, Any]:
    """A patient's or guarantor's row of practice P1, with an email made of the names."""
    return {
        "practice_id": "P1",
        id_column: person_id,
        "firstname": first,
        "lastname": last,
        "email": f"{first.lower()}{person_id}@example.com",
    }


def patient(patient_id: str = "100", **fields: Any) -> dict[str, Any]:
    return {**person("patient_id", patient_id, "Jane", "Doe"), **fields}


def patients(*rows: dict[str, Any]) -> pd.DataFrame:
    return text_frame(rows or (patient(),), PATIENT_COLUMNS)


def guarantor(guarantor_id: str = "500", **fields: Any) -> dict[str, Any]:
    return {**person("guarantor_id", guarantor_id, "Gary", "Payer"), **fields}


def guarantors(*rows: dict[str, Any]) -> pd.DataFrame:
    return text_frame(rows, GUARANTOR_COLUMNS)


def transaction(sr_no: str = "1", **fields: Any) -> dict[str, Any]:
    return {
        "transaction_sr_no": sr_no,
        "practice_id": "P1",
        "patient_id": "100",
        "transaction_type": "Procedure",
        "transaction_date": "2026-03-02T00:00:00",
        "amount": "120.0000",
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
    guarantor_rows: Iterable[dict[str, Any]] | None = None,
    settings: PracticeSettings = SETTINGS,
    type_rows: Iterable[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> Normalized:
    """Normalize ``rows`` as one chunk against the default settings, types and patient."""
    return normalize(
        settings=settings,
        payment_types=payment_types(*(type_rows or ())),
        patients=patients(*(patient_rows or ())),
        guarantors=None if guarantor_rows is None else guarantors(*guarantor_rows),
        transactions=[transactions(*rows)],
        today=TODAY,
        **kwargs,
    )


def default_normalizer(**options: Any) -> Normalizer:
    """A ``Normalizer`` of the default payment types and patient, on ``TODAY``, with the
    other ``options`` given (settings, earlier ids ...)."""
    return Normalizer(payment_types=payment_types(), patients=patients(), today=TODAY, **options)
