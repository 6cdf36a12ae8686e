"""Verdicts on contact texts, kept between runs so that each text is parsed once.

Whether an email is valid (and how it is written) depends only on its text and on
``email-validator``'s version; a phone's E.164 form only on its text, the practice's
region and ``phonenumbers``' version. Parsing is most of the cost of building customers,
and from one night to the next almost no patient changes: a ``ContactBook`` holds the
verdicts of earlier runs, answers from them, parses only the texts it does not know,
and hands back the new verdicts to be saved.

A verdict is filed under a ``kind`` that names the library's version (``email/2.4.0``,
``phone/US/9.0.43``): after an upgrade, the old verdicts are never used, only dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

import email_validator
import pandas as pd
import phonenumbers
from email_validator import EmailNotValidError, validate_email

BOOK_COLUMNS = ("kind", "text", "value")
# A longer text is parsed each time rather than kept: no valid email is longer than 254
# characters, and a key must stay small enough for Postgres to index.
MAX_BOOKED_TEXT = 254


class _Missing(Enum):
    UNKNOWN = "unknown"


def email_address(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def phone_number(text: str | None, region: str) -> str | None:
    if text is None:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email_kind() -> str:
    return f"email/{email_validator.__version__}"


def phone_kind(region: str) -> str:
    return f"phone/{region}/{phonenumbers.__version__}"


def is_current(kind: str) -> bool:
    """Whether verdicts of ``kind`` were reached by the libraries installed now."""
    if kind.startswith("phone/"):
        return kind.endswith(f"/{phonenumbers.__version__}") and kind.count("/") == 2
    return kind == email_kind()


class ContactBook:
    """Known verdicts (text to normalized email or E.164 phone, ``None`` when invalid),
    and those reached in this run.

    ``parsed`` and ``known`` count the distinct texts of this run that were parsed and
    that the book already knew.
    """

    def __init__(self, verdicts: Iterable[tuple[str, str, str | None]] = ()) -> None:
        """``verdicts``: (kind, text, value) triples; those of other library versions
        are left out, their kinds listed in ``stale_kinds``."""
        self._saved: dict[str, dict[str, str | None]] = {}
        self.stale_kinds: set[str] = set()
        for kind, text, value in verdicts:
            if is_current(kind):
                self._saved.setdefault(kind, {})[text] = value
            else:
                self.stale_kinds.add(kind)
        self._email_kind = email_kind()
        self._phone_kinds: dict[str, str] = {}
        self._this_run: dict[str, dict[str, str | None]] = {}
        self._new: dict[str, dict[str, str | None]] = {}
        self.parsed = 0
        self.known = 0

    @classmethod
    def of(cls, frame: pd.DataFrame) -> ContactBook:
        """A book of the rows of ``frame`` (columns ``kind``, ``text``, ``value``)."""
        columns = (frame[name].tolist() for name in BOOK_COLUMNS)
        return cls(zip(*columns, strict=True))

    def email(self, text: str | None) -> str | None:
        """The normalized email ``text`` is, ``None`` when it is none."""
        if text is None:
            return None
        kind = self._email_kind
        found = self._recall(kind, text)
        if found is _Missing.UNKNOWN:
            return self._learn(kind, text, email_address(text))
        return found

    def phone(self, text: str | None, region: str) -> str | None:
        """``text`` as an E.164 number read in ``region``, ``None`` when it is none."""
        if text is None:
            return None
        kind = self._phone_kinds.get(region) or self._phone_kinds.setdefault(
            region, phone_kind(region)
        )
        found = self._recall(kind, text)
        if found is _Missing.UNKNOWN:
            return self._learn(kind, text, phone_number(text, region))
        return found

    def new_verdicts(self) -> pd.DataFrame:
        """The verdicts reached in this run, to be saved: ``kind``, ``text``, ``value``."""
        rows = [
            (kind, text, value)
            for kind, verdicts in self._new.items()
            for text, value in verdicts.items()
            if len(text) <= MAX_BOOKED_TEXT
        ]
        return pd.DataFrame(rows, columns=list(BOOK_COLUMNS), dtype=object)

    def _recall(self, kind: str, text: str) -> str | _Missing | None:
        """The verdict on ``text`` met earlier in this run or kept by the book."""
        this_run = self._this_run.setdefault(kind, {})
        found = this_run.get(text, _Missing.UNKNOWN)
        if found is _Missing.UNKNOWN:
            found = self._saved.get(kind, {}).get(text, _Missing.UNKNOWN)
            if found is not _Missing.UNKNOWN:
                this_run[text] = found
                self.known += 1
        return found

    def _learn(self, kind: str, text: str, value: str | None) -> str | None:
        self._this_run[kind][text] = value
        self._new.setdefault(kind, {})[text] = value
        self.parsed += 1
        return value
