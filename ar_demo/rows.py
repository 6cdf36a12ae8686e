"""Demo rows as Sikka serves them: text values, with the planted defects written in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ar_demo.catalog import PAYMENT_TYPES, PROCEDURES, PROVIDERS, SURFACES
from ar_demo.dates import day_text, day_texts, timestamps
from ar_demo.defects import Defect
from ar_demo.ledger import NONE, PROCEDURE, Ledger
from ar_demo.plant import TRANSACTION_DEFECTS, Plan

Ints = npt.NDArray[np.int64]
Row = dict[str, object]
TYPE_NAMES = (
    "Procedure",
    "Payment",
    "Payment",
    "Adjustment",
    "Adjustment",
    "Adjustment",
    "Payment",
)
SIGNED = (False, False, False, True, True, True, False)  # adjustments keep their sign

TEXT_AMOUNTS = ("12.5O", "N/A", "abc", "1O0.00", "twelve")
HUGE_AMOUNTS = ("12345678901.00", "99999999999.99", "10000000000.00")
TEXT_DATES = ("2025-13-45", "yesterday", "2024-02-30", "not a date", "31/31/2024")
ANCIENT_DATES = ("1899-12-31", "1850-06-01", "1776-07-04", "1899-01-01")
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

    practice_ids: list[str]
    patient_ids: list[list[str]]
    guarantors: list[Ints]
    sr_no: Ints
    first_row_id: int
    future_day: int  # where FUTURE_DATE dates start


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def transaction_rows(ledger: Ledger, plan: Plan, context: Context, lo: int, hi: int) -> list[Row]:
    dates = day_texts(ledger.day[lo:hi])
    loaded = timestamps(ledger.loaded[lo:hi])
    rows = []
    for offset, i in enumerate(range(lo, hi)):
        kind, practice = int(ledger.kind[i]), int(ledger.practice[i])
        patient, code = int(ledger.patient[i]), int(ledger.code[i])
        ids = context.patient_ids[practice]
        cents = int(ledger.cents[i])
        amount = money(cents if SIGNED[kind] else abs(cents))
        link, pay, tooth = int(ledger.link[i]), int(ledger.payment_type[i]), int(ledger.tooth[i])
        estimate = money(int(ledger.estimate[i])) if kind == PROCEDURE else ""
        row: Row = {
            "row_id": context.first_row_id + i,
            "transaction_sr_no": str(context.sr_no[i]),
            "practice_id": context.practice_ids[practice],
            "patient_id": ids[patient],
            "guarantor_id": ids[context.guarantors[practice][patient]],
            "provider_id": PROVIDERS[ledger.provider[i]] if ledger.provider[i] >= 0 else "",
            "claim_sr_no": str(ledger.claim[i]) if ledger.claim[i] >= 0 else "",
            "transaction_type": TYPE_NAMES[kind],
            "transaction_date": dates[offset],
            "transaction_entry_date": dates[offset],
            "amount": f" {amount} " if plan.padded[i] else amount,
            "payment_type": PAYMENT_TYPES[pay].code if pay >= 0 else "",
            "procedure_code": PROCEDURES[code].code if code >= 0 else "",
            "procedure_description": PROCEDURES[code].description if code >= 0 else "",
            "quantity": "1" if kind == PROCEDURE else "",
            "tooth_from": str(tooth) if tooth >= 0 else "",
            "tooth_to": str(tooth) if tooth >= 0 else "",
            "surface": SURFACES[ledger.surface[i]] if ledger.surface[i] >= 0 else "",
            "estimated_insurance_payment": estimate,
            "primary_insurance_estimate": estimate,
            "insurance_payment": money(int(ledger.insurance_paid[i])) if kind == PROCEDURE else "",
            "note": PAYMENT_TYPES[pay].description if pay >= 0 else "",
            "payment_link_id": str(context.sr_no[link]) if link != NONE else "",
            "is_deleted": "1" if plan.deleted[i] else "0",
            "loaded_date": loaded[offset],
        }
        if plan.defect[i] != NONE:
            defect = TRANSACTION_DEFECTS[plan.defect[i]]
            _plant(row, defect, int(plan.variant[i]), int(plan.duplicate_of[i]), context)
        rows.append(row)
    return rows


def _plant(row: Row, defect: Defect, variant: int, original: int, context: Context) -> None:
    def pick(forms: tuple[str, ...]) -> str:
        return forms[variant % len(forms)]

    amount = str(row["amount"])
    if defect is Defect.EMPTY_AMOUNT:
        row["amount"] = ""
    elif defect is Defect.TEXT_AMOUNT:
        row["amount"] = pick(TEXT_AMOUNTS)
    elif defect is Defect.PRECISE_AMOUNT:
        row["amount"] = f"{amount}{1 + variant % 9}"
    elif defect is Defect.HUGE_AMOUNT:
        row["amount"] = ("-" if amount.startswith("-") else "") + pick(HUGE_AMOUNTS)
    elif defect in DATE_DEFECTS:
        if defect is Defect.EMPTY_DATE:
            date = ""
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
        row[field] = ""
    if defect is Defect.BAD_PHONE:
        row["cell"] = BAD_PHONES[variant % len(BAD_PHONES)]
    elif defect is Defect.BAD_EMAIL:
        row["email"] = BAD_EMAILS[variant % len(BAD_EMAILS)]


def practice_rows(practice_ids: list[str], names: list[str], bill_to: list[str]) -> list[Row]:
    return [
        {"practice_id": p, "practice_name": n, "bill_to": b, "phone_region": "US"}
        for p, n, b in zip(practice_ids, names, bill_to, strict=True)
    ]


def payment_type_rows(practice_ids: list[str]) -> list[Row]:
    def flag(value: bool) -> str:
        return "1" if value else "0"

    return [
        {
            "practice_id": practice_id,
            "code": t.code,
            "description": t.description,
            "is_insurance_type": flag(t.is_insurance),
            "is_adjustment_type": flag(t.is_adjustment),
            "is_debit_adjustment_type": flag(t.is_debit_adjustment),
            "is_refund_type": flag(t.is_refund),
        }
        for practice_id in practice_ids
        for t in PAYMENT_TYPES
    ]
