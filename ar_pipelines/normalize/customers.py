"""Patients (and guarantors) to AR customers, and the directory transactions find their
customer in.

A practice that bills guarantors bills some people who are not its patients: a guarantor
whose ``guarantor_id`` is no patient's ``patient_id`` in the practice becomes a customer
from its row of the guarantors frame (names and contacts), with the same checks as a
patient, and its quarantine rows say ``guarantors``. A guarantor who is a patient is
billed as that patient, whose row is the one read; its guarantor row is not read.

A customer needs a usable contact. The email must pass ``email-validator`` (syntax only,
no network); the phone is the first of cell, home and work phone that ``phonenumbers``
reads as a valid number in the practice's region, written in E.164. A patient with one
bad and one good contact becomes a customer with the good one only; a patient with none
is quarantined with the most specific reason. Patients are few, so each is checked in a
plain loop; a ``ContactBook`` keeps the verdicts of earlier runs, so only texts not met
before are parsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ar_pipelines.normalize.contacts import ContactBook
from ar_pipelines.normalize.quarantine import REASON_CODES, Triage, quarantine_frame, shown
from ar_pipelines.normalize.reasons import Reason
from ar_pipelines.normalize.settings import PracticeSettings
from ar_pipelines.normalize.text import (
    BoolArray,
    Coded,
    IntArray,
    ObjectArray,
    free_text,
    given,
)

CUSTOMER_COLUMNS = ("external_id", "first_name", "last_name", "email", "phone")
PHONE_COLUMNS = ("cell", "homephone", "workphone")  # tried in this order
PERSON_COLUMNS = (
    "practice_id",
    "patient_id",
    "guarantor_id",
    "firstname",
    "lastname",
    "email",
    *PHONE_COLUMNS,
)
# AR builds statement numbers "STMT-YYYY-MM-{external_id}" in 255 characters.
MAX_CUSTOMER_ID = 255 - len("STMT-2000-01-")
MAX_NAME = 255


def external_ids(practice_id: ObjectArray, source_id: ObjectArray) -> ObjectArray:
    """``"{practice_id}-{id}"`` per row (``None`` where either is missing)."""
    return np.array(
        [
            None if p is None or s is None else f"{p}-{s}"
            for p, s in zip(practice_id, source_id, strict=True)
        ],
        dtype=object,
    )


@dataclass(frozen=True)
class Directory:
    """Every patient a transaction may name, pushable or not, by (practice, patient id)."""

    index: dict[tuple[str, str], int]
    external_id: ObjectArray
    guarantor_id: ObjectArray  # the patient's own guarantor, None if it has none
    guarantor: IntArray  # position of that guarantor (the patient's own if none, -1 unknown)
    is_patient: BoolArray  # False for a guarantor who is not a patient
    pushable: BoolArray
    reason: ObjectArray  # why a patient that is not pushable was quarantined

    def find(self, practice_id: ObjectArray, patient_id: ObjectArray) -> IntArray:
        """Directory positions of the (practice, patient) pairs, ``-1`` when unknown."""
        by_practice = self._by_practice
        nobody: dict[str, int] = {}
        found = (
            by_practice.get(p, nobody).get(q, -1)
            for p, q in zip(practice_id, patient_id, strict=True)
        )
        return np.fromiter(found, dtype=np.int64, count=len(practice_id))

    @cached_property
    def _by_practice(self) -> dict[str, dict[str, int]]:
        """``index`` as one dictionary per practice: looking up a patient then hashes one
        string rather than building and hashing a pair."""
        nested: dict[str, dict[str, int]] = {}
        for (practice, patient), position in self.index.items():
            nested.setdefault(practice, {})[patient] = position
        return nested


@dataclass(frozen=True)
class Customers:
    customers: pd.DataFrame
    quarantine: pd.DataFrame  # patients, then guarantors
    directory: Directory
    people: int  # the rows read: every patient, and the guarantors billed who are not patients
    # Per customer, the text of the source row it was built from (``PERSON_COLUMNS``):
    # with the customer's own values, what tells a run whether to rebuild it.
    sources: ObjectArray


def _object_frame(columns: dict[str, ObjectArray]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(v, dtype=object) for name, v in columns.items()})


def build_customers(
    patients: pd.DataFrame,
    settings: PracticeSettings,
    contacts: ContactBook | None = None,
    guarantors: pd.DataFrame | None = None,
) -> Customers:
    """Customers from ``patients`` (and, for a practice that bills guarantors, from the
    ``guarantors`` who are not patients), the rows that cannot be customers, and the
    directory of everyone a transaction may name. ``contacts`` answers for the emails and
    phones it knows and learns the others (a fresh book when not given)."""
    patients = patients.reset_index(drop=True)
    billed = _billed_guarantors(patients, guarantors, settings)
    people = _people(patients, guarantors, billed)
    is_patient = np.arange(len(people)) < len(patients)
    triage = Triage(len(people))
    ids = _PatientIds.of(people, is_patient)
    in_directory = _check_ids(ids, triage)
    book = ContactBook() if contacts is None else contacts
    emails, phones = _contacts(people, settings, triage, book)
    pushable = triage.clean
    customers = _object_frame(
        {
            "external_id": ids.external_id[pushable],
            "first_name": free_text(_coded(people, "firstname").rows(), MAX_NAME)[pushable],
            "last_name": free_text(_coded(people, "lastname").rows(), MAX_NAME)[pushable],
            "email": emails[pushable],
            "phone": phones[pushable],
        }
    )
    patient_rows = np.flatnonzero(is_patient)
    quarantined = [
        quarantine_frame(
            source="patients",
            frame=patients,
            triage=triage.part(patient_rows),
            practice_id=ids.practice_id[patient_rows],
            source_id=ids.given_patient_id[patient_rows],
            first_row_number=1,
        )
    ]
    if guarantors is not None and len(billed):
        quarantined.append(_guarantor_quarantine(guarantors, billed, ids, triage, is_patient))
    quarantine = pd.concat(quarantined, ignore_index=True)
    directory = _directory(ids, triage, np.flatnonzero(in_directory), is_patient)
    return Customers(
        customers=customers,
        quarantine=quarantine,
        directory=directory,
        people=len(people),
        sources=_row_texts(people)[pushable],
    )


def _row_texts(people: pd.DataFrame) -> ObjectArray:
    """Each person's ``PERSON_COLUMNS`` as given, as one text (a unit separator between
    fields, a missing field apart from an empty one)."""
    columns = [_as_given(people, name).rows() for name in PERSON_COLUMNS]
    return np.array(
        [
            "\x1f".join("\x00" if v is None else str(v) for v in values)
            for values in zip(*columns, strict=True)
        ],
        dtype=object,
    )


def _billed_guarantors(
    patients: pd.DataFrame, guarantors: pd.DataFrame | None, settings: PracticeSettings
) -> IntArray:
    """Rows of ``guarantors`` read as customers: those who are not patients, when the
    practice bills guarantors (none otherwise)."""
    if guarantors is None or not settings.bills_guarantor or not len(guarantors):
        return np.zeros(0, dtype=np.int64)
    guarantors = guarantors.reset_index(drop=True)
    patient_ids = set(
        zip(
            _coded(patients, "practice_id").rows(),
            _coded(patients, "patient_id").rows(),
            strict=True,
        )
    )
    keys = zip(
        _coded(guarantors, "practice_id").rows(),
        _coded(guarantors, "guarantor_id").rows(),
        strict=True,
    )
    return np.flatnonzero(np.fromiter((k not in patient_ids for k in keys), dtype=bool))


def _people(
    patients: pd.DataFrame, guarantors: pd.DataFrame | None, billed: IntArray
) -> pd.DataFrame:
    """Patients, then the billed guarantors shaped as patients: the guarantor's id is its
    ``patient_id``, and it is its own guarantor."""
    if guarantors is None or not len(billed):
        return patients
    taken = guarantors.reset_index(drop=True).iloc[billed]

    def column(name: str) -> ObjectArray:
        source = {"patient_id": "guarantor_id", "guarantor_id": None}.get(name, name)
        from_guarantors = (
            taken[source].to_numpy(dtype=object)
            if source in taken.columns
            else np.full(len(taken), None, dtype=object)
        )
        return np.concatenate([_as_given(patients, name).rows(), from_guarantors])

    return _object_frame({name: column(name) for name in PERSON_COLUMNS})


def _guarantor_quarantine(
    guarantors: pd.DataFrame,
    billed: IntArray,
    ids: _PatientIds,
    triage: Triage,
    is_patient: BoolArray,
) -> pd.DataFrame:
    """The quarantine rows of the billed guarantors, numbered in the guarantors frame."""
    guarantors = guarantors.reset_index(drop=True)
    size, taken = len(guarantors), np.flatnonzero(~is_patient)
    part = Triage(size)
    part.reason[billed] = triage.reason[taken]
    part.detail[billed] = triage.detail[taken]
    practice_id = np.full(size, None, dtype=object)
    source_id = np.full(size, None, dtype=object)
    practice_id[billed] = ids.practice_id[taken]
    source_id[billed] = ids.given_patient_id[taken]
    return quarantine_frame(
        source="guarantors",
        frame=guarantors,
        triage=part,
        practice_id=practice_id,
        source_id=source_id,
        first_row_number=1,
    )


@dataclass(frozen=True)
class _PatientIds:
    practice_id: ObjectArray
    patient_id: ObjectArray
    given_patient_id: ObjectArray  # as the source wrote it
    guarantor_id: ObjectArray
    external_id: ObjectArray
    invisible: BoolArray  # in the practice or the patient id
    id_name: ObjectArray  # "patient_id", or "guarantor_id" for a guarantor who is not a patient

    @classmethod
    def of(cls, patients: pd.DataFrame, is_patient: BoolArray) -> _PatientIds:
        given_patient = _as_given(patients, "patient_id")
        practice, patient = _coded(patients, "practice_id"), given_patient.cleaned()
        practice_id, patient_id = practice.rows(), patient.rows()
        return cls(
            practice_id=practice_id,
            patient_id=patient_id,
            given_patient_id=given_patient.rows(),
            guarantor_id=_coded(patients, "guarantor_id").rows(),
            external_id=external_ids(practice_id, patient_id),
            invisible=practice.invisible() | patient.invisible(),
            id_name=np.where(is_patient, "patient_id", "guarantor_id").astype(object),
        )


def _check_ids(ids: _PatientIds, triage: Triage) -> BoolArray:
    """Quarantines patients without a usable id; returns those a transaction may name."""
    practice_id, patient_id, ext = ids.practice_id, ids.patient_id, ids.external_id
    id_name = ids.id_name
    triage.flag(
        Reason.INVALID_CHARACTERS,
        ids.invisible,
        lambda rows: [
            f"practice_id {shown(practice_id[r])} or {id_name[r]} {shown(patient_id[r])} "
            "contains invisible or control characters"
            for r in rows
        ],
    )
    triage.flag(
        Reason.ID_INVALID,
        ~given(ext),
        lambda rows: [
            "practice_id is empty" if practice_id[r] is None else f"{id_name[r]} is empty"
            for r in rows
        ],
    )
    lengths = pd.Series(ext, dtype=object).str.len().fillna(0).to_numpy(dtype=np.int64)
    triage.flag(
        Reason.ID_INVALID,
        lengths > MAX_CUSTOMER_ID,
        lambda rows: [
            f"external_id {shown(ext[r])} is longer than {MAX_CUSTOMER_ID} characters" for r in rows
        ],
    )
    repeated = pd.Series(ext).duplicated(keep="first").to_numpy() & given(ext)
    triage.flag(
        Reason.ID_INVALID,
        repeated,
        lambda rows: [
            f"{'patient' if id_name[r] == 'patient_id' else 'guarantor'} "
            f"{shown(patient_id[r])} appears more than once"
            for r in rows
        ],
    )
    # A patient too long for AR is still the practice's: its rows are not pushable.
    in_directory: BoolArray = ~ids.invisible & given(ext) & ~repeated
    return in_directory


def _directory(
    ids: _PatientIds, triage: Triage, rows: IntArray, is_patient: BoolArray
) -> Directory:
    index = {(ids.practice_id[r], ids.patient_id[r]): i for i, r in enumerate(rows)}
    guarantor_id = ids.guarantor_id[rows]
    reasons = np.array(
        [None if c < 0 else REASON_CODES[c].value for c in triage.reason], dtype=object
    )
    return Directory(
        index=index,
        external_id=ids.external_id[rows],
        guarantor_id=guarantor_id,
        guarantor=np.array(
            [
                i if g is None else index.get((ids.practice_id[r], g), -1)
                for i, (r, g) in enumerate(zip(rows, guarantor_id, strict=True))
            ],
            dtype=np.int64,
        ),
        is_patient=is_patient[rows],
        pushable=triage.clean[rows],
        reason=reasons[rows],
    )


def _contacts(
    patients: pd.DataFrame, settings: PracticeSettings, triage: Triage, book: ContactBook
) -> tuple[ObjectArray, ObjectArray]:
    """Valid emails and phones per person; quarantines those left without either. Phones
    are read in the practice's region."""
    size = len(patients)
    emails = np.full(size, None, dtype=object)
    phones = np.full(size, None, dtype=object)
    email_text = _coded(patients, "email").rows()
    phone_texts = [_coded(patients, name).rows() for name in PHONE_COLUMNS]
    bad_phone, bad_email, no_contact = (np.zeros(size, dtype=bool) for _ in range(3))
    region = settings.phone_region.strip().upper() or "US"
    for row in np.flatnonzero(triage.clean):
        emails[row] = book.email(email_text[row])
        given = [texts[row] for texts in phone_texts if texts[row] is not None]
        phones[row] = next(
            (p for p in (book.phone(text, region) for text in given) if p is not None), None
        )
        if emails[row] is None and phones[row] is None:
            if email_text[row] is not None:
                bad_email[row] = True
            elif given:
                bad_phone[row] = True
            else:
                no_contact[row] = True
    triage.flag(
        Reason.PHONE_UNPARSEABLE,
        bad_phone,
        lambda rows: [
            "no valid phone in "
            + ", ".join(shown(t[r]) for t in phone_texts if t[r] is not None)
            + " and no email"
            for r in rows
        ],
    )
    triage.flag(
        Reason.EMAIL_MALFORMED,
        bad_email,
        lambda rows: [
            f"email {shown(email_text[r])} is not valid and no valid phone" for r in rows
        ],
    )
    triage.flag(
        Reason.CONTACT_MISSING, no_contact, lambda rows: ["no email and no phone"] * len(rows)
    )
    return emails, phones


def _as_given(frame: pd.DataFrame, name: str) -> Coded:
    """Column ``name`` of ``frame`` as given (all missing when the frame has none)."""
    if name in frame.columns:
        return Coded.as_given(frame[name])
    return Coded.as_given(pd.Series([None] * len(frame), dtype=object))


def _coded(frame: pd.DataFrame, name: str) -> Coded:
    """Column ``name`` of ``frame`` as cleaned text."""
    return _as_given(frame, name).cleaned()
