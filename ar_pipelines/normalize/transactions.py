"""Transaction rows to ledger entries, a chunk at a time, with column operations only.

Each column is parsed once per distinct value and lookups are made once per distinct
(practice, code) or (practice, patient) pair (``text.Coded``); what is per row is numpy.

The mapping (``docs/sources.md#from-rows-to-ledger-entries``), by the practice's labels
and the classes of the row's payment type:

- a procedure label is a ``charge`` (+|a|);
- a payment is an ``insurance_payment`` (-|a|) when its type is of the insurance class,
  else a ``patient_payment`` (-|a|);
- an adjustment is an ``adjustment`` (+|a|) when its type is a debit adjustment, an
  ``other_credit`` (-|a|) when it is a credit adjustment; with neither class (or both,
  which contradict each other) the sign of the amount says which (zero: ``adjustment``);
- a payment or an adjustment whose type is in the refund list is an ``other_debit``
  (+|a|): money going back to the payer raises the balance whichever way the PMS
  booked it. The refund list wins over every class.

A row marked deleted is a void: the same entry with amount 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import pandas as pd

from ar_pipelines.normalize.checks import (
    MAX_PROCEDURE_CODE,
    check_amounts,
    check_dates,
    check_identity,
    check_invisible,
    check_parties,
    check_types,
    source_types,
)
from ar_pipelines.normalize.chunk import Chunk, Context
from ar_pipelines.normalize.customers import external_ids
from ar_pipelines.normalize.quarantine import Triage, quarantine_frame
from ar_pipelines.normalize.seen import Records, SeenKeys
from ar_pipelines.normalize.settings import ADJUSTMENT, PAYMENT, PROCEDURE
from ar_pipelines.normalize.text import BoolArray, Coded, ObjectArray, free_text, truthy

LEDGER_COLUMNS = (
    "external_id",
    "customer_external_id",
    "transaction_date",
    "transaction_type",
    "amount",
    "amount_paid",
    "estimated_insurance",
    "payment_link_id",
    "procedure_code",
    "description",
)
MONEY_COLUMNS = ("amount", "amount_paid", "estimated_insurance")
LEDGER_TYPES = (
    "charge",
    "other_debit",
    "insurance_payment",
    "patient_payment",
    "adjustment",
    "other_credit",
)
CREDIT_TYPES = ("insurance_payment", "patient_payment", "other_credit")
MAX_DESCRIPTION = 10_000


class LedgerType(IntEnum):
    """A ledger entry's type as its code into ``LEDGER_TYPES``, found there by name: the
    codes follow the tuple's order, whatever it is."""

    CHARGE = LEDGER_TYPES.index("charge")
    OTHER_DEBIT = LEDGER_TYPES.index("other_debit")
    INSURANCE_PAYMENT = LEDGER_TYPES.index("insurance_payment")
    PATIENT_PAYMENT = LEDGER_TYPES.index("patient_payment")
    ADJUSTMENT = LEDGER_TYPES.index("adjustment")
    OTHER_CREDIT = LEDGER_TYPES.index("other_credit")


LedgerColumns = dict[str, ObjectArray | Coded]


@dataclass(frozen=True)
class ChunkResult:
    ledger_columns: LedgerColumns  # the ledger entries, as ``ledger_frame`` takes them
    quarantine: pd.DataFrame
    deleted: int  # ledger entries that are voids of rows marked deleted
    quarantined: dict[str, int]  # by reason


def normalize_chunk(
    frame: pd.DataFrame,
    context: Context,
    seen: SeenKeys,
    first_row_number: int,
    records: Records | None = None,
) -> ChunkResult:
    chunk = Chunk.of(frame)
    triage = Triage(len(chunk))
    # The checks in quarantine order: each one's verdicts go to the triage, and what it
    # found to the chunk, before the next runs.
    invisible = check_invisible(chunk)
    triage.apply(invisible.verdicts)
    records = Records() if records is None else records
    triage.apply(check_identity(chunk, seen, records, invisible.found))
    chunk.source_type = source_types(chunk, context.labels)
    cents = check_amounts(chunk, context.amounts)
    triage.apply(cents.verdicts)
    chunk.cents = cents.found
    dates = check_dates(chunk, context.today)
    triage.apply(dates.verdicts)
    chunk.dates = dates.found
    classes = check_types(chunk, context.payment_types)
    triage.apply(classes.verdicts)
    chunk.classes = classes.found
    customers = check_parties(chunk, context)
    triage.apply(customers.verdicts)
    chunk.customer = customers.found
    ledger, deleted = ledger_columns(chunk, triage.clean, context)
    quarantine = quarantine_frame(
        source="transactions",
        frame=chunk.frame,
        triage=triage,
        practice_id=chunk.texts["practice_id"],
        source_id=chunk.source_id.rows(),
        first_row_number=first_row_number,
    )
    return ChunkResult(ledger, quarantine, deleted, triage.counts())


