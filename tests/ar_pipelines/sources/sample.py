"""A small hand-written Sikka-shaped source, and the frames every reader must give for it.

Values carry what real sources do: NULLs, empty strings, stray whitespace, Unicode
(accents, CJK, an emoji), text in numeric fields. Practice ids differ in case
(``"Zeta"`` sorts before ``"alpha"`` by code point, after it in a case-blind
collation), and rows share loaded dates across practices, so the source order is
tested where databases would disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, insert

from ar_pipelines.sources import schema

Row = dict[str, Any]
T0 = datetime.fromisoformat("2024-03-01 08:00:00")
PRACTICES = ("Zeta", "alpha")

PRACTICE_ROWS: list[Row] = [
    {"practice_id": "alpha", "practice_name": "Clínica Dental Ñandú", "bill_to": "patient"},
    {"practice_id": "Zeta", "practice_name": "  Zeta Smiles  ", "bill_to": "guarantor"},
]

PAYMENT_TYPE_ROWS: list[Row] = [
    {"practice_id": practice, "code": code, "description": description, **flags}
    for practice in PRACTICES
    for code, description, flags in (
        ("CASH", "Cash", {"is_insurance_type": "0", "is_adjustment_type": "0"}),
        ("INS", "Insurance check", {"is_insurance_type": "1", "is_adjustment_type": ""}),
        ("ADJ", "Courtesy \u2013 10 %", {"is_adjustment_type": "true", "is_refund_type": None}),
        ("REF", "", {"is_refund_type": "1"}),
    )
]

PATIENT_ROWS: list[Row] = [
    {
        "practice_id": "alpha",
        "patient_id": "10",
        "firstname": "Zoë",
        "lastname": "Ørsted",
        "email": "zoe@example.com",
        "cell": "(555) 010-2030",
        "loaded_date": T0,
    },
    {
        "practice_id": "alpha",
        "patient_id": "9",
        "guarantor_id": "10",
        "firstname": " Ana ",
        "middlename": "",
        "lastname": "García",
        "homephone": None,
        "loaded_date": T0,
    },
    {
        "practice_id": "Zeta",
        "patient_id": "1",
        "firstname": "李",
        "lastname": "小龍 😀",
        "email": "",
        "workphone": "+1 555 010 9999",
        "loaded_date": T0 + timedelta(hours=1),
    },
    {
        "practice_id": "Zeta",
        "patient_id": "2",
        "firstname": "\tTab",
        "lastname": "Line\nBreak",
        "status": "Inactive",
        "loaded_date": T0 + timedelta(hours=1),
    },
]


def transaction(practice_id: str, sr_no: str, loaded: datetime, **values: Any) -> Row:
    row: Row = dict.fromkeys(schema.TRANSACTION_COLUMNS)
    row.update(
        transaction_sr_no=sr_no,
        practice_id=practice_id,
        patient_id="10" if practice_id == "alpha" else "1",
        transaction_type="Procedure",
        transaction_date="2024-02-27",
        amount="125.00",
        procedure_code="D1110",
        loaded_date=loaded,
    )
    row.update(values)
    return row


def first_round() -> list[Row]:
    """Transactions of a first load: varied values, loaded dates shared across practices."""
    t = T0
    return [
        transaction("alpha", "a1", t, procedure_description="Prophylaxis \u2013 adult"),
        transaction("Zeta", "z1", t, amount="", note="amount left empty"),
        transaction("alpha", "a2", t, transaction_type="Payment", amount="-50", payment_type="INS"),
        transaction("Zeta", "z2", t + timedelta(minutes=5), amount=None, tooth_from="  3 "),
        transaction("alpha", "a3", t + timedelta(minutes=5), amount="12.5O", note="Ünïcödé ✓"),
        transaction(
            "Zeta",
            "z3",
            t + timedelta(hours=2),
            transaction_type="Adjustment",
            amount="-10.00",
            payment_type="ADJ",
            note="line one\nline two",
        ),
        transaction(
            "alpha",
            "a4",
            t + timedelta(hours=3),
            claim_sr_no="",
            surface="MOD",
            payment_link_id="a1",
            is_deleted="1",
        ),
        transaction("Zeta", "z4", t + timedelta(hours=3), quantity="1", note="  padded  "),
    ]


def later_round(tag: str, loaded: Sequence[datetime]) -> list[Row]:
    """One transaction per loaded date, alternating practices, ids tagged by round."""
    return [
        transaction(PRACTICES[index % 2], f"{tag}{index}", when, amount=f"{index}.25")
        for index, when in enumerate(loaded)
    ]


def reset(engine: Engine) -> None:
    schema.metadata.drop_all(engine)
    schema.create_tables(engine)


def fill(engine: Engine, transactions: Iterable[Row] = ()) -> None:
    """Fresh tables holding the practices, payment types, patients and ``transactions``."""
    reset(engine)
    with engine.begin() as connection:
        connection.execute(insert(schema.practices), PRACTICE_ROWS)
        connection.execute(insert(schema.payment_types), complete(PAYMENT_TYPE_ROWS))
        connection.execute(insert(schema.patients), complete(PATIENT_ROWS))
    add_transactions(engine, transactions)


def add_transactions(engine: Engine, rows: Iterable[Row]) -> None:
    rows = list(rows)
    if rows:
        with engine.begin() as connection:
            connection.execute(insert(schema.transactions), rows)


def complete(rows: Iterable[Row]) -> list[Row]:
    """Every row with the same keys, as an executemany needs."""
    rows = list(rows)
    keys = {key for row in rows for key in row}
    return [{key: row.get(key) for key in keys} for row in rows]


def expected_frame(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], order: Sequence[str]
) -> pd.DataFrame:
    """What a reader must give for ``rows``: text or None, sorted by ``order`` (by code
    point) and then by insertion."""

    def text(value: Any) -> str | None:
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return None if value in (None, "") else str(value)

    indexed = sorted(
        enumerate(rows), key=lambda item: (*[text(item[1][k]) for k in order], item[0])
    )
    data = [[text(row.get(column)) for column in columns] for _, row in indexed]
    return pd.DataFrame(data, columns=list(columns), dtype=object)


def expected_transactions(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    return expected_frame(rows, schema.TRANSACTION_COLUMNS, ("loaded_date", "practice_id"))


def expected_patients() -> pd.DataFrame:
    columns = tuple(column.name for column in schema.patients.columns)
    return expected_frame(PATIENT_ROWS, columns, ("practice_id", "patient_id"))


def expected_practices() -> pd.DataFrame:
    rows = [{"phone_region": "US", **row} for row in PRACTICE_ROWS]
    columns = tuple(column.name for column in schema.practices.columns)
    return expected_frame(rows, columns, ("practice_id",))


def expected_payment_types() -> pd.DataFrame:
    columns = tuple(column.name for column in schema.payment_types.columns)
    return expected_frame(PAYMENT_TYPE_ROWS, columns, ("practice_id", "code"))


def read_all(chunks: Iterable[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """The chunks of an extract as one frame (empty, with the columns, when none)."""
    frames = list(chunks)
    if not frames:
        return pd.DataFrame([], columns=list(columns), dtype=object)
    return pd.concat(frames, ignore_index=True)


Read = Callable[[datetime | None, timedelta], tuple[pd.DataFrame, datetime | None]]


def check_incremental_rounds(engine: Engine, read: Read) -> None:
    """Loads arrive in rounds, some late; each read gives exactly the rows loaded at or
    after ``cursor - lookback`` and moves the cursor to the latest one read."""
    lookback = timedelta(hours=1)
    rows = first_round()
    fill(engine, rows)

    got, cursor = read(None, lookback)
    assert_frames_equal(got, expected_transactions(rows))
    assert cursor == T0 + timedelta(hours=3)

    assert cursor is not None
    second = later_round(
        "r2-",
        [
            cursor + timedelta(hours=1),  # new
            cursor - timedelta(minutes=30),  # late, within the lookback: read
            cursor,  # the cursor's own second: read again, never skipped
            cursor - timedelta(hours=1, seconds=1),  # later than the lookback reaches: not read
        ],
    )
    add_transactions(engine, second)
    rows += second
    got, next_cursor = read(cursor, lookback)
    threshold = cursor - lookback
    assert_frames_equal(
        got, expected_transactions(r for r in rows if r["loaded_date"] >= threshold)
    )
    assert {"z3", "a4", "z4", "r2-0", "r2-1", "r2-2"} == set(got["transaction_sr_no"])
    assert next_cursor == cursor + timedelta(hours=1)

    got, last_cursor = read(next_cursor, lookback)  # nothing new: the lookback again
    threshold = next_cursor - lookback
    assert_frames_equal(
        got, expected_transactions(r for r in rows if r["loaded_date"] >= threshold)
    )
    assert {"a4", "z4", "r2-0", "r2-2"} == set(got["transaction_sr_no"])
    assert last_cursor == next_cursor


def assert_frames_equal(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal frames of text: same columns, order, values; object dtype, str or None."""
    assert list(got.columns) == list(expected.columns)
    assert all(pd.api.types.is_object_dtype(dtype) for dtype in got.dtypes)
    for value in got.to_numpy().ravel():
        assert value is None or type(value) is str, repr(value)
    assert got.reset_index(drop=True).to_dict("split") == expected.to_dict("split")
