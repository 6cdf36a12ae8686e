"""A strict, independent reading of demo source rows: which defect (if any) a row shows.

Written from the definitions in ``ar_demo.defects`` and Sikka's text shape, so that the
demo generator's rows can be checked without the normalizer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Table, create_engine, select

from ar_demo.defects import Defect
from ar_demo.generate import demo_defects
from ar_pipelines.normalize.settings import (
    DEFAULT_ADJUSTMENT_LABELS,
    DEFAULT_PAYMENT_LABELS,
    DEFAULT_PROCEDURE_LABELS,
)
from ar_pipelines.sources import schema

Rows = list[dict[str, Any]]
NUMBER = re.compile(r"-?\d+(\.\d+)?")
# The default PMS labels per kind, compared trimmed and without case: the demo's rows
# must map under the default settings.
LABELS = {
    kind: {label.casefold() for label in labels}
    for kind, labels in (
        ("procedure", DEFAULT_PROCEDURE_LABELS),
        ("payment", DEFAULT_PAYMENT_LABELS),
        ("adjustment", DEFAULT_ADJUSTMENT_LABELS),
    )
}
# Each table's rows in a stable order (the loader's columns where there are no keys).
ORDER: dict[Table, tuple[str, ...]] = {
    schema.practices: ("practice_id",),
    schema.payment_types: ("practice_id", "code"),
    schema.patients: ("practice_id", "patient_id"),
    schema.guarantors: ("practice_id", "guarantor_id"),
    schema.transactions: ("_row_id",),
    schema.practice_events: ("_row_id",),
    demo_defects: ("practice_id", "table_name", "source_id"),
}


def read(url: str, office_id: str) -> dict[str, Rows]:
    """Every table's rows of one office, in a stable order. Row ids are counted from the
    office's first transaction (and first event), so that offices written into databases
    that already hold others compare equal."""
    engine = create_engine(schema.normalize_url(url))
    try:
        with engine.connect() as connection:
            tables = {
                table.name: [
                    dict(row._mapping)
                    for row in connection.execute(
                        select(table).where(table.c.office_id == office_id)
                    )
                ]
                for table in ORDER
            }
    finally:
        engine.dispose()
    base = min((t["_row_id"] for t in tables["transactions"]), default=1) - 1
    for row in tables["transactions"]:
        row["_row_id"] -= base
    for row in tables["demo_defects"]:
        if row["table_name"] == "transactions":
            row["source_id"] = str(int(row["source_id"]) - base)
    first_event = min((e["_row_id"] for e in tables["practice_events"]), default=1) - 1
    for row in tables["practice_events"]:
        row["_row_id"] -= first_event
    # Sorted here rather than in SQL: collations order text differently per database.
    for table, names in ORDER.items():
        tables[table.name].sort(key=_sort_key(names))
    return tables


def _sort_key(names: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    return lambda row: tuple(row[name] for name in names)


def invisible(text: str) -> bool:
    return any(unicodedata.category(c) in {"Cc", "Cf"} for c in text)


def kind_of(label: str | None) -> str | None:
    """``procedure``, ``payment`` or ``adjustment`` by the default labels, else None."""
    folded = (label or "").strip().casefold()
    return next((kind for kind, labels in LABELS.items() if folded in labels), None)


def payment_type_of(tables: dict[str, Rows], row: dict[str, Any]) -> dict[str, Any] | None:
    """The payment type a transaction names, by code, then by description."""
    wanted = (row["payment_type"] or "").strip()
    types = [t for t in tables["payment_types"] if t["practice_id"] == row["practice_id"]]
    by_code = [t for t in types if t["code"] == wanted]
    by_description = [t for t in types if t["description"] == wanted]
    found = by_code or by_description
    return found[0] if found else None


def transaction_defects(tables: dict[str, Rows], end: date) -> dict[int, list[Defect]]:
    """What each transaction shows, by ``_row_id``, reading rows in load order."""
    patients = {(p["practice_id"], p["patient_id"]) for p in tables["patients"]}
    seen: set[tuple[str, str]] = set()
    found: dict[int, list[Defect]] = {}
    for row in sorted(tables["transactions"], key=lambda r: (r["_loaded_at"], r["_row_id"])):
        defects = _amount_defects(row["amount"] or "", row["transaction_sr_no"])
        defects += _date_defects(row["transaction_date"] or "", end)
        kind = kind_of(row["transaction_type"])
        if kind is None:
            defects.append(Defect.UNKNOWN_TRANSACTION_TYPE)
        if kind == "payment" and payment_type_of(tables, row) is None:
            defects.append(Defect.UNKNOWN_PAYMENT_TYPE)
        if (row["practice_id"], row["patient_id"]) not in patients:
            defects.append(Defect.MISSING_PATIENT)
        key = (row["practice_id"], row["transaction_sr_no"])
        if key in seen:
            defects.append(Defect.DUPLICATE_SR_NO)
        seen.add(key)
        found[row["_row_id"]] = defects
    return found


def _amount_defects(amount: str, sr_no: str) -> list[Defect]:
    if invisible(amount) or invisible(sr_no):
        return [Defect.INVISIBLE_CHARACTERS]
    amount = amount.strip()
    if not amount:
        return [Defect.EMPTY_AMOUNT]
    if not NUMBER.fullmatch(amount):
        return [Defect.TEXT_AMOUNT]
    if amount.partition(".")[2][2:].strip("0"):
        return [Defect.PRECISE_AMOUNT]
    if abs(float(amount)) >= 1e10:
        return [Defect.HUGE_AMOUNT]
    return []


def _date_defects(text: str, end: date) -> list[Defect]:
    if not text.strip():
        return [Defect.EMPTY_DATE]
    try:
        day = datetime.fromisoformat(text.strip()).date()
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
    """What a patient's (or guarantor's) contacts show."""
    email = (patient["email"] or "").strip()
    phones = [p.strip() for p in phones_of(patient) if p.strip()]
    if not email and not phones:
        return [Defect.NO_CONTACT]
    found = [] if all(valid_phone(p) for p in phones) else [Defect.BAD_PHONE]
    return found if not email or valid_email(email) else [*found, Defect.BAD_EMAIL]


def phones_of(patient: dict[str, Any]) -> Sequence[str]:
    return [patient[f] or "" for f in ("cell", "homephone", "workphone")]
