"""The contact book: verdicts on emails and phones kept between runs, so that a run
parses only the texts it has not met, with the same customers as without a book."""

from __future__ import annotations

from typing import Any

import email_validator
import pandas as pd
import phonenumbers
import pytest

from ar_pipelines.normalize.contacts import (
    MAX_BOOKED_TEXT,
    ContactBook,
    email_kind,
    phone_kind,
)
from ar_pipelines.normalize.customers import Customers, build_customers
from ar_pipelines.normalize.reasons import Reason
from ar_pipelines.normalize.settings import PracticeSettings
from tests.ar_pipelines.normalize.rows import patient, patients

US = PracticeSettings(phone_region="US")
GB = PracticeSettings(phone_region="GB")

# Patients of every contact case the customer tests know, two practices, shared texts.
FIXTURE = (
    patient("1", cell="(415) 555-2671"),
    patient("2", email=" a@example.com ", homephone="415.555.2671"),
    patient("3", email="jane@@example", cell="(415) 555-2671"),
    patient("4", email="jane@example.com", cell="555"),
    patient("5", cell="12", homephone="not a phone", workphone="(212) 555-0123"),
    patient("6", email=None, cell="555-12"),
    patient("7", email=None, cell=None, homephone="call me"),
    patient("8", email="jane.example.com"),
    patient("9", email="jane@", cell="123"),
    patient("10", email=None),
    patient("11", email=" \u00a0 ", cell=" "),
    patient("12", email="a@example.com", cell="+1 415 555 2671"),
    patient("13", practice_id="P2", email=None, cell="+44 20 7946 0958"),
    patient("14", practice_id="P2", email="Jane@Example.com", cell="(415) 555-2671"),
    patient(None, cell="(415) 555-2671"),
)


def build(
    *rows: dict[str, Any], book: ContactBook | None = None, settings: PracticeSettings = US
) -> Customers:
    return build_customers(patients(*rows), settings, book)


def customers_by_id(built: Customers) -> dict[str, dict[str, Any]]:
    return {row["external_id"]: row for row in built.customers.to_dict("records")}


def test_a_verdict_in_the_book_is_used_without_parsing_the_text() -> None:
    book = ContactBook(
        [
            (email_kind(), "jane1@example.com", "someone.else@example.com"),
            (phone_kind("US"), "(415) 555-2671", "+12125550123"),
        ]
    )

    built = build(patient("1", cell="(415) 555-2671"), book=book)

    assert customers_by_id(built)["P1-1"]["email"] == "someone.else@example.com"
    assert customers_by_id(built)["P1-1"]["phone"] == "+12125550123"
    assert (book.parsed, book.known) == (0, 2)
    assert book.new_verdicts().empty


def test_a_text_the_book_holds_invalid_is_not_parsed_again() -> None:
    book = ContactBook([(email_kind(), "jane1@example.com", None)])

    built = build(patient("1"), book=book)

    assert built.customers.empty
    assert built.quarantine["reason"].tolist() == [Reason.EMAIL_MALFORMED]
    assert (book.parsed, book.known) == (0, 1)


def test_texts_the_book_does_not_know_are_parsed_and_reported_as_new() -> None:
    book = ContactBook()

    build(
        patient("1", email="a@example.com", cell="12", homephone="(415) 555-2671"),
        patient("2", email="a@example.com", cell="12", homephone="(415) 555-2671"),
        book=book,
    )
    build(patient("3", email="b@example.com", cell="12"), book=book, settings=GB)

    new = book.new_verdicts()
    assert sorted(new.itertuples(index=False, name=None), key=str) == sorted(
        [
            (email_kind(), "a@example.com", "a@example.com"),
            (email_kind(), "b@example.com", "b@example.com"),
            (phone_kind("US"), "12", None),
            (phone_kind("US"), "(415) 555-2671", "+14155552671"),
            (phone_kind("GB"), "12", None),
        ],
        key=str,
    )
    assert (book.parsed, book.known) == (5, 0)


def test_a_second_run_with_the_saved_verdicts_parses_nothing() -> None:
    first = ContactBook()
    build(*FIXTURE, book=first)
    again = ContactBook.of(first.new_verdicts())

    build(*FIXTURE, book=again)

    assert (again.parsed, again.known) == (0, first.parsed)
    assert again.new_verdicts().empty


def test_only_a_changed_text_is_parsed_when_the_rest_is_known() -> None:
    first = ContactBook()
    build(patient("1", cell="(415) 555-2671"), patient("2"), book=first)
    again = ContactBook.of(first.new_verdicts())

    built = build(
        patient("1", cell="(415) 555-2671"), patient("2", email="new@example.com"), book=again
    )

    assert customers_by_id(built)["P1-2"]["email"] == "new@example.com"
    assert again.new_verdicts().values.tolist() == [
        [email_kind(), "new@example.com", "new@example.com"]
    ]
    assert (again.parsed, again.known) == (1, 2)


def test_customers_are_the_same_with_a_book_as_without_one() -> None:
    without = build(*FIXTURE)
    empty = ContactBook()
    with_empty = build(*FIXTURE, book=empty)
    full = ContactBook.of(empty.new_verdicts())
    with_full = build(*FIXTURE, book=full)

    assert len(without.customers) > 0
    assert len(without.quarantine) > 0
    for built in (with_empty, with_full):
        pd.testing.assert_frame_equal(built.customers, without.customers)
        pd.testing.assert_frame_equal(built.quarantine, without.quarantine)
        assert built.directory.index == without.directory.index
        assert built.directory.pushable.tolist() == without.directory.pushable.tolist()
        assert built.directory.reason.tolist() == without.directory.reason.tolist()
    assert full.parsed == 0


def test_verdicts_of_another_library_version_are_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(email_validator, "__version__", "0.0.1")
    monkeypatch.setattr(phonenumbers, "__version__", "0.0.1")
    older = ContactBook()
    build(patient("1", cell="(415) 555-2671"), book=older)
    # Verdicts the older libraries would have reached differently.
    saved = older.new_verdicts().assign(value="someone.else@example.com")
    monkeypatch.undo()

    book = ContactBook.of(saved)
    built = build(patient("1", cell="(415) 555-2671"), book=book)

    assert customers_by_id(built)["P1-1"]["email"] == "jane1@example.com"
    assert customers_by_id(built)["P1-1"]["phone"] == "+14155552671"
    assert (book.parsed, book.known) == (2, 0)
    assert book.stale_kinds == {"email/0.0.1", "phone/US/0.0.1"}
    assert set(book.new_verdicts()["kind"]) == {email_kind(), phone_kind("US")}


def test_kinds_name_the_library_versions() -> None:
    assert email_kind() == f"email/{email_validator.__version__}"
    assert phone_kind("GB") == f"phone/GB/{phonenumbers.__version__}"


def test_a_text_too_long_to_key_is_parsed_but_not_kept() -> None:
    long_email = "a" * MAX_BOOKED_TEXT + "@example.com"
    book = ContactBook()

    built = build(patient("1", email=long_email, cell="(415) 555-2671"), book=book)

    assert customers_by_id(built)["P1-1"]["email"] is None
    assert book.parsed == 2
    assert book.new_verdicts()["text"].tolist() == ["(415) 555-2671"]
