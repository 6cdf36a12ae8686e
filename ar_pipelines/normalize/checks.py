"""The checks a transaction row goes through, in quarantine order; each works on columns.

Called in this order by ``transactions.normalize_chunk``: invisible characters, ids
(missing or too long for AR), duplicates, money, dates, types, then the patient and
customer. Each check only reads the chunk: it returns its verdicts, in the order they
apply, and what it found of the rows (``Checked``: cents, dates, payment classes,
customers), which the caller applies to the triage and the chunk. The first verdict that
fails a row gives it its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from ar_pipelines.normalize import dates, money
from ar_pipelines.normalize.chunk import Chunk, Context, PaymentClasses
from ar_pipelines.normalize.present import ROW_KEY, row_key
from ar_pipelines.normalize.quarantine import Verdict, shown
from ar_pipelines.normalize.reasons import Reason
from ar_pipelines.normalize.seen import Records, SeenKeys
from ar_pipelines.normalize.settings import PAYMENT, PROCEDURE, PaymentType, PaymentTypes
from ar_pipelines.normalize.text import BoolArray, Coded, IntArray, ObjectArray, given, pick

# Ids and numbers that must not hide characters, in the order details name them.
VISIBLE_FIELDS = (
    "transaction_sr_no",
    "amount",
    "practice_id",
    "patient_id",
    "guarantor_id",
    "payment_procedure_link_id",
    "estimated_insurance_payment",
    "amount_paid",
)
MAX_EXTERNAL_ID = 100
MAX_LINK = 100
MAX_PROCEDURE_CODE = 50
MONEY_REASONS = {
    money.Problem.MISSING: (Reason.AMOUNT_MISSING, "is empty"),
    money.Problem.UNPARSEABLE: (Reason.AMOUNT_UNPARSEABLE, "is not a number"),
    money.Problem.TOO_PRECISE: (Reason.AMOUNT_TOO_PRECISE, "has more than 2 decimals"),
    money.Problem.OUT_OF_RANGE: (Reason.AMOUNT_OUT_OF_RANGE, "is 10^10 or more in size"),
}
DATE_REASONS = {
    dates.Problem.MISSING: (Reason.DATE_MISSING, "is empty"),
    dates.Problem.UNPARSEABLE: (Reason.DATE_UNPARSEABLE, "is not a date (YYYY-MM-DD)"),
    dates.Problem.BEFORE_1900: (Reason.DATE_BEFORE_1900, "is before 1900"),
    dates.Problem.IN_FUTURE: (Reason.DATE_IN_FUTURE, "is after today"),
}
Rows = npt.NDArray[np.intp]
Verdicts = list[Verdict]  # in the order they apply
Found = TypeVar("Found")


@dataclass(frozen=True)
class Checked(Generic[Found]):
    """A check's verdicts and what it found of the rows on the way."""

    verdicts: Verdicts
    found: Found


def _say(template: str, *columns: ObjectArray) -> Callable[[Rows], list[str]]:
    """Details from a template whose ``{}`` are the shown values of ``columns``."""
    return lambda rows: [template.format(*(shown(c[r]) for c in columns)) for r in rows]


def check_invisible(chunk: Chunk) -> Checked[dict[str, BoolArray]]:
    """Ids and numbers hiding characters; finds, per field, the rows that do."""
    found = {name: chunk.columns[name].invisible() for name in VISIBLE_FIELDS}
    first = np.full(len(chunk), -1, dtype=np.int64)
    for position, name in reversed(list(enumerate(VISIBLE_FIELDS))):
        first[found[name]] = position

    def describe(rows: Rows) -> list[str]:
        names = [VISIBLE_FIELDS[first[r]] for r in rows]
        return [
            f"{name} {shown(chunk.texts[name][r])} contains invisible or control characters"
            for name, r in zip(names, rows, strict=True)
        ]

    return Checked([Verdict(Reason.INVALID_CHARACTERS, first >= 0, describe)], found)


