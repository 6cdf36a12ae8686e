"""Patients of one demo practice: families under a guarantor, with contacts that parse.

Most families are guaranteed by one of their members; some by a person who is not a
patient of the practice (a parent or an employer), who is only in ``guarantors``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ar_demo.catalog import (
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    STREET_KINDS,
    STREETS,
    City,
)
from ar_demo.dates import DAY, day_text, timestamp
from ar_pipelines.sources import schema

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Row = dict[str, object]
NBSP = "\u00a0"
FAMILY_SIZES = np.array([1, 2, 3, 4, 5])
FAMILY_WEIGHTS = np.array([0.35, 0.25, 0.2, 0.15, 0.05])
OUTSIDE_GUARANTOR_SHARE = 0.15
FIRST_OUTSIDE_GUARANTOR = 900_001
# A guarantor's own fields: Sikka's, less the ids the generator sets itself.
GUARANTOR_FIELDS = tuple(
    name
    for name in schema.GUARANTOR_FIELDS
    if name not in ("guarantor_id", "patient_id", "practice_id")
)


def blank(index: int) -> str | None:
    """An empty value as Sikka's sources give it: sometimes NULL, sometimes ``""``."""
    return None if index % 2 else ""


@dataclass
class PracticePatients:
    rows: list[Row]
    ids: list[str]
    first_day: Ints  # the first day the patient can be seen
    guarantor_ids: list[str]  # each patient's guarantor
    is_guarantor: Bools  # the patient guarantees their own family
    insured: Bools
    child: Bools
    outside_guarantors: list[Row]  # guarantors who are not patients


def make_patients(
    rng: np.random.Generator,
    office_id: str,
    practice_id: str,
    n: int,
    city: City,
    start: int,
    end: int,
) -> PracticePatients:
    sizes = rng.choice(FAMILY_SIZES, size=n, p=FAMILY_WEIGHTS)
    families = int(np.searchsorted(np.cumsum(sizes), n)) + 1
    family = np.repeat(np.arange(families), sizes[:families])[:n]
    family_start = np.searchsorted(family, np.arange(families))
    head = family_start[family].astype(np.int64)
    member = np.arange(n) - head
    child = (member >= 2) | ((member == 1) & (rng.random(n) < 0.4))
    insured = (rng.random(families) < 0.65)[family]
    existing = rng.random(n) < 0.75
    first_day = np.where(existing, start, rng.integers(start, end + 1, n)).astype(np.int64)
    first_day = np.maximum(first_day, first_day[head])  # a family joins together
    loaded = np.where(
        first_day == start,
        (start - 1) * DAY + rng.integers(0, DAY, n),
        first_day * DAY + rng.integers(0, 6 * 3600, n),
    )
    loaded = np.maximum(loaded, loaded[head])  # the family's head first, as its guarantor
    age_days = np.where(child, rng.integers(365, 19 * 365, n), rng.integers(22 * 365, 80 * 365, n))
    created = np.where(existing, start - rng.integers(30, 3650, n), first_day)
    has_email = rng.random(n) < np.where(child, 0.3, 0.85)
    has_cell = rng.random(n) < np.where(child, 0.2, 0.8)
    has_home = rng.random(n) < 0.3
    has_work = ~child & (rng.random(n) < 0.1)
    has_cell |= ~(has_email | has_home | has_work)  # every clean patient can be reached
    outside = rng.random(families) < OUTSIDE_GUARANTOR_SHARE
    draws = {
        "first": rng.integers(0, len(FIRST_NAMES), n),
        "last": rng.integers(0, len(LAST_NAMES), families)[family],
        "middle": rng.integers(0, 26 * 3, n),  # no middle initial two times in three
        "nbsp": rng.random(n) < 0.03,
        "street_no": rng.integers(10, 9999, families)[family],
        "street": rng.integers(0, len(STREETS) * len(STREET_KINDS), families)[family],
        "zip": rng.integers(0, 100, families)[family],
        "email_no": rng.integers(1, 999, n),
        "domain": rng.integers(0, len(EMAIL_DOMAINS), n),
        "phones": rng.integers(0, 10**7, (n, 3)),
        "area": rng.integers(0, len(city.area_codes), (n, 3)),
        "format": rng.integers(0, len(PHONE_FORMATS), (n, 3)),
        "inactive": rng.random(n) < 0.04,
        "outside_first": rng.integers(0, len(FIRST_NAMES), families),
        "outside_phone": rng.integers(0, 10**7, families),
    }
    ids = [str(10001 + i) for i in range(n)]
    guarantor_ids = [
        str(FIRST_OUTSIDE_GUARANTOR + int(family[i])) if outside[family[i]] else ids[head[i]]
        for i in range(n)
    ]
    is_guarantor = (np.arange(n) == head) & ~outside[family]
    birth = first_day - age_days
    rows = []
    for i in range(n):
        first = FIRST_NAMES[draws["first"][i]]
        last = LAST_NAMES[draws["last"][i]]
        middle_draw = int(draws["middle"][i])
        phones = [
            phone_text(city.area_codes[int(a)], int(d), int(f))
            for a, d, f in zip(
                draws["area"][i], draws["phones"][i], draws["format"][i], strict=True
            )
        ]
        empty = blank(i)
        rows.append(
            {
                "office_id": office_id,
                "practice_id": practice_id,
                "patient_id": ids[i],
                "guarantor_id": guarantor_ids[i],
                "firstname": f"{NBSP}{first}{NBSP}" if draws["nbsp"][i] else first,
                "middlename": chr(65 + middle_draw) if middle_draw < 26 else empty,
                "lastname": last,
                "preferred_name": empty,
                "email": _email(first, last, draws, i) if has_email[i] else empty,
                "cell": phones[0] if has_cell[i] else empty,
                "homephone": phones[1] if has_home[i] else empty,
                "workphone": phones[2] if has_work[i] else empty,
                "birthdate": day_text(int(birth[i])),
                "status": "Inactive" if draws["inactive"][i] else "Active",
                "address_line1": _address(draws, i),
                "city": city.name,
                "state": city.state,
                "zipcode": f"{city.zip_prefix}{draws['zip'][i]:02d}",
                "created_date": day_text(int(created[i])),
                "_loaded_at": timestamp(int(loaded[i])),
            }
        )
    outside_rows = []
    for f in np.flatnonzero(outside):
        member0 = int(family_start[f])
        first = FIRST_NAMES[draws["outside_first"][f]]
        last = str(rows[member0]["lastname"])
        area = city.area_codes[int(f) % len(city.area_codes)]
        members = np.flatnonzero(family == f)
        empty = blank(int(f))
        outside_rows.append(
            {
                "office_id": office_id,
                "guarantor_id": str(FIRST_OUTSIDE_GUARANTOR + int(f)),
                "patient_id": empty,
                "practice_id": practice_id,
                "firstname": first,
                "middlename": empty,
                "lastname": last,
                "status": "Non-Patient",
                "address_line1": rows[member0]["address_line1"],
                "city": city.name,
                "state": city.state,
                "zipcode": rows[member0]["zipcode"],
                "cell": phone_text(area, int(draws["outside_phone"][f]), int(f) % 6),
                "homephone": empty,
                "workphone": empty,
                "email": f"{_ascii(first)}.{_ascii(last)}.{int(f)}@{EMAIL_DOMAINS[0]}",
                "_loaded_at": timestamp(int(loaded[members].min()) - 60),
            }
        )
    return PracticePatients(
        rows, ids, first_day, guarantor_ids, is_guarantor, insured, child, outside_rows
    )


