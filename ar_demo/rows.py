"""Demo rows as Sikka serves them: text values, with the planted defects written in.

Amounts carry four decimals (``24.0000``), dates ``T00:00:00``; an empty value is
sometimes NULL and sometimes ``""``. ``transaction_type`` is the PMS's label, mostly the
documented one and sometimes a variant; a payment names its payment type by code or,
now and then, by description; an adjustment sometimes names none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ar_demo.catalog import (
    ADJUSTMENT_LABELS,
    PAYMENT_LABELS,
    PAYMENT_TYPES,
    PROCEDURE_LABELS,
    PROCEDURES,
    PROVIDERS,
    SURFACES,
    City,
)
from ar_demo.dates import DAY, day_text, day_texts, moment_text, timestamp, timestamps
from ar_demo.defects import Defect
from ar_demo.ledger import NONE, PROCEDURE, Ledger
from ar_demo.patients import blank
from ar_demo.plant import TRANSACTION_DEFECTS, Plan

Ints = npt.NDArray[np.int64]
Row = dict[str, object]
# Per ledger kind: PROCEDURE, INSURANCE_PAYMENT, PATIENT_PAYMENT, DISCOUNT, WRITE_OFF,
# FINANCE, REFUND.
LABELS = (
    PROCEDURE_LABELS,
    PAYMENT_LABELS,
    PAYMENT_LABELS,
    ADJUSTMENT_LABELS,
    ADJUSTMENT_LABELS,
    ADJUSTMENT_LABELS,
    PAYMENT_LABELS,
)
IS_ADJUSTMENT = (False, False, False, True, True, True, False)  # adjustments keep their sign
DELETED_FLAGS = ("Deleted", "deleted", "DELETED")
# How often a clean row takes a variant: one in LABEL_VARIANT_EVERY rows has a variant
# label, one in BY_DESCRIPTION_EVERY names its payment type by description, one in
# UNTYPED_ADJUSTMENT_EVERY adjustments names no payment type.
LABEL_VARIANT_EVERY = 12
BY_DESCRIPTION_EVERY = 4
UNTYPED_ADJUSTMENT_EVERY = 5

TEXT_AMOUNTS = ("12.5O00", "N/A", "abc", "1O0.0000", "twelve")
HUGE_AMOUNTS = ("12345678901.0000", "99999999999.9900", "10000000000.0000")
TEXT_DATES = ("2025-13-45T00:00:00", "yesterday", "2024-02-30T00:00:00", "not a date", "31/31/2024")
ANCIENT_DATES = ("1899-12-31T00:00:00", "1850-06-01T00:00:00", "1776-07-04T00:00:00")
UNKNOWN_TYPES = ("Transfer", "Credit", "Misc", "Charge Adjustment")
UNKNOWN_PAYMENT_TYPES = ("VENMO", "BTC", "GIFTCARD", "ZELLE")
MISSING_PATIENTS = ("", "99999999")
INVISIBLE = ("\u200b", "\u200c", "\u2060", "\x07", "\x1b")
BAD_PHONES = ("12", "n/a", "000", "call mom", "123-45", "5550")
BAD_EMAILS = ("jane@@example", "no-at-sign.com", "jane.doe@", "jane doe@example.com", "@mail")
CONTACT_FIELDS = ("email", "cell", "homephone", "workphone")


@dataclass
class Context:
    """What turns a ledger's numbers into text."""

    office_id: str
    practice_ids: list[str]
    patient_ids: list[list[str]]
    guarantor_ids: list[list[str]]
    sr_no: Ints
    first_row_id: int
    last_day: int  # the history's last day
    future_day: int  # where FUTURE_DATE dates start


