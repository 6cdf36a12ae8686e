"""A small hand-written landed Sikka office, and the frames every reader must give for it.

Values carry what real sources do: NULLs, empty strings, stray whitespace, Unicode
(accents, CJK, an emoji), text in numeric fields, four-decimal amounts and ``T00:00:00``
dates. Practice ids differ in case (``"Zeta"`` sorts before ``"alpha"`` by code point,
after it in a case-blind collation), and rows share load times across practices, so the
source order is tested where databases would disagree. Rows are written into the tables
of ``schema`` with the demo loader's columns: ``office_id``, ``_loaded_at`` and
``_row_id`` (insertion order).
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
OFFICE = "D1000"
PRACTICES = ("Zeta", "alpha")
LOADED_AT = schema.LOADED_AT

PRACTICE_ROWS: list[Row] = [
    {"practice_id": "alpha", "name": "Clínica Dental Ñandú", "city": "Austin", "phone": ""},
    {"practice_id": "Zeta", "name": "  Zeta Smiles  ", "state": "TX", "phone": "5550100"},
]

PAYMENT_TYPE_ROWS: list[Row] = [
    {"practice_id": practice, "code": code, "description": description, **flags}
    for practice in PRACTICES
    for code, description, flags in (
        ("CASH", "Cash", {"is_insurance_type": "0", "is_adjustment_type": "false"}),
        ("INS", "Insurance check", {"is_insurance_type": "1", "is_adjustment_type": ""}),
        ("ADJ", "Courtesy \u2013 10 %", {"is_adjustment_type": "True"}),
        ("DADJ", "", {"is_debit_adjustment_type": " yes "}),
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
        "birthdate": "1980-01-31T00:00:00",
        LOADED_AT: T0,
    },
    {
        "practice_id": "alpha",
        "patient_id": "9",
        "guarantor_id": "10",
        "firstname": " Ana ",
        "middlename": "",
        "lastname": "García",
        "homephone": None,
        LOADED_AT: T0,
    },
    {
        "practice_id": "Zeta",
        "patient_id": "1",
        "firstname": "李",
        "lastname": "小龍 😀",
        "email": "",
        "workphone": "+1 555 010 9999",
        LOADED_AT: T0 + timedelta(hours=1),
    },
    {
        "practice_id": "Zeta",
        "patient_id": "2",
        "firstname": "\tTab",
        "lastname": "Line\nBreak",
        "status": "Inactive",
        LOADED_AT: T0 + timedelta(hours=1),
    },
]

GUARANTOR_ROWS: list[Row] = [
    {
        "practice_id": "Zeta",
        "guarantor_id": "G7",
        "firstname": "Gül",
        "lastname": "Öz",
        "email": "gul@example.com",
        LOADED_AT: T0,
    },
    {"practice_id": "alpha", "guarantor_id": "10", "lastname": "Ørsted", LOADED_AT: T0},
]


def transaction(practice_id: str, sr_no: str, loaded: datetime, **values: Any) -> Row:
    """A transaction row as the demo loader lands it."""
    row: Row = dict.fromkeys(schema.TRANSACTION_FIELDS)
    row.update(
        {
            "transaction_sr_no": sr_no,
            "practice_id": practice_id,
            "patient_id": "10" if practice_id == "alpha" else "1",
            "transaction_type": "Procedure",
            "transaction_date": "2024-02-27T00:00:00",
            "amount": "125.0000",
            "procedure_code": "D1110",
            schema.OFFICE_ID: OFFICE,
            LOADED_AT: loaded,
        }
    )
    row.update(values)
    return row


def event(
    practice_id: str, sr_no: str, loaded: datetime, flag: str = "Deleted", **values: Any
) -> Row:
    """A ``practice_events`` row: the transaction's fields with the event's flag."""
    row = transaction(practice_id, sr_no, loaded)
    row.update(events="transactions", flag=flag, loadeddate=loaded.isoformat())
    row.update(values)
    return row


def first_round() -> list[Row]:
    """Transactions of a first load: varied values, load times shared across practices."""
    t = T0
    t_5m, t_2h, t_3h = t + timedelta(minutes=5), t + timedelta(hours=2), t + timedelta(hours=3)
    return [
        transaction("alpha", "a1", t, procedure_description="Prophylaxis \u2013 adult"),
        transaction("Zeta", "z1", t, amount="", note="amount left empty"),
        transaction(
            "alpha", "a2", t, transaction_type="Payment", amount="-50.0000", payment_type="INS"
        ),
        transaction("Zeta", "z2", t_5m, amount=None, tooth_from="  3 "),
        transaction("alpha", "a3", t_5m, amount="12.5O", note="Ünïcödé ✓"),
        transaction(
            "Zeta",
            "z3",
            t_2h,
            transaction_type="Adjustment",
            amount="-10.0000",
            payment_type="ADJ",
            note="line one\nline two",
        ),
        transaction(
            "alpha", "a4", t_3h, claim_sr_no="", surface="MOD", payment_procedure_link_id="a1"
        ),
        transaction("Zeta", "z4", t_3h, quantity="1", note="  padded  "),
    ]


def later_round(tag: str, loaded: Sequence[datetime]) -> list[Row]:
    """One transaction per load time, alternating practices, ids tagged by round."""
    return [
        transaction(PRACTICES[index % 2], f"{tag}{index}", when, amount=f"{index}.2500")
        for index, when in enumerate(loaded)
    ]


def reset(engine: Engine) -> None:
    schema.metadata.drop_all(engine)
    schema.create_tables(engine)


def fill(engine: Engine, transactions: Iterable[Row] = (), events: Iterable[Row] = ()) -> None:
    """Fresh tables holding the practices, payment types, patients, guarantors,
    ``transactions`` and ``events`` of office ``OFFICE``."""
    reset(engine)
    office = {schema.OFFICE_ID: OFFICE}
    with engine.begin() as connection:
        for table, rows in (
            (schema.practices, PRACTICE_ROWS),
            (schema.payment_types, PAYMENT_TYPE_ROWS),
            (schema.patients, PATIENT_ROWS),
            (schema.guarantors, GUARANTOR_ROWS),
        ):
            connection.execute(insert(table), complete([{**office, **row} for row in rows]))
    add_transactions(engine, transactions)
    add_events(engine, events)


def add_transactions(engine: Engine, rows: Iterable[Row]) -> None:
    _add(engine, schema.transactions.name, rows)


def add_events(engine: Engine, rows: Iterable[Row]) -> None:
    _add(engine, schema.practice_events.name, rows)


def _add(engine: Engine, table: str, rows: Iterable[Row]) -> None:
    rows = list(rows)
    if rows:
        with engine.begin() as connection:
            connection.execute(insert(schema.TABLES[table]), complete(rows))


def complete(rows: Iterable[Row]) -> list[Row]:
    """Every row with the same keys, as an executemany needs."""
    rows = list(rows)
    keys = {key for row in rows for key in row}
    return [{key: row.get(key) for key in keys} for row in rows]


def text(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return None if value in (None, "") else str(value)


def expected_frame(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], order: Sequence[str] = ()
) -> pd.DataFrame:
    """What a reader must give for ``rows``: text or None, sorted by ``order`` (by code
    point; a ``None`` never sorts) and then by insertion."""
    indexed = sorted(
        enumerate(rows), key=lambda item: (*[text(item[1][k]) or "" for k in order], item[0])
    )
    data = [[text(row.get(column)) for column in columns] for _, row in indexed]
    return pd.DataFrame(data, columns=list(columns), dtype=object)


def as_read(
    rows: Iterable[Mapping[str, Any]], *, deleted: bool = False, loaded: bool = True
) -> list[Row]:
    """Transaction rows as a reader fills ``is_deleted`` and ``loaded_date``."""
    return [
        {
            **row,
            schema.IS_DELETED: "true" if deleted else None,
            schema.LOADED_DATE: row[LOADED_AT] if loaded else None,
        }
        for row in rows
    ]


def expected_transactions(
    rows: Iterable[Mapping[str, Any]], events: Iterable[Mapping[str, Any]] = ()
) -> pd.DataFrame:
    """An incremental read's frame: changed rows by load time, practice and insertion,
    then the deletions the same way."""
    order = (LOADED_AT, "practice_id")
    return pd.concat(
        [
            expected_frame(as_read(rows), schema.TRANSACTION_COLUMNS, order),
            expected_frame(as_read(events, deleted=True), schema.TRANSACTION_COLUMNS, order),
        ],
        ignore_index=True,
    )


def expected_practices() -> pd.DataFrame:
    return expected_frame(PRACTICE_ROWS, schema.PRACTICE_COLUMNS, ("practice_id",))


def expected_payment_types() -> pd.DataFrame:
    truthy = {"1", "true", "yes"}
    rows = [
        {
            **row,
            **{
                flag: "true" if str(row.get(flag) or "").strip().lower() in truthy else None
                for flag in schema.PAYMENT_TYPE_CLASSES
            },
        }
        for row in PAYMENT_TYPE_ROWS
    ]
    return expected_frame(rows, schema.PAYMENT_TYPE_COLUMNS, ("practice_id", "code"))


def expected_patients() -> pd.DataFrame:
    return expected_frame(PATIENT_ROWS, schema.PATIENT_COLUMNS, ("practice_id", "patient_id"))


def expected_guarantors() -> pd.DataFrame:
    order = ("practice_id", "guarantor_id")
    return expected_frame(GUARANTOR_ROWS, schema.GUARANTOR_COLUMNS, order)


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
    assert_frames_equal(got, expected_transactions(r for r in rows if r[LOADED_AT] >= threshold))
    assert {"z3", "a4", "z4", "r2-0", "r2-1", "r2-2"} == set(got["transaction_sr_no"])
    assert next_cursor == cursor + timedelta(hours=1)

    got, last_cursor = read(next_cursor, lookback)  # nothing new: the lookback again
    threshold = next_cursor - lookback
    assert_frames_equal(got, expected_transactions(r for r in rows if r[LOADED_AT] >= threshold))
    assert {"a4", "z4", "r2-0", "r2-2"} == set(got["transaction_sr_no"])
    assert last_cursor == next_cursor


def assert_frames_equal(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal frames of text: same columns, order, values; object dtype, str or None."""
    assert list(got.columns) == list(expected.columns)
    assert all(pd.api.types.is_object_dtype(dtype) for dtype in got.dtypes)
    for value in got.to_numpy().ravel():
        assert value is None or type(value) is str, repr(value)
    assert got.reset_index(drop=True).to_dict("split") == expected.to_dict("split")