def ledger_frame(columns: Mapping[str, ObjectArray | Coded]) -> pd.DataFrame:
    """The ledger entries frame of ``columns`` (a missing column is an empty one).

    The frame holds the columns' own arrays, each its own block: copying them into one
    block would touch every row's object to count a reference to it, for nothing.
    """
    return pd.DataFrame(
        {
            name: pd.Series(_rows(columns.get(name)), dtype=object, copy=False)
            for name in LEDGER_COLUMNS
        },
        copy=False,
    )


def _rows(column: ObjectArray | Coded | None) -> ObjectArray | list[object]:
    if column is None:
        return []
    return column.rows() if isinstance(column, Coded) else column


def ledger_columns(chunk: Chunk, clean: BoolArray, context: Context) -> tuple[LedgerColumns, int]:
    """The clean rows of ``chunk`` as ledger entry columns, and how many are voids.

    Columns made of a few distinct values stay ``Coded``, so that the checks of the
    output judge each value once.
    """
    kind = chunk.source_type[clean]
    cents = chunk.cents["amount"][clean]
    payment, adjustment = kind == PAYMENT, kind == ADJUSTMENT
    classes = chunk.classes
    debit, credit_class = classes.debit_adjustment[clean], classes.credit_adjustment[clean]
    # Codes into LEDGER_TYPES, so that the sign is read off an integer array. The first
    # rule that holds gives the type.
    rules = (
        (kind == PROCEDURE, LedgerType.CHARGE),
        ((payment | adjustment) & classes.refund[clean], LedgerType.OTHER_DEBIT),
        (payment & classes.insurance[clean], LedgerType.INSURANCE_PAYMENT),
        (payment, LedgerType.PATIENT_PAYMENT),
        (adjustment & debit & ~credit_class, LedgerType.ADJUSTMENT),
        (adjustment & credit_class & ~debit, LedgerType.OTHER_CREDIT),
        (adjustment & (cents >= 0), LedgerType.ADJUSTMENT),
    )
    type_code = np.select(
        [holds for holds, _ in rules],
        [code for _, code in rules],
        default=LedgerType.OTHER_CREDIT,
    )
    credit = np.array([t in CREDIT_TYPES for t in LEDGER_TYPES], dtype=bool)[type_code]
    amount = np.where(credit, -np.abs(cents), np.abs(cents))
    is_deleted = chunk.columns["is_deleted"]
    deleted = is_deleted.take(truthy(is_deleted.values), False).astype(bool)[clean]
    amount[deleted] = 0

    columns, decimals = chunk.columns, context.decimals
    paid_given = columns["amount_paid"].present()[clean] & (kind == PROCEDURE)
    estimate_given = columns["estimated_insurance_payment"].present()[clean]
    customer = chunk.customer[clean].astype(np.intp)
    ledger: LedgerColumns = {
        "external_id": chunk.external_id[clean],
        "customer_external_id": Coded(customer, context.directory.external_id).compact(),
        "transaction_date": chunk.dates.at(clean).compact(),  # bad dates are None
        "transaction_type": Coded(type_code.astype(np.intp), np.array(LEDGER_TYPES, object)),
        "amount": decimals(amount, np.ones(len(amount), dtype=bool)),
        "amount_paid": decimals(chunk.cents["amount_paid"][clean], paid_given),
        "estimated_insurance": decimals(
            chunk.cents["estimated_insurance_payment"][clean], estimate_given
        ),
        "payment_link_id": _links(chunk, clean),
        "procedure_code": _free(columns["procedure_code"], MAX_PROCEDURE_CODE).at(clean),
        "description": _either(
            _free(columns["procedure_description"], MAX_DESCRIPTION),
            _free(columns["note"], MAX_DESCRIPTION),
        ).at(clean),
    }
    return ledger, int(deleted.sum())


def _links(chunk: Chunk, clean: BoolArray) -> ObjectArray:
    """``payment_link_id`` as an external id, built only where given (most rows have none)."""
    links = np.full(int(clean.sum()), None, dtype=object)
    linked = chunk.columns["payment_procedure_link_id"].present()[clean]
    rows = np.flatnonzero(clean)[linked]
    links[linked] = external_ids(
        chunk.texts["practice_id"][rows], chunk.texts["payment_procedure_link_id"][rows]
    )
    return links


def _free(coded: Coded, limit: int) -> Coded:
    return coded.with_values(free_text(coded.values, limit))


def _either(first: Coded, second: Coded) -> Coded:
    """Each row's value of ``first``, or of ``second`` where ``first`` has none."""
    has_first = first.present()
    shifted = np.where(second.codes < 0, -1, second.codes + len(first.values))
    return Coded(
        codes=np.where(has_first, first.codes, shifted).astype(np.intp),
        values=np.concatenate([first.values, second.values]),
    )
