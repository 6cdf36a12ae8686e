"""One chunk of transactions, its columns coded, and what the checks learn about its rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from ar_pipelines.normalize.customers import Directory, external_ids
from ar_pipelines.normalize.money import Amounts, Decimals
from ar_pipelines.normalize.settings import PaymentTypes, PracticeSettings
from ar_pipelines.normalize.text import BoolArray, Coded, IntArray, ObjectArray

USED_COLUMNS = (
    "transaction_sr_no",
    "practice_id",
    "patient_id",
    "guarantor_id",
    "transaction_type",
    "transaction_date",
    "amount",
    "payment_type",
    "procedure_code",
    "procedure_description",
    "estimated_insurance_payment",
    "amount_paid",
    "note",
    "payment_procedure_link_id",
    "is_deleted",
)


@dataclass(frozen=True)
class Context:
    """What every chunk is checked against: the settings, the small tables and today."""

    settings: PracticeSettings
    labels: dict[str, int]  # ``PracticeSettings.label_kinds``
    payment_types: PaymentTypes
    directory: Directory
    today: date
    decimals: Decimals = field(default_factory=Decimals)
    amounts: Amounts = field(default_factory=Amounts)


def _empty_ints() -> IntArray:
    return np.zeros(0, dtype=np.int64)


def _empty_bools() -> BoolArray:
    return np.zeros(0, dtype=bool)


def _no_dates() -> Coded:
    return Coded(codes=np.zeros(0, dtype=np.intp), values=np.zeros(0, dtype=object))


@dataclass(frozen=True)
class PaymentClasses:
    """The classes of each row's payment type (all false where it has none)."""

    insurance: BoolArray
    credit_adjustment: BoolArray
    debit_adjustment: BoolArray
    refund: BoolArray


def _no_classes() -> PaymentClasses:
    return PaymentClasses(*(_empty_bools() for _ in range(4)))


class RowTexts(dict[str, ObjectArray]):
    """Each column's cleaned text per row, spread from its distinct values when first
    asked for: most columns are only ever used per distinct value."""

    def __init__(self, columns: dict[str, Coded]) -> None:
        super().__init__()
        self._columns = columns

    def __missing__(self, name: str) -> ObjectArray:
        texts = self[name] = self._columns[name].rows()
        return texts


@dataclass
class Chunk:
    """A chunk's columns (coded as cleaned text, and as text per row), and what the checks
    found of its rows, which ``transactions.normalize_chunk`` fills in from their results."""

    frame: pd.DataFrame
    columns: dict[str, Coded]
    texts: dict[str, ObjectArray]
    source_id: Coded  # transaction_sr_no as given
    external_id: ObjectArray
    cents: dict[str, IntArray] = field(default_factory=dict)
    dates: Coded = field(default_factory=_no_dates)  # "YYYY-MM-DD" per row, None if bad
    source_type: IntArray = field(default_factory=_empty_ints)
    classes: PaymentClasses = field(default_factory=_no_classes)
    customer: IntArray = field(default_factory=_empty_ints)

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Chunk:
        frame = frame.reset_index(drop=True)
        as_given = {
            name: Coded.as_given(
                frame[name]
                if name in frame.columns
                else pd.Series([None] * len(frame), dtype=object)
            )
            for name in USED_COLUMNS
        }
        columns = {name: column.cleaned() for name, column in as_given.items()}
        texts = RowTexts(columns)
        return cls(
            frame=frame,
            columns=columns,
            texts=texts,
            source_id=as_given["transaction_sr_no"],
            external_id=external_ids(texts["practice_id"], texts["transaction_sr_no"]),
        )

    def __len__(self) -> int:
        return len(self.frame)

    def lengths(self, name: str) -> IntArray:
        """Characters in each row's cleaned text of column ``name`` (0 when missing)."""
        return self.columns[name].lengths()
