"""How a practice's source rows map to ledger entries: its settings and payment types.

The settings come from the practice's entry in the practices file (``PracticeSettings``);
payment types come from the source, each marked with the classes the source gave it
(``PaymentTypes``), to which the settings' class lists add.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import pandas as pd

from ar_pipelines.normalize.text import TRUE_FLAGS

BILL_TO = ("patient", "guarantor")
# PMS ``transaction_type`` labels per kind, compared trimmed and without case. Sikka
# documents ``Procedure`` and ``Payment``; the others are what PMSs commonly send.
DEFAULT_PROCEDURE_LABELS = ("Procedure", "Proc", "Charge", "Service")
# Labels that name an insurer or a direction ("Insurance Payment", "Credit Adjustment")
# are left out: the payment type's class decides those, so a practice adds such labels
# only knowing what its types say.
DEFAULT_PAYMENT_LABELS = ("Payment", "Pay", "Paysplit")
DEFAULT_ADJUSTMENT_LABELS = ("Adjustment", "Adj", "Adjust")

# What a transaction's label says it is.
PROCEDURE, PAYMENT, ADJUSTMENT = 0, 1, 2


@dataclass(frozen=True)
class PracticeSettings:
    """One practice's mapping settings (``docs/sources.md#from-rows-to-ledger-entries``).

    ``bill_to``: ``patient`` or ``guarantor``; ``phone_region``: ISO 3166 alpha-2 region
    phones without a country code are read in. The label tuples say which PMS
    ``transaction_type`` means procedure, payment or adjustment; a row whose label is in
    none is quarantined. ``refund_payment_types`` are payment types (code or description)
    whose payments are refunds (``other_debit``). The ``*_payment_types`` and
    ``*_adjustment_types`` classes add to what the source says of its payment types, for
    sources that cannot say (a landed database without class columns).
    """

    bill_to: str = "patient"
    phone_region: str = "US"
    procedure_labels: tuple[str, ...] = DEFAULT_PROCEDURE_LABELS
    payment_labels: tuple[str, ...] = DEFAULT_PAYMENT_LABELS
    adjustment_labels: tuple[str, ...] = DEFAULT_ADJUSTMENT_LABELS
    refund_payment_types: tuple[str, ...] = ()
    insurance_payment_types: tuple[str, ...] = ()
    credit_adjustment_types: tuple[str, ...] = ()
    debit_adjustment_types: tuple[str, ...] = ()

    @property
    def bills_guarantor(self) -> bool:
        return self.bill_to == "guarantor"

    def label_kinds(self) -> dict[str, int]:
        """Each label, trimmed and case-folded, to ``PROCEDURE``, ``PAYMENT`` or
        ``ADJUSTMENT``. A label of two kinds is refused: guessing one would misbook rows."""
        kinds: dict[str, int] = {}
        for kind, labels in (
            (PROCEDURE, self.procedure_labels),
            (PAYMENT, self.payment_labels),
            (ADJUSTMENT, self.adjustment_labels),
        ):
            for label in labels:
                key = fold(label)
                if not key:
                    continue
                if kinds.get(key, kind) != kind:
                    raise ValueError(f"transaction_type label {label!r} is of two kinds")
                kinds[key] = kind
        return kinds


@dataclass(frozen=True)
class PaymentType:
    is_insurance: bool = False
    is_credit_adjustment: bool = False
    is_debit_adjustment: bool = False
    is_refund: bool = False


def clean(value: object) -> str:
    """Text as the normalizer compares it: NFC, trimmed; ``""`` for anything else."""
    return unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else ""


def fold(value: object) -> str:
    """``clean`` text without case, for labels and descriptions."""
    return clean(value).casefold()


def _flag(value: object) -> bool:
    return clean(value).lower() in TRUE_FLAGS


class PaymentTypes:
    """A practice's payment types, found by a transaction's ``payment_type`` text.

    A text names the type whose ``code`` it is (trimmed, case kept: codes are ids), else
    the type whose ``description`` it is (trimmed, any case: descriptions are written by
    people). A type's classes are what the source says (its class flags) or what the
    settings' lists say, whose entries are codes or descriptions matched the same way.
    """

    def __init__(self, table: pd.DataFrame, settings: PracticeSettings) -> None:
        lists = {
            "insurance": (settings.insurance_payment_types, "is_insurance_type"),
            "credit": (settings.credit_adjustment_types, "is_adjustment_type"),
            "debit": (settings.debit_adjustment_types, "is_debit_adjustment_type"),
            "refund": (settings.refund_payment_types, ""),  # Sikka has no refund class
        }
        self._classes = {
            name: _Class({clean(e) for e in entries}, {fold(e) for e in entries}, flag)
            for name, (entries, flag) in lists.items()
        }
        self._by_code: dict[tuple[str, str], PaymentType] = {}
        self._by_description: dict[tuple[str, str], PaymentType] = {}
        for row in table.to_dict("records"):
            practice, code = clean(row.get("practice_id")), clean(row.get("code"))
            description = fold(row.get("description"))
            if not practice or not (code or description):
                continue
            classes = self._classes
            found = PaymentType(
                is_insurance=classes["insurance"].holds(row, code, description),
                is_credit_adjustment=classes["credit"].holds(row, code, description),
                is_debit_adjustment=classes["debit"].holds(row, code, description),
                is_refund=classes["refund"].holds(row, code, description),
            )
            if code:
                self._by_code.setdefault((practice, code), found)
            if description:
                self._by_description.setdefault((practice, description), found)

    def find(self, practice_id: str | None, text: str | None) -> PaymentType | None:
        """The type ``text`` names in the practice, by code then by description."""
        if not practice_id or not text:
            return None
        found = self._by_code.get((practice_id, text))
        if found is None:
            found = self._by_description.get((practice_id, text.casefold()))
        return found


@dataclass(frozen=True)
class _Class:
    """A payment-type class: the settings' codes and (folded) descriptions, and the
    source's flag column for it (``""``: none)."""

    codes: set[str]
    descriptions: set[str]
    flag: str

    def holds(self, row: Mapping[Hashable, object], code: str, description: str) -> bool:
        return (
            (bool(self.flag) and _flag(row.get(self.flag)))
            or (bool(code) and code in self.codes)
            or (bool(description) and description in self.descriptions)
        )
