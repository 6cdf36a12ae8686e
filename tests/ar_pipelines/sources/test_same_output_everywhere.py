"""One generated office reads the same from SQLite, Postgres and MariaDB as through the
Sikka API served from it: every table, and the transactions with their deletions (all
columns but ``loaded_date`` and ``row_key``, a load time and a row key only a landed
database has)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from ar_demo.generate import demo_metadata, generate
from ar_pipelines.sources import schema
from ar_pipelines.sources.base import Source
from ar_pipelines.sources.rest_reader import SikkaRestSource
from ar_pipelines.sources.sql_reader import SqlLayout, SqlSource
from tests.ar_pipelines.sources import sample
from tests.ar_pipelines.sources.sikka_server import Credentials, create_sikka_app, running_sikka

LAYOUT = SqlLayout(cursor_column="_loaded_at", key_column="_row_id")
SINCE = datetime.fromisoformat("2000-01-01")  # before every load: the window holds the whole office
NOW = datetime.fromisoformat("2030-01-01")  # after every load: the REST window's end
TABLES = ("practices", "payment_types", "patients", "guarantors")

Frames = dict[str, pd.DataFrame]


def generated(url: str) -> str:
    """A generated office, plus a deletion of its last transaction reported an hour after
    it was loaded (flagged in lower case, as some PMSs report it)."""
    generate(
        url, practices=2, patients=40, months=4, seed=7, defect_rate=0.2, end=date(2026, 6, 30)
    )
    engine = schema.source_engine(url)
    table = schema.transactions
    fields = [table.c[name] for name in schema.TRANSACTION_FIELDS]
    with engine.connect() as connection:
        last = connection.execute(
            select(*fields, table.c.office_id, table.c[schema.LOADED_AT])
            .order_by(table.c[schema.ROW_ID].desc())
            .limit(1)
        ).one()
    row = dict(last._mapping)
    deleted_at = row[schema.LOADED_AT] + timedelta(hours=1)
    event = {**row, schema.LOADED_AT: deleted_at, "events": "transactions", "flag": "deleted"}
    sample.add_events(engine, [{**event, "loadeddate": deleted_at.isoformat()}])
    engine.dispose()
    return url


def frames_of(source: Source) -> Frames:
    """Every table of the office, and the transactions changed or deleted since ``SINCE``."""
    frames = {table: getattr(source, table)() for table in TABLES}
    for practice_id in ("1", "2"):
        frames[f"patients of {practice_id}"] = source.patients(practice_id=practice_id)
    extract = source.transactions(since=SINCE, lookback=timedelta(0))
    transactions = sample.read_all(extract, schema.TRANSACTION_COLUMNS)
    frames["transactions"] = transactions.drop(columns=[schema.LOADED_DATE, schema.ROW_KEY])
    return frames


def through_the_api(url: str) -> Frames:
    credentials = Credentials()
    with running_sikka(create_sikka_app(url, credentials=credentials)) as sikka:
        api = SikkaRestSource(
            base_url=sikka.base_url, page_size=37, now=lambda: NOW, **credentials.as_kwargs()
        )
        with api:
            return frames_of(api)


def assert_same(got: Frames, expected: Frames) -> None:
    assert list(got) == list(expected)
    for name, frame in expected.items():
        assert len(frame) > 0, name
        sample.assert_frames_equal(got[name], frame)


def emptied(url: str) -> str:
    """The session's shared database with no source tables: other tests fill it too."""
    engine = schema.source_engine(url)
    demo_metadata.drop_all(engine)
    schema.metadata.drop_all(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgres_url", "mysql_url"])
def office_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield generated(f"sqlite:///{tmp_path / 'source.db'}")
        return
    url = generated(emptied(request.getfixturevalue(request.param)))
    try:
        yield url
    finally:
        emptied(url)


def test_a_landed_office_reads_as_the_sikka_api_serving_it_reads(office_url: str) -> None:
    with SqlSource(office_url, layout=LAYOUT, chunk_size=50) as sql:
        from_sql = frames_of(sql)
    from_api = through_the_api(office_url)
    assert_same(from_sql, from_api)
    transactions = from_api["transactions"]
    assert len(transactions) > 100
    assert (transactions[schema.IS_DELETED] == "true").any()
    assert set(transactions["practice_id"]) == {"1", "2"}
