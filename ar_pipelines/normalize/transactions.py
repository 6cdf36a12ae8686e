"""Transaction rows to ledger entries, a chunk at a time, with column operations only.

Each column is parsed once per distinct value and lookups are made once per distinct
(practice, code) or (practice, patient) pair (``text.Coded``); what is per row is numpy.
The mapping (``spec/SOURCE.md``): Procedure is a ``charge`` (+|a|); a Payment is an
``insurance_payment`` or ``patient_payment`` (-|a|) by its payment type; an Adjustment is
an ``adjustment`` (+|a|) when positive, zero or of a debit-adjustment type, else an
``other_credit`` (-|a|); a Payment or Adjustment of a refund type is an ``other_debit``
(+|a|). A row marked deleted is a void: the same entry with amount 0.
"""

from __future__ import annotations

from dataclasses import dataclass

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
)
from ar_pipelines.normalize.chunk import ADJUSTMENT, PAYMENT, PROCEDURE, Chunk, Context
from ar_pipelines.normalize.customers import external_ids
from ar_pipelines.normalize.quarantine import Triage, quarantine_frame
from ar_pipelines.normalize.seen import SeenKeys
from ar_pipelines.normalize.text import BoolArray, Coded, ObjectArray, free_text, given, truthy

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


@dataclass(frozen=True)
class ChunkResult:
    ledger_entries: pd.DataFrame
    quarantine: pd.DataFrame
    deleted: int  # ledger entries that are voids of rows marked deleted
    quarantined: dict[str, int]  # by reason


def normalize_chunk(
    frame: pd.DataFrame, context: Context, seen: SeenKeys, first_row_number: int
) -> ChunkResult:
    chunk = Chunk.of(frame)
    triage = Triage(len(chunk))
    invisible = check_invisible(chunk, triage)
    check_identity(chunk, triage, seen, invisible)
    check_amounts(chunk, triage, context.amounts)
    check_dates(chunk, triage, context.today)
    check_types(chunk, triage, context.payment_types)
    check_parties(chunk, triage, context)
    ledger, deleted = ledger_entries(chunk, triage.clean, context)
    quarantine = quarantine_frame(
        source="transactions",
        frame=chunk.frame,
        triage=triage,
        practice_id=chunk.texts["practice_id"],
        source_id=chunk.columns["transaction_sr_no"].raw_rows(),
        first_row_number=first_row_number,
    )
    return ChunkResult(ledger, quarantine, deleted, triage.counts())


def ledger_frame(columns: dict[str, ObjectArray]) -> pd.DataFrame:
    return pd.DataFrame(
        {name: pd.Series(columns.get(name, []), dtype=object) for name in LEDGER_COLUMNS}
    )


def ledger_entries(chunk: Chunk, clean: BoolArray, context: Context) -> tuple[pd.DataFrame, int]:
    """The clean rows of ``chunk`` as ledger entries, and how many of them are voids."""
    kind = chunk.source_type[clean]
    cents = chunk.cents["amount"][clean]
    refund = chunk.refund[clean]
    payment, adjustment = kind == PAYMENT, kind == ADJUSTMENT
    # Codes into LEDGER_TYPES, so that the sign is read off an integer array.
    type_code = np.select(
        [
            kind == PROCEDURE,
            (payment | adjustment) & refund,
            payment & chunk.insurance[clean],
            payment,
            adjustment & (chunk.debit_adjustment[clean] | (cents >= 0)),
        ],
        [0, 1, 2, 3, 4],
        default=5,
    )
    transaction_type = np.array(LEDGER_TYPES, dtype=object)[type_code]
    credit = np.array([t in CREDIT_TYPES for t in LEDGER_TYPES], dtype=bool)[type_code]
    amount = np.where(credit, -np.abs(cents), np.abs(cents))
    is_deleted = chunk.columns["is_deleted"]
    deleted = is_deleted.take(truthy(is_deleted.text), False).astype(bool)[clean]
    amount[deleted] = 0

    columns, decimals = chunk.columns, context.decimals
    paid_given = columns["insurance_payment"].present()[clean] & (kind == PROCEDURE)
    estimate_given = columns["estimated_insurance_payment"].present()[clean]
    description = _free(columns["procedure_description"], MAX_DESCRIPTION)
    note = _free(columns["note"], MAX_DESCRIPTION)
    frame = ledger_frame(
        {
            "external_id": chunk.external_id[clean],
            "customer_external_id": context.directory.external_id[chunk.customer[clean]],
            "transaction_date": chunk.date[clean],
            "transaction_type": transaction_type,
            "amount": decimals(amount, np.ones(len(amount), dtype=bool)),
            "amount_paid": decimals(chunk.cents["insurance_payment"][clean], paid_given),
            "estimated_insurance": decimals(
                chunk.cents["estimated_insurance_payment"][clean], estimate_given
            ),
            "payment_link_id": external_ids(
                chunk.texts["practice_id"][clean], chunk.texts["payment_link_id"][clean]
            ),
            "procedure_code": _free(columns["procedure_code"], MAX_PROCEDURE_CODE)[clean],
            "description": np.where(~given(description), note, description)[clean],
        }
    )
    return frame, int(deleted.sum())


def _free(coded: Coded, limit: int) -> ObjectArray:
    return coded.take(free_text(coded.text, limit), None).astype(object)
