"""SqlSource: the same frames of text from SQLite, Postgres and MariaDB, streamed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from ar_pipelines.sources import schema
from ar_pipelines.sources.sql_reader import SqlSource
from tests.ar_pipelines.sources import sample


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def source_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'source.db'}"
    fixture = {"postgres": "postgres_url", "mariadb": "mysql_url"}[request.param]
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def engine(source_url: str) -> Iterator[Engine]:
    engine = schema.source_engine(source_url)
    schema.create_tables(engine)  # the reader refuses a SQLite file that is not there
    yield engine
    engine.dispose()


@pytest.fixture
def source(source_url: str, engine: Engine) -> Iterator[SqlSource]:
    sample.fill(engine, sample.first_round())
    with SqlSource(source_url, chunk_size=3) as source:
        yield source


def read(extract: Iterable[pd.DataFrame]) -> pd.DataFrame:
    return sample.read_all(extract, schema.TRANSACTION_COLUMNS)


def test_every_table_reads_as_the_same_frames_of_text_on_every_database(
    source: SqlSource,
) -> None:
    sample.assert_frames_equal(source.practices(), sample.expected_practices())
    sample.assert_frames_equal(source.payment_types(), sample.expected_payment_types())
    sample.assert_frames_equal(source.patients(), sample.expected_patients())
    extract = source.transactions()
    sample.assert_frames_equal(read(extract), sample.expected_transactions(sample.first_round()))
    assert extract.rows == len(sample.first_round())


def test_nulls_and_empty_strings_read_as_none_while_whitespace_and_unicode_survive(
    source: SqlSource,
) -> None:
    patients = source.patients().set_index("patient_id")
    assert patients.loc["9", "firstname"] == " Ana "
    assert patients.loc["9", "middlename"] is None
    assert patients.loc["1", "email"] is None
    assert patients.loc["1", "lastname"] == "小龍 😀"
    assert patients.loc["2", "lastname"] == "Line\nBreak"
    transactions = read(source.transactions()).set_index("transaction_sr_no")
    assert transactions.loc["z1", "amount"] is None
    assert transactions.loc["z2", "amount"] is None
    assert transactions.loc["z2", "tooth_from"] == "  3 "
    assert transactions.loc["a3", "note"] == "Ünïcödé ✓"
    assert transactions.loc["a4", "loaded_date"] == "2024-03-01 11:00:00"


def test_transactions_stream_in_chunks_of_at_most_chunk_size_each_row_once(
    source: SqlSource,
) -> None:
    chunks = list(source.transactions())
    assert [len(chunk) for chunk in chunks] == [3, 3, 2]
    ids = [sr_no for chunk in chunks for sr_no in chunk["transaction_sr_no"]]
    assert sorted(ids) == sorted(row["transaction_sr_no"] for row in sample.first_round())


def test_rows_sharing_a_loaded_date_come_by_practice_in_code_point_order_then_as_inserted(
    source: SqlSource,
) -> None:
    first = read(source.transactions()).head(3)
    assert list(first["transaction_sr_no"]) == ["z1", "a1", "a2"]  # "Zeta" < "alpha"


def test_incremental_reads_take_new_and_late_rows_within_the_lookback_and_nothing_older(
    source_url: str, engine: Engine
) -> None:
    with SqlSource(source_url, chunk_size=2) as source:

        def read_since(
            since: datetime | None, lookback: timedelta
        ) -> tuple[pd.DataFrame, datetime | None]:
            extract = source.transactions(since=since, lookback=lookback)
            return read(extract), extract.cursor

        sample.check_incremental_rounds(engine, read_since)


def test_one_practice_can_be_read_alone(source: SqlSource) -> None:
    rows = [row for row in sample.first_round() if row["practice_id"] == "alpha"]
    extract = source.transactions(practice_id="alpha")
    sample.assert_frames_equal(read(extract), sample.expected_transactions(rows))
    assert set(source.patients(practice_id="alpha")["patient_id"]) == {"9", "10"}
    assert list(source.practices(practice_id="alpha")["practice_id"]) == ["alpha"]
    assert set(source.payment_types(practice_id="Zeta")["practice_id"]) == {"Zeta"}


def test_a_read_with_nothing_new_keeps_the_cursor_where_it_was(source: SqlSource) -> None:
    since = sample.T0 + timedelta(days=30)
    extract = source.transactions(since=since)
    assert list(extract) == []
    assert (extract.rows, extract.cursor) == (0, since)


def test_the_cursor_is_refused_until_the_extract_is_read_to_the_end(source: SqlSource) -> None:
    extract = source.transactions()
    with pytest.raises(RuntimeError, match="to the end"):
        _ = extract.cursor
    chunks = iter(extract)
    next(chunks)
    with pytest.raises(RuntimeError, match="to the end"):
        _ = extract.rows
    extract.close()  # stops early and releases the connection
    with pytest.raises(RuntimeError, match="read once"):
        iter(extract)
    assert len(read(source.transactions())) == len(sample.first_round())


def test_an_aware_since_or_a_negative_lookback_is_refused(source: SqlSource) -> None:
    with pytest.raises(ValueError, match="naive"):
        source.transactions(since=datetime.fromisoformat("2024-03-01T08:00:00+00:00"))
    with pytest.raises(ValueError, match="negative"):
        source.transactions(since=sample.T0, lookback=timedelta(hours=-1))


def test_the_repr_hides_the_database_password() -> None:
    source = SqlSource("postgresql://reader:s3cret-pw@db.example:5432/practice")
    assert "s3cret-pw" not in repr(source)
    source.close()


def test_transaction_keys_name_every_row_of_the_practice_and_match_the_normalizers_ids(
    source: SqlSource,
) -> None:
    from ar_pipelines.normalize.chunk import Chunk
    from ar_pipelines.normalize.present import present_external_ids

    every_row = read(source.transactions(practice_id="alpha"))
    keys = list(source.transaction_keys(practice_id="alpha"))
    assert all(list(frame.columns) == ["practice_id", "transaction_sr_no"] for frame in keys)
    assert sum(len(frame) for frame in keys) == len(every_row)
    expected = {i for i in Chunk.of(every_row).external_id if i is not None}
    assert expected
    assert present_external_ids(keys) == expected
    assert all(i.startswith("alpha-") for i in expected)
