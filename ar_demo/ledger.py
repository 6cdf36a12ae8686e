"""The transactions of one demo practice as numeric columns, drawn with vectorized numpy.

Visits come from patients (recall visits and treatment visits); each visit brings its
procedures, and after them the insurance payments (2-8 weeks later, linked to their
procedure), write-offs, patient payments, discounts and refunds; finance charges come
monthly. Nothing happens after the last day of the history.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from ar_demo.catalog import (
    PAYMENT_TYPE_INDEX,
    PROCEDURE_INDEX,
    PROCEDURES,
    SURFACES,
    TREATMENT_CODES,
    TREATMENT_WEIGHTS,
)
from ar_demo.dates import DAY, month_starts
from ar_demo.patients import PracticePatients

Ints = npt.NDArray[np.int64]
PROCEDURE, INSURANCE_PAYMENT, PATIENT_PAYMENT, DISCOUNT, WRITE_OFF, FINANCE, REFUND = range(7)
NONE = -1
VISITS_PER_DAY = 3.0 / 365
FEES = np.array([p.fee for p in PROCEDURES])
COVERAGE = np.array([p.coverage for p in PROCEDURES])
HAS_TOOTH = np.array([p.tooth for p in PROCEDURES])
HAS_SURFACE = np.array([p.surfaces for p in PROCEDURES])
CODE = PROCEDURE_INDEX
PAY = PAYMENT_TYPE_INDEX


@dataclass
class Ledger:
    """One column per field; row i of every column is one transaction. -1 means none."""

    kind: Ints
    patient: Ints
    day: Ints
    loaded: Ints  # seconds since 1970
    cents: Ints  # signed as the source writes it (adjustments negative for credits)
    code: Ints  # procedure
    payment_type: Ints
    estimate: Ints  # cents, on procedures
    amount_paid: Ints  # cents insurance paid, recorded on some procedures
    link: Ints  # row index of a payment's procedure
    claim: Ints
    provider: Ints
    tooth: Ints
    surface: Ints
    practice: Ints

    def __len__(self) -> int:
        return len(self.kind)

    def take(self, index: Ints) -> Ledger:
        return Ledger(*(getattr(self, f.name)[index] for f in fields(self)))


def concat(parts: list[Ledger]) -> Ledger:
    """The parts one after another; links are shifted to stay on their procedures."""
    offsets = np.cumsum([0] + [len(p) for p in parts[:-1]])
    shifted = [np.where(p.link >= 0, p.link + o, NONE) for p, o in zip(parts, offsets, strict=True)]
    columns = {f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Ledger)}
    columns["link"] = np.concatenate(shifted)
    return Ledger(**columns)


def _rows(kind: int, patient: Ints, day: Ints, cents: Ints, **given: Ints) -> dict[str, Ints]:
    n = len(patient)
    columns = {f.name: np.full(n, NONE, dtype=np.int64) for f in fields(Ledger)}
    columns.update(kind=np.full(n, kind), patient=patient, day=day, cents=cents, **given)
    return columns


def make_ledger(
    rng: np.random.Generator, practice: int, patients: PracticePatients, start: int, end: int
) -> Ledger:
    n = len(patients.ids)
    fee_level = rng.uniform(0.85, 1.25)
    fees = np.round(FEES * fee_level).astype(np.int64) * 100
    span = end - patients.first_day + 1
    visits = rng.poisson(VISITS_PER_DAY * span)
    v_patient = np.repeat(np.arange(n), visits)
    v_day = patients.first_day[v_patient] + (rng.random(len(v_patient)) * span[v_patient]).astype(
        np.int64
    )
    v_count = len(v_patient)
    recall = rng.random(v_count) < 0.6
    child = patients.child[v_patient]
    perio = ~child & (rng.random(n) < 0.1)[v_patient]
    cleaning = np.where(child, CODE["D1120"], np.where(perio, CODE["D4910"], CODE["D1110"]))
    treatment = rng.choice(TREATMENT_CODES, size=(v_count, 2), p=_weights())
    parts = [
        (recall, np.full(v_count, CODE["D0120"])),
        (recall, cleaning),
        (recall & (rng.random(v_count) < 0.4), np.full(v_count, CODE["D0274"])),
        (recall & child & (rng.random(v_count) < 0.5), np.full(v_count, CODE["D1206"])),
        (~recall, treatment[:, 0]),
        (~recall & (rng.random(v_count) < 0.3), treatment[:, 1]),
    ]
    p_visit = np.concatenate([np.flatnonzero(mask) for mask, _ in parts])
    p_code = np.concatenate([codes[mask] for mask, codes in parts])
    p_patient, p_day = v_patient[p_visit], v_day[p_visit]
    p_fee = fees[p_code]
    insured = patients.insured[p_patient]
    p_estimate = np.where(insured, np.round(p_fee * COVERAGE[p_code]), 0).astype(np.int64)
    claim = np.where(patients.insured[v_patient], np.arange(v_count) + 5001, NONE)
    p_count = len(p_code)

    # Insurance pays most claimed procedures 2-8 weeks later, often less than estimated.
    paid_ratio = np.where(rng.random(p_count) < 0.6, 1.0, rng.uniform(0.7, 1.0, p_count))
    p_paid = np.round(p_estimate * paid_ratio).astype(np.int64)
    i_day = p_day + rng.integers(14, 57, p_count)
    pays = insured & (rng.random(p_count) < 0.95) & (i_day <= end) & (p_paid > 0)
    on_procedure = pays & (rng.random(p_count) < 0.5)
    ins = np.flatnonzero(pays)
    ins_type = np.where(rng.random(len(ins)) < 0.7, PAY["INS"], PAY["INSCHK"])
    write_off = np.round((p_fee - p_paid) * rng.uniform(0.3, 0.8, p_count)).astype(np.int64)
    wo = np.flatnonzero(pays & (rng.random(p_count) < 0.35) & (write_off > 0))

    # Patients pay their share at the visit or within weeks, sometimes half of it.
    share = np.bincount(p_visit, weights=p_fee - p_estimate, minlength=v_count).astype(np.int64)
    share = np.where(rng.random(v_count) < 0.2, share // 200 * 100, share)
    pp_day = v_day + np.where(rng.random(v_count) < 0.6, 0, rng.integers(1, 46, v_count))
    pp = np.flatnonzero((rng.random(v_count) < 0.85) & (share > 0) & (pp_day <= end))
    pp_type = rng.choice([PAY["CASH"], PAY["CHECK"], PAY["CC"]], len(pp), p=[0.15, 0.25, 0.6])
    visit_fee = np.bincount(p_visit, weights=p_fee, minlength=v_count)
    disc = np.flatnonzero(rng.random(v_count) < 0.06)
    disc_share = rng.choice([0.05, 0.1, 0.15], len(disc))
    disc_cents = np.maximum(100, np.round(visit_fee[disc] * disc_share, -2)).astype(np.int64)
    refund_day = pp_day[pp] + rng.integers(7, 32, len(pp))
    refunds = np.flatnonzero((rng.random(len(pp)) < 0.015) & (refund_day <= end))
    refund_cents = np.maximum(100, share[pp][refunds] * rng.integers(1, 10, len(refunds)) // 10)

    # Finance charges on the first of a month, on patients who have been seen.
    seen = np.unique(v_patient)
    fin_count = rng.binomial(len(seen) * max(1, (end - start) // 30), 0.01) if len(seen) else 0
    fin_patient = rng.choice(seen, fin_count) if fin_count else np.zeros(0, np.int64)
    fin_day = np.maximum(
        month_starts(rng.integers(patients.first_day[fin_patient], end + 1)),
        patients.first_day[fin_patient] + 1,
    )
    fin_keep = fin_day <= end
    fin_patient, fin_day = fin_patient[fin_keep], fin_day[fin_keep]

    provider = np.where(np.isin(p_code, [CODE["D1110"], CODE["D1120"], CODE["D4910"]]), 2, 0)
    blocks = [
        _rows(
            PROCEDURE,
            p_patient,
            p_day,
            p_fee,
            code=p_code,
            estimate=p_estimate,
            amount_paid=np.where(on_procedure, p_paid, 0),
            claim=claim[p_visit],
            provider=provider + (p_patient % 2),
            tooth=np.where(HAS_TOOTH[p_code], rng.integers(1, 33, p_count), NONE),
            surface=np.where(HAS_SURFACE[p_code], rng.integers(0, len(SURFACES), p_count), NONE),
        ),
        _rows(
            INSURANCE_PAYMENT,
            p_patient[ins],
            i_day[ins],
            p_paid[ins],
            payment_type=ins_type,
            link=ins,
            claim=claim[p_visit[ins]],
        ),
        _rows(WRITE_OFF, p_patient[wo], i_day[wo], -write_off[wo], payment_type=_full(wo, "WO")),
        _rows(PATIENT_PAYMENT, v_patient[pp], pp_day[pp], share[pp], payment_type=pp_type),
        _rows(
            DISCOUNT, v_patient[disc], v_day[disc], -disc_cents, payment_type=_full(disc, "DISC")
        ),
        _rows(
            REFUND,
            v_patient[pp][refunds],
            refund_day[refunds],
            refund_cents,
            payment_type=_full(refunds, "REFUND"),
        ),
        _rows(
            FINANCE,
            fin_patient,
            fin_day,
            rng.integers(150, 2501, len(fin_patient)),
            payment_type=_full(fin_patient, "FIN"),
        ),
    ]
    columns = {
        name: np.concatenate([b[name] for b in blocks]).astype(np.int64) for name in blocks[0]
    }
    rows = len(columns["kind"])
    columns["loaded"] = columns["day"] * DAY + rng.integers(8 * 3600, 3 * DAY, rows)
    columns["practice"] = np.full(rows, practice)
    return Ledger(**columns)


def _full(like: npt.NDArray[np.int64], payment_type: str) -> Ints:
    return np.full(len(like), PAY[payment_type], dtype=np.int64)


def _weights() -> npt.NDArray[np.float64]:
    weights = np.array(TREATMENT_WEIGHTS, dtype=np.float64)
    normalized: npt.NDArray[np.float64] = weights / weights.sum()
    return normalized