def check_identity(
    chunk: Chunk, seen: SeenKeys, records: Records, invisible: dict[str, BoolArray]
) -> Verdicts:
    """Ids missing or too long for AR, then duplicates. Every row with a usable id is
    added to ``seen``."""
    texts = chunk.texts
    practice_given = chunk.columns["practice_id"].present()
    number_given = chunk.columns["transaction_sr_no"].present()
    practice_length = chunk.lengths("practice_id")
    link_length = chunk.lengths("payment_procedure_link_id")
    verdicts = [
        Verdict(Reason.ID_INVALID, ~practice_given, _say("practice_id is empty")),
        Verdict(Reason.ID_INVALID, ~number_given, _say("transaction_sr_no is empty")),
        Verdict(
            Reason.ID_INVALID,
            practice_length + 1 + chunk.lengths("transaction_sr_no") > MAX_EXTERNAL_ID,
            _say(
                f"external_id {{}} is longer than {MAX_EXTERNAL_ID} characters", chunk.external_id
            ),
        ),
        Verdict(
            Reason.ID_INVALID,
            (link_length > 0) & (practice_length + 1 + link_length > MAX_LINK),
            _say(
                f"payment_procedure_link_id {{}} is longer than {MAX_LINK} characters"
                " with the practice",
                texts["payment_procedure_link_id"],
            ),
        ),
        Verdict(
            Reason.ID_INVALID,
            chunk.lengths("procedure_code") > MAX_PROCEDURE_CODE,
            _say(
                f"procedure_code {{}} is longer than {MAX_PROCEDURE_CODE} characters",
                texts["procedure_code"],
            ),
        ),
    ]
    # Every row with a usable identity counts as seen, whatever else is wrong with it.
    identity = practice_given & number_given
    identity &= ~invisible["practice_id"] & ~invisible["transaction_sr_no"]
    rows = np.flatnonzero(identity)
    repeated = np.zeros(len(chunk), dtype=bool)
    repeated[rows] = seen.add(chunk.external_id[rows])
    # An id several keyed rows hold is settled by row key: its record is kept (or
    # quarantined for its own defect) in whatever order the rows come, and each other
    # row, a deletion event's included, is a duplicate.
    record_key = np.full(len(chunk), None, dtype=object)
    if len(records):
        record_key[rows] = records.keys_of(chunk.external_id[rows])
    settled = np.flatnonzero(given(record_key)) if len(records) else rows[:0]
    other_row = np.zeros(len(chunk), dtype=bool)
    if len(settled):
        own = _row_keys(chunk, settled)
        other_row[settled] = [k != r for k, r in zip(own, record_key[settled], strict=True)]
        repeated[settled] = False
    verdicts.append(
        Verdict(
            Reason.DUPLICATE_TRANSACTION,
            other_row,
            _say(
                "transaction_sr_no {} of practice {} is held by another source row too"
                " (row key {}), which is kept",
                texts["transaction_sr_no"],
                texts["practice_id"],
                record_key,
            ),
        )
    )
    # Otherwise the first occurrence of an id is the one kept: repeats are few, and only
    # they are looked up among the ids of rows read in earlier runs.
    repeats = np.flatnonzero(repeated)
    of_earlier_run = np.zeros(len(chunk), dtype=bool)
    of_earlier_run[repeats] = seen.earlier(chunk.external_id[repeats])
    verdicts += [
        Verdict(
            Reason.DUPLICATE_TRANSACTION,
            of_earlier_run,
            _say(
                "transaction_sr_no {} of practice {} repeats a row read in an earlier run",
                texts["transaction_sr_no"],
                texts["practice_id"],
            ),
        ),
        Verdict(
            Reason.DUPLICATE_TRANSACTION,
            repeated,
            _say(
                "transaction_sr_no {} of practice {} was already seen in this run",
                texts["transaction_sr_no"],
                texts["practice_id"],
            ),
        ),
    ]
    return verdicts


def _row_keys(chunk: Chunk, rows: Rows) -> list[str | None]:
    """The row key of the given rows (``None`` where a row has none)."""
    if ROW_KEY not in chunk.frame.columns:
        return [None] * len(rows)
    return [row_key(v) for v in chunk.frame[ROW_KEY].to_numpy(dtype=object)[rows]]


def source_types(chunk: Chunk, labels: dict[str, int]) -> IntArray:
    """``PROCEDURE``, ``PAYMENT`` or ``ADJUSTMENT`` per row by its label, -1 if none."""
    # Labels compare trimmed (``Coded`` text is) and case-folded, once per distinct label.
    by_label = chunk.columns["transaction_type"].map_text(labels, -1, np.int64, key=str.casefold)
    return by_label.astype(np.int64)


def check_amounts(chunk: Chunk, amounts: money.Amounts) -> Checked[dict[str, IntArray]]:
    """Money fields as cents (0 where not an amount), per field. The chunk's
    ``source_type`` is known by now: ``amount_paid`` is only read (and only checked) on
    procedures."""
    fields = {
        "amount": np.ones(len(chunk), dtype=bool),
        "estimated_insurance_payment": np.ones(len(chunk), dtype=bool),
        "amount_paid": chunk.source_type == PROCEDURE,
    }
    found: dict[str, IntArray] = {}
    problems: dict[str, IntArray] = {}
    for name in fields:
        coded = chunk.columns[name]
        cents, per_value = amounts.parse(coded.values)
        found[name] = coded.take(cents, 0).astype(np.int64)
        problems[name] = coded.take(per_value, money.Problem.MISSING).astype(np.int64)
    verdicts = [
        Verdict(
            reason,
            applies & (problems[name] == kind),
            _say(f"{name} {{}} {complaint}", chunk.texts[name]),
        )
        for kind, (reason, complaint) in MONEY_REASONS.items()
        for name, applies in fields.items()
        # only the amount itself is required
        if kind != money.Problem.MISSING or name == "amount"
    ]
    return Checked(verdicts, found)