def money(cents: int) -> str:
    """Cents as Sikka writes an amount: four decimals, ``-61.5000``."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}00"


def transaction_rows(ledger: Ledger, plan: Plan, context: Context, lo: int, hi: int) -> list[Row]:
    """Rows lo to hi that are still in the source (deleted ones are only events)."""
    dates = day_texts(ledger.day[lo:hi])
    loaded = timestamps(ledger.loaded[lo:hi])
    return [
        {
            "_row_id": context.first_row_id + i,
            **_record(ledger, plan, context, i, dates[i - lo]),
            "_loaded_at": loaded[i - lo],
        }
        for i in range(lo, hi)
        if not plan.deleted[i]
    ]


def event_rows(ledger: Ledger, plan: Plan, context: Context) -> list[Row]:
    """``practice_events`` of transactions: every deletion, and Added and Updated events
    of some live rows, in the order they were loaded."""
    events: list[tuple[int, int, str]] = []
    for i in np.flatnonzero(plan.deleted | plan.touched):
        variant, loaded = int(plan.variant[i]), int(ledger.loaded[i])
        if plan.deleted[i]:
            latest = max(loaded + 3600, (context.last_day + 4) * DAY)
            when = min(loaded + 3600 + variant % (20 * DAY), latest)
            events.append((when, int(i), DELETED_FLAGS[variant % len(DELETED_FLAGS)]))
        elif variant >> 3 & 1:
            events.append((loaded, int(i), "Added"))
        else:
            events.append((loaded + 600 + variant % (6 * 3600), int(i), "Updated"))
    return [
        {
            "office_id": context.office_id,
            "events": "transactions",
            "flag": flag,
            "loadeddate": moment_text(when),
            **_record(ledger, plan, context, i, day_text(int(ledger.day[i]))),
            "_loaded_at": timestamp(when),
        }
        for when, i, flag in sorted(events)
    ]


def _record(ledger: Ledger, plan: Plan, context: Context, i: int, day: str) -> Row:
    """Transaction i's Sikka fields, with its planted defect written in."""
    kind, practice = int(ledger.kind[i]), int(ledger.practice[i])
    patient, code = int(ledger.patient[i]), int(ledger.code[i])
    cents = int(ledger.cents[i])
    amount = money(cents if IS_ADJUSTMENT[kind] else abs(cents))
    link, pay, tooth = int(ledger.link[i]), int(ledger.payment_type[i]), int(ledger.tooth[i])
    style = int(plan.variant[i]) >> 8
    empty = blank(i)
    labels = LABELS[kind]
    label = labels[0]
    if style % LABEL_VARIANT_EVERY == 0:
        label = labels[1 + style // LABEL_VARIANT_EVERY % (len(labels) - 1)]
    payment_type: str | None = empty
    if pay >= 0 and not (IS_ADJUSTMENT[kind] and style % UNTYPED_ADJUSTMENT_EVERY == 1):
        by_description = style % BY_DESCRIPTION_EVERY == 2
        payment_type = PAYMENT_TYPES[pay].description if by_description else PAYMENT_TYPES[pay].code
    procedure = kind == PROCEDURE
    estimate = money(int(ledger.estimate[i])) if procedure else empty
    row: Row = {
        "office_id": context.office_id,
        "transaction_sr_no": str(context.sr_no[i]),
        "practice_id": context.practice_ids[practice],
        "patient_id": context.patient_ids[practice][patient],
        "guarantor_id": context.guarantor_ids[practice][patient],
        "provider_id": PROVIDERS[ledger.provider[i]] if ledger.provider[i] >= 0 else empty,
        "claim_sr_no": str(ledger.claim[i]) if ledger.claim[i] >= 0 else empty,
        "transaction_type": label,
        "transaction_date": day,
        "transaction_entry_date": day,
        "amount": f" {amount} " if plan.padded[i] else amount,
        "payment_type": payment_type,
        "procedure_code": PROCEDURES[code].code if code >= 0 else empty,
        "procedure_description": PROCEDURES[code].description if code >= 0 else empty,
        "estimated_insurance_payment": estimate,
        "primary_insurance_estimate": estimate,
        "quantity": "1" if procedure else empty,
        "tooth_from": str(tooth) if tooth >= 0 else empty,
        "tooth_to": str(tooth) if tooth >= 0 else empty,
        "surface": SURFACES[ledger.surface[i]] if ledger.surface[i] >= 0 else empty,
        "note": PAYMENT_TYPES[pay].description if pay >= 0 else empty,
        "payment_procedure_link_id": str(context.sr_no[link]) if link != NONE else empty,
        "amount_paid": money(int(ledger.amount_paid[i])) if procedure else empty,
    }
    if plan.defect[i] != NONE:
        defect = TRANSACTION_DEFECTS[plan.defect[i]]
        _plant(row, defect, int(plan.variant[i]), int(plan.duplicate_of[i]), context)
    return row


def _plant(row: Row, defect: Defect, variant: int, original: int, context: Context) -> None:
    def pick(forms: tuple[str, ...]) -> str:
        return forms[variant % len(forms)]

    amount = str(row["amount"])
    if defect is Defect.EMPTY_AMOUNT:
        row["amount"] = blank(variant)
    elif defect is Defect.TEXT_AMOUNT:
        row["amount"] = pick(TEXT_AMOUNTS)
    elif defect is Defect.PRECISE_AMOUNT:
        row["amount"] = f"{amount[:-2]}{10 + variant % 90}"  # 24.1250: a digit past the cents
    elif defect is Defect.HUGE_AMOUNT:
        row["amount"] = ("-" if amount.startswith("-") else "") + pick(HUGE_AMOUNTS)
    elif defect in DATE_DEFECTS:
        date: str | None
        if defect is Defect.EMPTY_DATE:
            date = blank(variant)
        elif defect is Defect.TEXT_DATE:
            date = pick(TEXT_DATES)
        elif defect is Defect.FUTURE_DATE:
            date = day_text(context.future_day + variant % 3650)
        else:
            date = pick(ANCIENT_DATES)
        row["transaction_date"] = row["transaction_entry_date"] = date
    elif defect is Defect.UNKNOWN_TRANSACTION_TYPE:
        row["transaction_type"] = pick(UNKNOWN_TYPES)
    elif defect is Defect.UNKNOWN_PAYMENT_TYPE:
        row["payment_type"] = pick(UNKNOWN_PAYMENT_TYPES)
    elif defect is Defect.MISSING_PATIENT:
        row["patient_id"] = row["guarantor_id"] = pick(MISSING_PATIENTS)
    elif defect is Defect.DUPLICATE_SR_NO:
        row["transaction_sr_no"] = str(context.sr_no[original])
    elif defect is Defect.INVISIBLE_CHARACTERS:
        field = "amount" if variant % 2 else "transaction_sr_no"
        text = str(row[field])
        row[field] = text[:1] + pick(INVISIBLE) + text[1:]


DATE_DEFECTS = frozenset(
    {Defect.EMPTY_DATE, Defect.TEXT_DATE, Defect.FUTURE_DATE, Defect.ANCIENT_DATE}
)


def plant_patient_defect(row: Row, defect: Defect, variant: int) -> None:
    for field in CONTACT_FIELDS:
        row[field] = blank(variant)
    if defect is Defect.BAD_PHONE:
        row["cell"] = BAD_PHONES[variant % len(BAD_PHONES)]
    elif defect is Defect.BAD_EMAIL:
        row["email"] = BAD_EMAILS[variant % len(BAD_EMAILS)]


def practice_rows(
    office_id: str, practice_ids: list[str], names: list[str], cities: list[City]
) -> list[Row]:
    return [
        {
            "office_id": office_id,
            "practice_id": p,
            "name": n,
            "address_line1": f"{100 + 10 * i} Main St",
            "city": c.name,
            "state": c.state,
            "zipcode": f"{c.zip_prefix}{10 + i % 90:02d}",
            "phone": f"{c.area_codes[0]}-555-{1000 + i:04d}",
        }
        for i, (p, n, c) in enumerate(zip(practice_ids, names, cities, strict=True))
    ]


def payment_type_rows(office_id: str, practice_ids: list[str]) -> list[Row]:
    def flag(value: bool) -> str | None:
        return "true" if value else None

    return [
        {
            "office_id": office_id,
            "practice_id": practice_id,
            "code": t.code,
            "description": t.description,
            "is_insurance_type": flag(t.is_insurance),
            "is_adjustment_type": flag(t.is_adjustment),
            "is_debit_adjustment_type": flag(t.is_debit_adjustment),
        }
        for practice_id in practice_ids
        for t in PAYMENT_TYPES
    ]
