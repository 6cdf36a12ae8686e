"""Patients of one demo practice: families under a guarantor, with contacts that parse."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

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

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Row = dict[str, object]
NBSP = "\u00a0"
FAMILY_SIZES = np.array([1, 2, 3, 4, 5])
FAMILY_WEIGHTS = np.array([0.35, 0.25, 0.2, 0.15, 0.05])


@dataclass
class PracticePatients:
    rows: list[Row]
    ids: list[str]
    first_day: Ints  # the first day the patient can be seen
    guarantor: Ints  # index of the patient's guarantor (their own for a guarantor)
    insured: Bools
    child: Bools


def make_patients(
    rng: np.random.Generator, practice_id: str, n: int, city: City, start: int, end: int
) -> PracticePatients:
    sizes = rng.choice(FAMILY_SIZES, size=n, p=FAMILY_WEIGHTS)
    families = int(np.searchsorted(np.cumsum(sizes), n)) + 1
    family = np.repeat(np.arange(families), sizes[:families])[:n]
    family_start = np.searchsorted(family, np.arange(families))
    guarantor = family_start[family].astype(np.int64)
    member = np.arange(n) - guarantor
    child = (member >= 2) | ((member == 1) & (rng.random(n) < 0.4))
    insured = (rng.random(families) < 0.65)[family]
    existing = rng.random(n) < 0.75
    first_day = np.where(existing, start, rng.integers(start, end + 1, n)).astype(np.int64)
    first_day = np.maximum(first_day, first_day[guarantor])  # a family joins together
    loaded = np.where(
        first_day == start,
        (start - 1) * DAY + rng.integers(0, DAY, n),
        first_day * DAY + rng.integers(0, 6 * 3600, n),
    )
    age_days = np.where(child, rng.integers(365, 19 * 365, n), rng.integers(22 * 365, 80 * 365, n))
    created = np.where(existing, start - rng.integers(30, 3650, n), first_day)
    has_email = rng.random(n) < np.where(child, 0.3, 0.85)
    has_cell = rng.random(n) < np.where(child, 0.2, 0.8)
    has_home = rng.random(n) < 0.3
    has_work = ~child & (rng.random(n) < 0.1)
    has_cell |= ~(has_email | has_home | has_work)  # every clean patient can be reached
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
    }
    ids = [str(10001 + i) for i in range(n)]
    birth = first_day - age_days
    rows = []
    for i in range(n):
        first = FIRST_NAMES[draws["first"][i]]
        last = LAST_NAMES[draws["last"][i]]
        middle_draw = int(draws["middle"][i])
        street = int(draws["street"][i])
        phones = [
            phone_text(city.area_codes[int(a)], int(d), int(f))
            for a, d, f in zip(
                draws["area"][i], draws["phones"][i], draws["format"][i], strict=True
            )
        ]
        email = f"{_ascii(first)}.{_ascii(last)}{draws['email_no'][i]}@"
        email += EMAIL_DOMAINS[draws["domain"][i]]
        rows.append(
            {
                "practice_id": practice_id,
                "patient_id": ids[i],
                "guarantor_id": ids[guarantor[i]],
                "firstname": f"{NBSP}{first}{NBSP}" if draws["nbsp"][i] else first,
                "middlename": chr(65 + middle_draw) if middle_draw < 26 else "",
                "lastname": last,
                "preferred_name": "",
                "email": email if has_email[i] else "",
                "cell": phones[0] if has_cell[i] else "",
                "homephone": phones[1] if has_home[i] else "",
                "workphone": phones[2] if has_work[i] else "",
                "birthdate": day_text(int(birth[i])),
                "status": "Inactive" if draws["inactive"][i] else "Active",
                "address_line1": f"{draws['street_no'][i]} {STREETS[street % len(STREETS)]} "
                f"{STREET_KINDS[street // len(STREETS)]}",
                "city": city.name,
                "state": city.state,
                "zipcode": f"{city.zip_prefix}{draws['zip'][i]:02d}",
                "created_date": day_text(int(created[i])),
                "loaded_date": timestamp(int(loaded[i])),
            }
        )
    return PracticePatients(rows, ids, first_day, guarantor, insured, child)


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