def guarantor_rows(people: PracticePatients) -> list[Row]:
    """Every guarantor of the practice: the patients who guarantee their family (with
    their contacts as finally written) and the guarantors who are not patients."""
    own = [
        {
            "office_id": row["office_id"],
            "guarantor_id": row["patient_id"],
            "patient_id": row["patient_id"],
            "practice_id": row["practice_id"],
            **{name: row[name] for name in GUARANTOR_FIELDS},
            "_loaded_at": row["_loaded_at"],
        }
        for row, is_guarantor in zip(people.rows, people.is_guarantor, strict=True)
        if is_guarantor
    ]
    return sorted([*own, *people.outside_guarantors], key=lambda r: int(str(r["guarantor_id"])))


def _email(first: str, last: str, draws: dict[str, npt.NDArray[Any]], i: int) -> str:
    return (
        f"{_ascii(first)}.{_ascii(last)}{draws['email_no'][i]}@" + EMAIL_DOMAINS[draws["domain"][i]]
    )


def _address(draws: dict[str, npt.NDArray[Any]], i: int) -> str:
    street = int(draws["street"][i])
    kind = STREET_KINDS[street // len(STREETS)]
    return f"{draws['street_no'][i]} {STREETS[street % len(STREETS)]} {kind}"


PHONE_FORMATS = (
    "({a}) {x}-{n}",
    "{a}.{x}.{n}",
    "+1 {a} {x} {n}",
    "{a}-{x}-{n}",
    "{a}{x}{n}",
    "1-{a}-{x}-{n}",
)


def phone_text(area: str, draw: int, style: int) -> str:
    """A valid US number in one of the formats practices type them in."""
    exchange = 200 + draw // 10**4 % 800
    if exchange % 100 == 11 or exchange == 555:  # N11 and 555 exchanges are not assigned
        exchange += 1
    return PHONE_FORMATS[style].format(a=area, x=exchange, n=f"{draw % 10**4:04d}")


def _ascii(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return plain.replace("'", "").lower()