def check_dates(chunk: Chunk, today: date) -> Checked[Coded]:
    """Dates as "YYYY-MM-DD" (``None`` where not a valid date)."""
    coded = chunk.columns["transaction_date"]
    iso, problem = dates.parse_dates(coded.values, today)
    problems = coded.take(problem, dates.Problem.MISSING).astype(np.int64)
    verdicts = [
        Verdict(
            reason,
            problems == kind,
            _say(f"transaction_date {{}} {complaint}", chunk.texts["transaction_date"]),
        )
        for kind, (reason, complaint) in DATE_REASONS.items()
    ]
    return Checked(verdicts, coded.with_values(iso))


def check_types(chunk: Chunk, payment_types: PaymentTypes) -> Checked[PaymentClasses]:
    """The label (the chunk's ``source_type``), then the payment type, whose classes it
    finds."""
    unknown_label = Verdict(
        Reason.UNKNOWN_TRANSACTION_TYPE,
        chunk.source_type < 0,
        _say(
            "transaction_type {} is not a procedure, payment or adjustment label"
            " of the practice's settings",
            chunk.texts["transaction_type"],
        ),
    )
    practice, code = chunk.texts["practice_id"], chunk.texts["payment_type"]
    # One lookup per distinct (practice, payment_type); its flags as a row of five.
    flags = chunk.columns["practice_id"].pairs(
        chunk.columns["payment_type"],
        lambda p, c: np.array(
            [_type_flags(payment_types.find(a, b)) for a, b in zip(p, c, strict=True)],
            dtype=bool,
        ).reshape(-1, 5),
    )
    known, *classes = (np.ascontiguousarray(flags[:, i]) for i in range(5))
    code_given = chunk.columns["payment_type"].present()
    unknown = (chunk.source_type > PROCEDURE) & code_given & ~known
    needed = (chunk.source_type == PAYMENT) & ~code_given
    verdicts = [
        unknown_label,
        Verdict(
            Reason.UNKNOWN_PAYMENT_TYPE,
            unknown,
            _say("payment_type {} is not a payment type of practice {}", code, practice),
        ),
        Verdict(Reason.UNKNOWN_PAYMENT_TYPE, needed, _say("a Payment needs a payment_type")),
    ]
    return Checked(verdicts, PaymentClasses(*classes))


def _type_flags(found: PaymentType | None) -> tuple[bool, bool, bool, bool, bool]:
    """Known, insurance, credit adjustment, debit adjustment, refund."""
    if found is None:
        return (False, False, False, False, False)
    return (
        True,
        found.is_insurance,
        found.is_credit_adjustment,
        found.is_debit_adjustment,
        found.is_refund,
    )


def check_parties(chunk: Chunk, context: Context) -> Checked[IntArray]:
    """The patient must be the practice's; the customer (the patient, or its guarantor
    where the practice bills guarantors) must have been pushable. Finds each row's
    customer, as a position in the directory (-1 where none)."""
    directory, texts, columns = context.directory, chunk.texts, chunk.columns
    practice = columns["practice_id"]
    patient = practice.pairs(columns["patient_id"], directory.find).astype(np.int64)
    given_guarantor = practice.pairs(columns["guarantor_id"], directory.find).astype(np.int64)
    # A guarantor who is not a patient is in the directory, but names no patient.
    patient = np.where(pick(directory.is_patient, patient, False).astype(bool), patient, -1)
    bills_guarantor = context.settings.bills_guarantor
    has_guarantor = columns["guarantor_id"].present()
    own_guarantor = pick(directory.guarantor, patient, -1).astype(np.int64)
    customer = np.where(
        bills_guarantor, np.where(has_guarantor, given_guarantor, own_guarantor), patient
    )
    guarantor_text = np.where(
        has_guarantor, texts["guarantor_id"], pick(directory.guarantor_id, patient, None)
    )
    verdicts = [
        Verdict(
            Reason.PATIENT_MISSING, ~columns["patient_id"].present(), _say("patient_id is empty")
        ),
        Verdict(
            Reason.PATIENT_MISSING,
            patient < 0,
            _say(
                "patient {} is not a patient of practice {}",
                texts["patient_id"],
                texts["practice_id"],
            ),
        ),
        Verdict(
            Reason.PATIENT_MISSING,
            customer < 0,
            _say(
                "guarantor {} is not a patient or guarantor of practice {}",
                guarantor_text,
                texts["practice_id"],
            ),
        ),
        Verdict(
            Reason.CUSTOMER_NOT_PUSHABLE,
            ~pick(directory.pushable, customer, True).astype(bool),
            _say(
                "customer {} was quarantined ({})",
                pick(directory.external_id, customer, None),
                pick(directory.reason, customer, None),
            ),
        ),
    ]
    return Checked(verdicts, customer.astype(np.int64))
