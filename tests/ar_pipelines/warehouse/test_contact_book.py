"""``normalized.contact_book`` keeps contact verdicts per practice, on both dialects."""

from __future__ import annotations

import pandas as pd

from ar_pipelines.normalize.contacts import BOOK_COLUMNS, ContactBook, email_kind, phone_kind
from ar_pipelines.warehouse import CONTACT_BOOK, Warehouse


def verdicts(*rows: tuple[str, str, str | None]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(BOOK_COLUMNS), dtype=object)


def test_contact_verdicts_come_back_as_written_invalid_ones_as_none(
    warehouse: Warehouse,
) -> None:
    written = verdicts(
        (email_kind(), "Zoë@Example.com", "Zoë@example.com"),
        (email_kind(), 'jane"@,example', None),
        (phone_kind("US"), "(415) 555-2671", "+14155552671"),
        (phone_kind("GB"), "(415) 555-2671", None),
    )
    warehouse.upsert(CONTACT_BOOK, written.assign(practice_id="A"))
    warehouse.upsert(CONTACT_BOOK, written.iloc[:1].assign(practice_id="B", value="other"))

    back = warehouse.read(CONTACT_BOOK, practice_id="A", columns=BOOK_COLUMNS)

    rows = sorted(back.itertuples(index=False, name=None), key=str)
    assert rows == sorted(written.itertuples(index=False, name=None), key=str)
    book = ContactBook.of(back)
    assert book.email("Zoë@Example.com") == "Zoë@example.com"
    assert book.email('jane"@,example') is None
    assert book.phone("(415) 555-2671", "GB") is None
    assert (book.parsed, book.known) == (0, 3)


def test_writing_a_verdict_again_keeps_one_row_per_practice_kind_and_text(
    warehouse: Warehouse,
) -> None:
    row = verdicts((email_kind(), "a@example.com", "a@example.com")).assign(practice_id="A")
    warehouse.upsert(CONTACT_BOOK, row)
    warehouse.upsert(CONTACT_BOOK, row)
    warehouse.upsert(CONTACT_BOOK, row.assign(kind="email/0.0.1"))

    back = warehouse.read(CONTACT_BOOK, practice_id="A")

    assert sorted(back["kind"]) == sorted([email_kind(), "email/0.0.1"])
