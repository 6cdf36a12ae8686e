"""Per-practice settings and payment types, read from the small source tables."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import pandas as pd

from ar_pipelines.normalize.text import TRUE_FLAGS

BILL_TO = ("patient", "guarantor")


@dataclass(frozen=True)
class PracticeSettings:
    """Who a practice bills and the region its phones are read in (ISO 3166 alpha-2).

    A practice missing from the practices table, or with a ``bill_to`` that is neither
    value, bills patients; a blank region is ``US``.
    """

    bill_to: str = "patient"
    phone_region: str = "US"

    @property
    def bills_guarantor(self) -> bool:
        return self.bill_to == "guarantor"


@dataclass(frozen=True)
class PaymentType:
    is_insurance: bool = False
    is_debit_adjustment: bool = False
    is_refund: bool = False


def _text(value: object) -> str:
    return unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else ""


def _flag(value: object) -> bool:
    return _text(value).lower() in TRUE_FLAGS


def practice_settings(practices: pd.DataFrame) -> dict[str, PracticeSettings]:
    """Settings by (trimmed) ``practice_id``."""
    settings: dict[str, PracticeSettings] = {}
    for row in practices.to_dict("records"):
        practice_id = _text(row.get("practice_id"))
        bill_to = _text(row.get("bill_to")).lower()
        region = _text(row.get("phone_region")).upper() or "US"
        if practice_id:
            settings[practice_id] = PracticeSettings(
                bill_to=bill_to if bill_to in BILL_TO else "patient", phone_region=region
            )
    return settings


def payment_types(table: pd.DataFrame) -> dict[tuple[str, str], PaymentType]:
    """Payment types by (trimmed) ``(practice_id, code)``; codes match exactly."""
    types: dict[tuple[str, str], PaymentType] = {}
    for row in table.to_dict("records"):
        key = (_text(row.get("practice_id")), _text(row.get("code")))
        if all(key):
            types[key] = PaymentType(
                is_insurance=_flag(row.get("is_insurance_type")),
                is_debit_adjustment=_flag(row.get("is_debit_adjustment_type")),
                is_refund=_flag(row.get("is_refund_type")),
            )
    return types
