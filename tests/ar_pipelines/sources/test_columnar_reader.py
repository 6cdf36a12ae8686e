"""The columnar reader (ADBC, Arrow batches) gives exactly the frames the SQLAlchemy reader
gives, chunk by chunk, dtypes included: on SQLite and on Postgres, for a generated office
with every kind of planted defect and for the hand-written sample's odd values, whole,
windowed, per practice, per office and in the key scan."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Float,
    MetaData,
    String,
    Table,
    select,
)

from ar_demo.defects import Defect
from ar_demo.generate import demo_defects, demo_metadata, generate
from ar_pipelines.sources import schema
from ar_pipelines.sources.base import Source
from ar_pipelines.sources.sql_reader import SqlLayout, SqlSource
from tests.ar_pipelines.sources import sample
from tests.ar_pipelines.sources.sample import T0, event, transaction

KEYED = SqlLayout(cursor_column="_loaded_at", key_column="_row_id")
# Keyed; one office of the database, unkeyed; and no cursor column (every read whole).
LAYOUTS = (KEYED, SqlLayout(office_id="D1000", cursor_column="_loaded_at"), SqlLayout())
TABLES = ("practices", "payment_types", "patients", "guarantors")


def chunks_of(frames: Iterable[pd.DataFrame]) -> list[pd.DataFrame]:
    return list(frames)


def everything(source: Source, practice_id: str, since: datetime) -> dict[str, Any]:
    """What a run reads: the small tables (all, and one practice's), transactions whole,
    windowed and for one practice, with each extract's count and cursor, and the keys."""
    read: dict[str, Any] = {table: getattr(source, table)() for table in TABLES}
    read["patients of one practice"] = source.patients(practice_id=practice_id)
    for name, extract in (
        ("whole", source.transactions()),
        ("window", source.transactions(since=since)),
        ("window of one practice", source.transactions(practice_id=practice_id, since=since)),
    ):
        read[name] = chunks_of(extract)
        read[f"{name}: rows and cursor"] = (extract.rows, extract.cursor)
    read["keys"] = chunks_of(source.transaction_keys())
    return read


def assert_same_reads(
    url: str, practice_id: str, since: datetime, chunk_size: int, layouts: Iterable[SqlLayout]
) -> None:
    """Each layout reads the same through both readers, the columnar one on its own."""
    for at, layout in enumerate(layouts):
        name = repr(layout)
        with SqlSource(url, layout=layout, chunk_size=chunk_size, reader="sqlalchemy") as old:
            expected = everything(old, practice_id, since)
        with SqlSource(url, layout=layout, chunk_size=chunk_size) as new:
            assert new.reader == "columnar"
            # Every read through the columnar reader. On SQLite only the reads of every
            # row go so (the others go through SQLAlchemy, see columnar.py); the first
            # layout sends the others too, each read a process of its own.
            assert new._columnar is not None
            new._columnar.in_process = new._columnar.in_process or at == 0
            if new._columnar.in_process:
                new._rows_stream = _not_expected  # type: ignore[method-assign]
                new._rows_frame = _not_expected  # type: ignore[method-assign]
            got = everything(new, practice_id, since)
        assert list(got) == list(expected)
        for what, value in expected.items():
            context = f"{name}: {what}"
            if isinstance(value, pd.DataFrame):
                assert_frame_equal(got[what], value, obj=context)
            elif isinstance(value, list):
                assert [len(chunk) for chunk in got[what]] == [len(c) for c in value], context
                for got_chunk, chunk in zip(got[what], value, strict=True):
                    assert_frame_equal(got_chunk, chunk, obj=context)
            else:
                assert got[what] == value, context
        assert len(expected["whole"]) > 1, name  # several chunks were compared


def _not_expected(*_: object) -> Iterator[pd.DataFrame]:
    raise AssertionError("the columnar reader fell back to SQLAlchemy")


def emptied(url: str) -> str:
    """The session's shared database with no source tables: other tests fill it too."""
    engine = schema.source_engine(url)
    demo_metadata.drop_all(engine)
    schema.metadata.drop_all(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgres_url"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'source.db'}"
        return
    url = emptied(request.getfixturevalue(request.param))
    try:
        yield url
    finally:
        emptied(url)


def deleted_events(engine: Engine, count: int) -> None:
    """The last ``count`` transactions reported deleted an hour after their load."""
    table = schema.transactions
    fields = [table.c[name] for name in schema.TRANSACTION_FIELDS]
    with engine.connect() as connection:
        rows = connection.execute(
            select(*fields, table.c.office_id, table.c[schema.LOADED_AT])
            .order_by(table.c[schema.ROW_ID].desc())
            .limit(count)
        ).all()
    events = []
    for row in rows:
        values = dict(row._mapping)
        at = values[schema.LOADED_AT] + timedelta(hours=1)
        flag = "Deleted" if len(events) % 2 else "deleted"
        events.append(
            {**values, schema.LOADED_AT: at, "events": "transactions", "flag": flag}
            | {"loadeddate": at.isoformat()}
        )
    sample.add_events(engine, events)


def test_a_generated_office_with_every_planted_defect_reads_the_same_through_both_readers(
    database_url: str,
) -> None:
    generate(
        database_url,
        practices=2,
        patients=30,
        months=3,
        seed=7,
        defect_rate=0.2,
        end=date(2026, 6, 30),
    )
    engine = schema.source_engine(database_url)
    deleted_events(engine, 3)
    with engine.connect() as connection:
        planted = set(connection.execute(select(demo_defects.c.defect).distinct()).scalars())
        loads = sorted(
            connection.execute(select(schema.transactions.c[schema.LOADED_AT])).scalars()
        )
    engine.dispose()
    assert planted == {defect.value for defect in Defect}
    since = loads[len(loads) // 2] + timedelta(days=1)  # the window holds part of the rows
    assert_same_reads(database_url, "2", since, chunk_size=25, layouts=LAYOUTS)


def test_odd_text_reads_the_same_through_both_readers(database_url: str) -> None:
    """The sample's NULLs, empty strings, stray whitespace, line breaks, accents, CJK and
    an emoji, text in numeric fields, practices that differ in case, deletion events."""
    engine = schema.source_engine(database_url)
    rows = [
        *sample.first_round(),
        *sample.later_round("r2-", [T0 + timedelta(hours=h, seconds=1) for h in range(4, 9)]),
    ]
    events = [event("alpha", "a2", T0 + timedelta(hours=5), flag="DELETED")]
    sample.fill(engine, rows, events)
    engine.dispose()
    with SqlSource(database_url, reader="sqlalchemy") as source:
        practices = set(source.practices()["practice_id"])
    assert practices == {"alpha", "Zeta"}
    assert_same_reads(database_url, "alpha", T0 + timedelta(hours=4), chunk_size=4, layouts=[KEYED])


def test_a_text_column_null_through_the_first_chunk_reads_its_later_text(
    source_url: str, engine: Engine
) -> None:
    """The SQLite driver types a column from the first batch it reads; a column NULL all
    through it and text afterwards still reads as text."""
    rows = [transaction("alpha", f"n{i}", T0, note=None, amount=None) for i in range(4)]
    rows += [transaction("alpha", "t1", T0 + timedelta(hours=1), note="late text", amount="")]
    rows += [transaction("alpha", "t2", T0 + timedelta(hours=1), note="", amount="7.0000")]
    sample.fill(engine, rows)
    with SqlSource(source_url, layout=KEYED, chunk_size=2) as new:
        got = sample.read_all(new.transactions(), schema.TRANSACTION_COLUMNS)
    with SqlSource(source_url, layout=KEYED, chunk_size=2, reader="sqlalchemy") as old:
        expected = sample.read_all(old.transactions(), schema.TRANSACTION_COLUMNS)
    assert_frame_equal(got, expected)
    assert list(got["note"]) == [None, None, None, None, "late text", None]
    assert list(got["amount"]) == [None, None, None, None, None, "7.0000"]


def test_a_column_of_another_kind_is_read_through_sqlalchemy_with_the_same_frames(
    database_url: str,
) -> None:
    """A loader's ``REAL`` amount and text load times are not the columnar reader's
    kinds: those queries take the SQLAlchemy way, and read alike."""
    emptied(database_url)
    engine = schema.source_engine(database_url)
    tables = MetaData()
    landed = Table(
        "transactions",
        tables,
        *(Column(name, String(32)) for name in ("transaction_sr_no", "practice_id")),
        Column("amount", Float),
        Column("_synced", DateTime),
    )
    Table("patients", tables, *(Column(n, String(32)) for n in ("patient_id", "practice_id")))
    tables.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            landed.insert(),
            [
                {"transaction_sr_no": "1", "practice_id": "1", "amount": 0.1, "_synced": T0},
                {"transaction_sr_no": "2", "practice_id": "1", "amount": None, "_synced": T0},
                {"transaction_sr_no": "3", "practice_id": "1", "amount": 1e20, "_synced": T0},
            ],
        )
    layout = SqlLayout(cursor_column="_synced")
    try:
        reads = []
        for reader in ("columnar", "sqlalchemy"):
            with SqlSource(database_url, layout=layout, reader=reader) as source:  # type: ignore[arg-type]
                transactions = sample.read_all(source.transactions(), schema.TRANSACTION_COLUMNS)
                reads.append((transactions, source.patients()))
    finally:
        tables.drop_all(engine)
        engine.dispose()
    (got, got_patients), (expected, expected_patients) = reads
    assert_frame_equal(got, expected)
    assert_frame_equal(got_patients, expected_patients)
    assert list(got["amount"]) == ["0.1", None, "1e+20"]


def test_the_reader_is_chosen_by_database_and_can_be_asked_for(
    source_url: str, engine: Engine
) -> None:
    sample.fill(engine)
    with SqlSource(source_url) as source:
        assert source.reader == "columnar"
        assert "reader='columnar'" in repr(source)
    with SqlSource(source_url, reader="sqlalchemy") as source:
        assert source.reader == "sqlalchemy"
    mysql = "mysql://reader:s3cret-pw@db.example:3306/practice"
    with SqlSource(mysql) as source:
        assert source.reader == "sqlalchemy"
    with pytest.raises(ValueError, match="SQLite files and Postgres") as refused:
        SqlSource(mysql, reader="columnar")
    assert "s3cret-pw" not in str(refused.value)
    with pytest.raises(ValueError, match="reader must be"):
        SqlSource(source_url, reader="arrow")  # type: ignore[arg-type]
