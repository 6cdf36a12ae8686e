"""Which demo rows carry a planted defect, chosen round-robin over every kind.

Defects never land on a procedure a payment links to, nor on the transactions of a
patient who carries a patient defect, so that each planted row has exactly one reason
to be quarantined and every other row stays clean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ar_demo.defects import PATIENT_DEFECTS, Defect
from ar_demo.ledger import INSURANCE_PAYMENT, PATIENT_PAYMENT, REFUND, Ledger

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
TRANSACTION_DEFECTS = tuple(d for d in Defect if d not in PATIENT_DEFECTS)
PATIENT_DEFECT_KINDS = tuple(d for d in Defect if d in PATIENT_DEFECTS)
NONE = -1
DELETED_SHARE = 0.003
PADDED_SHARE = 0.02
TOUCHED_SHARE = 0.002


@dataclass
class Plan:
    defect: Ints  # per transaction: index into TRANSACTION_DEFECTS, or -1
    variant: Ints  # picks among a defect's forms
    duplicate_of: Ints  # for DUPLICATE_SR_NO: the row whose transaction_sr_no is re-used
    deleted: Bools  # clean rows deleted in the source: only in ``practice_events``
    padded: Bools  # clean rows whose amount carries harmless surrounding spaces
    touched: Bools  # live clean rows also reported as Added or Updated events
    patient_defects: dict[tuple[int, int], Defect]  # (practice, patient) -> defect


def _share(rate: float, rows: int, kinds: int) -> int:
    return 0 if rate <= 0 else max(kinds, round(rate * rows))


def plan_defects(
    rng: np.random.Generator,
    ledger: Ledger,
    *,
    rate: float,
    patient_counts: list[int],
    guarantor_billed: list[bool],
    is_guarantor: list[Bools],
) -> Plan:
    rows = len(ledger)
    targets = np.zeros(rows, dtype=np.bool_)
    targets[ledger.link[ledger.link >= 0]] = True
    patient_defects = _plan_patients(
        rng, ledger, rate, sum(patient_counts), guarantor_billed, is_guarantor
    )
    key = ledger.practice * 10**9 + ledger.patient
    defective_patients = np.array([p * 10**9 + i for p, i in patient_defects], dtype=np.int64)
    available = ~targets & ~np.isin(key, defective_patients)

    defect = np.full(rows, NONE, dtype=np.int64)
    total = _share(rate, rows, len(TRANSACTION_DEFECTS))
    is_payment = np.isin(ledger.kind, [INSURANCE_PAYMENT, PATIENT_PAYMENT, REFUND])
    for kind_index, kind in enumerate(TRANSACTION_DEFECTS):
        count = total // len(TRANSACTION_DEFECTS) + (kind_index < total % len(TRANSACTION_DEFECTS))
        eligible = available & (defect == NONE)
        if kind is Defect.UNKNOWN_PAYMENT_TYPE:
            eligible &= is_payment
        if kind is Defect.DUPLICATE_SR_NO:
            eligible &= _has_earlier_rows(ledger)
        candidates = np.flatnonzero(eligible)
        chosen = rng.choice(candidates, min(count, len(candidates)), replace=False)
        defect[np.sort(chosen)] = kind_index

    clean = available & (defect == NONE)
    duplicate_of = _originals(rng, ledger, defect, clean)
    originals = duplicate_of[duplicate_of >= 0]
    clean[originals] = False
    deleted = clean & (rng.random(rows) < DELETED_SHARE)
    padded = clean & ~deleted & (rng.random(rows) < PADDED_SHARE)
    variant = rng.integers(0, 1 << 30, rows)
    touched = clean & ~deleted & (rng.random(rows) < TOUCHED_SHARE)
    return Plan(defect, variant, duplicate_of, deleted, padded, touched, patient_defects)


def _plan_patients(
    rng: np.random.Generator,
    ledger: Ledger,
    rate: float,
    patient_total: int,
    guarantor_billed: list[bool],
    is_guarantor: list[Bools],
) -> dict[tuple[int, int], Defect]:
    """Patients with a transaction of their own (where guarantors are billed, a patient
    who guarantees their family: guarantors who are not patients stay clean)."""
    total = _share(rate, patient_total, len(PATIENT_DEFECT_KINDS))
    if not total:
        return {}
    seen = np.unique(ledger.practice * 10**9 + ledger.patient)
    practice, patient = seen // 10**9, seen % 10**9
    billed = np.array(guarantor_billed)[practice]
    guarantees = np.array(
        [bool(is_guarantor[p][i]) for p, i in zip(practice, patient, strict=True)], dtype=np.bool_
    )
    eligible = seen[~billed | guarantees]
    chosen = rng.choice(eligible, min(total, len(eligible)), replace=False)
    return {
        (int(key // 10**9), int(key % 10**9)): PATIENT_DEFECT_KINDS[i % len(PATIENT_DEFECT_KINDS)]
        for i, key in enumerate(np.sort(chosen))
    }


def _has_earlier_rows(ledger: Ledger) -> Bools:
    """Rows with at least ten rows of their practice loaded before them."""
    order = np.argsort(ledger.practice, kind="stable")
    rank = np.empty(len(ledger), dtype=np.int64)
    starts = np.searchsorted(ledger.practice[order], ledger.practice[order])
    rank[order] = np.arange(len(ledger)) - starts
    return rank >= 10


def _originals(rng: np.random.Generator, ledger: Ledger, defect: Ints, clean: Bools) -> Ints:
    """For each DUPLICATE_SR_NO row, a clean row of its practice loaded strictly earlier."""
    duplicate_of = np.full(len(ledger), NONE, dtype=np.int64)
    duplicates = np.flatnonzero(defect == TRANSACTION_DEFECTS.index(Defect.DUPLICATE_SR_NO))
    by_practice: dict[int, Ints] = {}
    for row in duplicates:
        practice = int(ledger.practice[row])
        if practice not in by_practice:
            same = np.flatnonzero(ledger.practice == practice)
            by_practice[practice] = same[np.argsort(ledger.loaded[same], kind="stable")]
        rows = by_practice[practice]
        earlier = int(np.searchsorted(ledger.loaded[rows], ledger.loaded[row], side="left"))
        for _ in range(50) if earlier else ():
            original = rows[rng.integers(0, earlier)]
            if clean[original]:
                duplicate_of[row] = original
                break
        else:  # nothing clean to duplicate: the row stays clean
            defect[row] = NONE
    return duplicate_of
