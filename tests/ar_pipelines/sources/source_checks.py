"""A strict, independent reading of source rows: which defect (if any) a row shows.

Written from the definitions in ``ar_pipelines.sources.defects`` so that the demo
generator's rows can be checked without the normalizer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import create_engine, select

from ar_demo.defects import Defect
from ar_demo.generate import demo_defects
from ar_pipelines.sources import schema

NUMBER = re.compile(r"-?\d+(\.\d+)?")
TYPES = {"Procedure", "Payment", "Adjustment"}
TABLES = (
    schema.practices,
    schema.payment_types,
    schema.patients,
    schema.transactions,
    demo_defects,
)


def read(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows, in key order."""
    engine = create_engine(schema.normalize_url(url))
    try:
        with engine.connect() as connection:
            return {
                table.name: [
                    dict(row._mapping)
                    for row in connection.execute(
                        select(table).order_by(*table.primary_key.columns)
                    )
                ]
                for table in TABLES
            }
    finally:
        engine.dispose()


def invisible(text: str) -> bool:
    return any(unicodedata.category(c) in {"Cc", "Cf"} for c in text)


def transaction_defects(
    tables: dict[str, list[dict[str, Any]]], end: date
) -> dict[int, list[Defect]]:
    """What each transaction shows, by row_id, reading rows in load order."""
    codes = {(t["practice_id"], t["code"]) for t in tables["payment_types"]}
    patients = {(p["practice_id"], p["patient_id"]) for p in tables["patients"]}
    seen: set[tuple[str, str]] = set()
    found: dict[int, list[Defect]] = {}
    for row in sorted(tables["transactions"], key=lambda r: (r["loaded_date"], r["row_id"])):
        defects = _amount_defects(row["amount"] or "", row["transaction_sr_no"])
        defects += _date_defects(row["transaction_date"] or "", end)
        if row["transaction_type"] not in TYPES:
            defects.append(Defect.UNKNOWN_TRANSACTION_TYPE)
        if (
            row["transaction_type"] == "Payment"
            and (row["practice_id"], row["payment_type"]) not in codes
        ):
            defects.append(Defect.UNKNOWN_PAYMENT_TYPE)
        if (row["practice_id"], row["patient_id"]) not in patients:
            defects.append(Defect.MISSING_PATIENT)
        key = (row["practice_id"], row["transaction_sr_no"])
        if key in seen:
            defects.append(Defect.DUPLICATE_SR_NO)
        seen.add(key)
        found[row["row_id"]] = defects
    return found


def _amount_defects(amount: str, sr_no: str) -> list[Defect]:
    if invisible(amount) or invisible(sr_no):
        return [Defect.INVISIBLE_CHARACTERS]
    amount = amount.strip()
    if not amount:
        return [Defect.EMPTY_AMOUNT]
    if not NUMBER.fullmatch(amount):
        return [Defect.TEXT_AMOUNT]
    if len(amount.partition(".")[2]) > 2:
        return [Defect.PRECISE_AMOUNT]
    if abs(float(amount)) >= 1e10:
        return [Defect.HUGE_AMOUNT]
    return []


def _date_defects(text: str, end: date) -> list[Defect]:
    if not text.strip():
        return [Defect.EMPTY_DATE]
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return [Defect.TEXT_DATE]
    if day > end + timedelta(days=400):
        return [Defect.FUTURE_DATE]
    if day < date(1900, 1, 1):
        return [Defect.ANCIENT_DATE]
    return []


def valid_phone(text: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text, "US"))
    except phonenumbers.NumberParseException:
        return False


def valid_email(text: str) -> bool:
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def patient_defects(patient: dict[str, Any]) -> list[Defect]:
    email = (patient["email"] or "").strip()
    phones = [p.strip() for p in phones_of(patient) if p.strip()]
    if not email and not phones:
        return [Defect.NO_CONTACT]
    found = [] if all(valid_phone(p) for p in phones) else [Defect.BAD_PHONE]
    return found if not email or valid_email(email) else [*found, Defect.BAD_EMAIL]


def phones_of(patient: dict[str, Any]) -> Sequence[str]:
    return [patient[f] or "" for f in ("cell", "homephone", "workphone")]
