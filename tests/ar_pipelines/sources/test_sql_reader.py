"""SqlSource: a landed Sikka database read as the same frames of text on SQLite,
Postgres and MariaDB, whatever bookkeeping columns the loader added."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Boolean, Column, DateTime, Engine, MetaData, String, Table, text

from ar_pipelines.sources import schema
from ar_pipelines.sources.base import SourceError
from ar_pipelines.sources.sql_reader import SqlLayout, SqlSource
from tests.ar_pipelines.sources import sample
from tests.ar_pipelines.sources.sample import T0, event, transaction

LAYOUT = SqlLayout(cursor_column="_loaded_at", key_column="_row_id")


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def any_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'source.db'}"
    fixture = {"postgres": "postgres_url", "mariadb": "mysql_url"}[request.param]
    url: str = request.getfixturevalue(fixture)
    return url


def read(extract: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The extract as one frame, its ``row_key`` left empty: the expected frames do not
    know the keys the database gave, which ``test_each_row_read_carries_...`` checks."""
    frame = sample.read_all(extract, schema.TRANSACTION_COLUMNS)
    return frame.assign(**{schema.ROW_KEY: None})


def ids(frame: pd.DataFrame) -> list[str]:
    return list(frame["transaction_sr_no"])


def test_the_same_rows_read_as_the_same_frames_of_text_on_every_database(any_url: str) -> None:
    engine = schema.source_engine(any_url)
    deleted = [event("alpha", "a0", T0 + timedelta(hours=1), amount="5.0000")]
    sample.fill(engine, sample.first_round(), deleted)
    engine.dispose()
    with SqlSource(any_url, layout=LAYOUT, chunk_size=3) as source:
        sample.assert_frames_equal(source.practices(), sample.expected_practices())
        sample.assert_frames_equal(source.payment_types(), sample.expected_payment_types())
        sample.assert_frames_equal(source.patients(), sample.expected_patients())
        sample.assert_frames_equal(source.guarantors(), sample.expected_guarantors())
        extract = source.transactions()
        sample.assert_frames_equal(
            read(extract), sample.expected_transactions(sample.first_round())
        )
        assert (extract.rows, extract.cursor) == (8, T0 + timedelta(hours=3))
        since_t0 = source.transactions(since=T0, lookback=timedelta(0))
        expected = sample.expected_transactions(sample.first_round(), deleted)
        sample.assert_frames_equal(read(since_t0), expected)
        window = source.transactions(since=T0 + timedelta(hours=2), lookback=timedelta(0))
        late = [
            row for row in sample.first_round() if row[sample.LOADED_AT] >= T0 + timedelta(hours=2)
        ]
        sample.assert_frames_equal(read(window), sample.expected_transactions(late))
        keys = pd.concat(list(source.transaction_keys()), ignore_index=True)
        pairs = keys[["practice_id", "transaction_sr_no"]].to_numpy().tolist()
        assert sorted(map(tuple, pairs)) == sorted(
            (row["practice_id"], row["transaction_sr_no"]) for row in sample.first_round()
        )


def test_nulls_and_empty_strings_read_as_none_while_whitespace_and_unicode_survive(
    source_url: str, engine: Engine
) -> None:
    sample.fill(engine, sample.first_round())
    with SqlSource(source_url, layout=LAYOUT) as source:
        patients = source.patients().set_index("patient_id")
        transactions = read(source.transactions()).set_index("transaction_sr_no")
    assert patients.loc["9", "firstname"] == " Ana "
    assert patients.loc["9", "middlename"] is None
    assert patients.loc["1", "email"] is None
    assert patients.loc["1", "lastname"] == "小龍 😀"
    assert patients.loc["10", "birthdate"] == "1980-01-31T00:00:00"
    assert transactions.loc["z1", "amount"] is None
    assert transactions.loc["z2", "tooth_from"] == "  3 "
    assert transactions.loc["a2", "amount"] == "-50.0000"
    assert transactions.loc["a4", "loaded_date"] == "2024-03-01 11:00:00"


def test_transactions_stream_in_chunks_of_at_most_chunk_size_each_row_once(
    source_url: str, engine: Engine
) -> None:
    sample.fill(engine, sample.first_round())
    with SqlSource(source_url, layout=LAYOUT, chunk_size=3) as source:
        chunks = list(source.transactions())
    assert [len(chunk) for chunk in chunks] == [3, 3, 2]
    assert sorted(sr for chunk in chunks for sr in ids(chunk)) == sorted(
        row["transaction_sr_no"] for row in sample.first_round()
    )


def test_each_row_read_carries_its_loaders_row_key_and_a_deletion_event_none(
    source_url: str, engine: Engine
) -> None:
    gone = event("alpha", "a0", T0 + timedelta(hours=1))
    sample.fill(engine, sample.first_round(), [gone])
    with engine.connect() as connection:
        keyed = dict(
            connection.execute(text("select transaction_sr_no, _row_id from transactions")).all()
        )
    with SqlSource(source_url, layout=LAYOUT) as source:
        rows = sample.read_all(source.transactions(since=T0), schema.TRANSACTION_COLUMNS)
        keys = pd.concat(list(source.transaction_keys()), ignore_index=True)
    with SqlSource(source_url, layout=SqlLayout(cursor_column="_loaded_at")) as source:
        unkeyed = sample.read_all(source.transactions(), schema.TRANSACTION_COLUMNS)
    read_keys = dict(zip(rows["transaction_sr_no"], rows[schema.ROW_KEY], strict=True))
    assert read_keys == {**{sr: str(key) for sr, key in keyed.items()}, "a0": None}
    scanned = dict(zip(keys["transaction_sr_no"], keys[schema.ROW_KEY], strict=True))
    assert scanned == {sr: str(key) for sr, key in keyed.items()}
    assert unkeyed[schema.ROW_KEY].isna().all()


def test_rows_sharing_a_load_time_come_by_practice_in_code_point_order_then_by_row_key(
    source_url: str, engine: Engine
) -> None:
    rows = [transaction("alpha", "b", T0), transaction("alpha", "a", T0)]
    sample.fill(engine, [*rows, transaction("Zeta", "z", T0)])
    with SqlSource(source_url, layout=LAYOUT) as source:
        keyed = ids(read(source.transactions()))
    without_key = SqlLayout(cursor_column="_loaded_at")
    with SqlSource(source_url, layout=without_key) as source:
        by_number = ids(read(source.transactions()))
    assert keyed == ["z", "b", "a"]  # "Zeta" < "alpha"; then as the loader keyed them
    assert by_number == ["z", "a", "b"]


def test_incremental_reads_take_rows_loaded_within_the_lookback_and_fill_loaded_date(
    source_url: str, engine: Engine
) -> None:
    sample.fill(engine)
    with SqlSource(source_url, layout=LAYOUT, chunk_size=2) as source:

        def read_since(
            since: datetime | None, lookback: timedelta
        ) -> tuple[pd.DataFrame, datetime | None]:
            extract = source.transactions(since=since, lookback=lookback)
            return read(extract), extract.cursor

        sample.check_incremental_rounds(engine, read_since)


def test_a_read_with_nothing_new_keeps_the_cursor_where_it_was(
    source_url: str, engine: Engine
) -> None:
    sample.fill(engine, sample.first_round())
    since = T0 + timedelta(days=30)
    with SqlSource(source_url, layout=LAYOUT) as source:
        extract = source.transactions(since=since)
        assert list(extract) == []
    assert (extract.rows, extract.cursor) == (0, since)


def test_without_a_cursor_column_every_read_is_whole_and_the_cursor_stays_unset(
    source_url: str, engine: Engine
) -> None:
    sample.fill(engine, sample.first_round(), [event("alpha", "a0", T0 - timedelta(days=9))])
    with SqlSource(source_url) as source:
        extract = source.transactions(since=T0 + timedelta(days=30))
        got = read(extract)
    assert ids(got) == ["z1", "z2", "z3", "z4", "a1", "a2", "a3", "a4"]
    assert got["is_deleted"].isna().all()  # a whole read takes no deletion events
    assert got["loaded_date"].isna().all()
    assert extract.cursor is None


def test_only_the_layouts_office_is_read_when_one_database_holds_several(
    source_url: str, engine: Engine
) -> None:
    sample.fill(engine, sample.first_round())
    other = {schema.OFFICE_ID: "D2000", "practice_id": "alpha", sample.LOADED_AT: T0}
    with engine.begin() as connection:
        for table in (schema.practices, schema.payment_types, schema.patients, schema.guarantors):
            row = {**other, "patient_id": "x", "guarantor_id": "x", "code": "x"}
            connection.execute(table.insert(), [{k: v for k, v in row.items() if k in table.c}])
    sample.add_transactions(engine, [transaction("alpha", "x1", T0, office_id="D2000")])
    sample.add_events(engine, [event("alpha", "x2", T0, office_id="D2000")])
    office = SqlLayout(office_id=sample.OFFICE, cursor_column="_loaded_at", key_column="_row_id")
    with SqlSource(source_url, layout=office) as source:
        sample.assert_frames_equal(source.practices(), sample.expected_practices())
        sample.assert_frames_equal(source.payment_types(), sample.expected_payment_types())
        sample.assert_frames_equal(source.patients(), sample.expected_patients())
        sample.assert_frames_equal(source.guarantors(), sample.expected_guarantors())
        expected = sample.expected_transactions(sample.first_round())
        sample.assert_frames_equal(read(source.transactions()), expected)
        keys = pd.concat(list(source.transaction_keys()))
        assert "x1" not in set(keys["transaction_sr_no"])
    with SqlSource(source_url, layout=LAYOUT) as source:
        assert {"x1", "x2"} <= set(ids(read(source.transactions(since=T0))))
    elsewhere = SqlLayout(office_id="D1", office_column="clinic")
    with (
        SqlSource(source_url, layout=elsewhere) as source,
        pytest.raises(SourceError, match="'clinic'"),
    ):
        source.patients()


def test_one_practice_can_be_read_alone(source_url: str, engine: Engine) -> None:
    sample.fill(engine, sample.first_round(), [event("Zeta", "z0", T0)])
    rows = [row for row in sample.first_round() if row["practice_id"] == "alpha"]
    with SqlSource(source_url, layout=LAYOUT) as source:
        sample.assert_frames_equal(
            read(source.transactions(practice_id="alpha")), sample.expected_transactions(rows)
        )
        assert set(source.patients(practice_id="alpha")["patient_id"]) == {"9", "10"}
        assert list(source.practices(practice_id="alpha")["practice_id"]) == ["alpha"]
        assert set(source.payment_types(practice_id="Zeta")["practice_id"]) == {"Zeta"}
        assert list(source.guarantors(practice_id="Zeta")["guarantor_id"]) == ["G7"]


def test_deleted_events_in_the_window_follow_the_changed_rows_and_a_whole_read_takes_none(
    source_url: str, engine: Engine
) -> None:
    late = T0 + timedelta(hours=3)
    events = [
        event("alpha", "a1", T0, amount="1.0000"),  # deleted before the window
        event("alpha", "a2", late, flag="DELETED"),  # any case
        event("Zeta", "z1", late, flag="deleted"),
        event("Zeta", "z9", late, flag="Updated"),  # not a deletion
        event("Zeta", "z8", late, events="patients"),  # another resource's event
    ]
    sample.fill(engine, sample.first_round(), events)
    with SqlSource(source_url, layout=LAYOUT) as source:
        window = source.transactions(since=late, lookback=timedelta(0))
        got = read(window)
        whole = read(source.transactions())
    changed = [row for row in sample.first_round() if row[sample.LOADED_AT] >= late]
    sample.assert_frames_equal(got, sample.expected_transactions(changed, events[1:3]))
    assert ids(got)[-2:] == ["z1", "a2"]
    assert list(got["is_deleted"]) == [None, None, "true", "true"]
    assert window.cursor == late
    # A whole read takes no deletion event: a row deleted before is simply not there.
    sample.assert_frames_equal(whole, sample.expected_transactions(sample.first_round()))


def loader_tables() -> MetaData:
    """Tables as a loader makes them: few of Sikka's fields, its own column names and
    types, no guarantors, no practice_events, no class flags, no homephone."""
    tables = MetaData()
    Table(
        "transactions",
        tables,
        *(Column(name, String(32)) for name in ("transaction_sr_no", "practice_id", "amount")),
        Column("_synced", DateTime),
        Column("_deleted", Boolean),
    )
    Table(
        "patients", tables, *(Column(n, String(32)) for n in ("patient_id", "practice_id", "cell"))
    )
    Table("payment_types", tables, *(Column(n, String(32)) for n in ("practice_id", "code")))
    return tables


def test_a_loaders_own_tables_read_with_its_deleted_flag_and_without_columns_they_lack(
    any_url: str,
) -> None:
    engine = schema.source_engine(any_url)
    schema.metadata.drop_all(engine)
    tables = loader_tables()
    tables.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            tables.tables["transactions"].insert(),
            [
                {
                    "transaction_sr_no": "t1",
                    "practice_id": "1",
                    "amount": "24.5000",
                    "_synced": T0,
                    "_deleted": False,
                },
                {
                    "transaction_sr_no": "t2",
                    "practice_id": "1",
                    "amount": "3",
                    "_synced": T0 + timedelta(hours=1),
                    "_deleted": True,
                },
                {
                    "transaction_sr_no": "t3",
                    "practice_id": "1",
                    "amount": None,
                    "_synced": T0 + timedelta(hours=1),
                    "_deleted": None,
                },
            ],
        )
        connection.execute(
            tables.tables["patients"].insert(),
            [
                {"patient_id": "p1", "practice_id": "1", "cell": "555"},
                {"patient_id": "p2", "practice_id": "1", "cell": ""},
            ],
        )
        connection.execute(
            tables.tables["payment_types"].insert(), [{"practice_id": "1", "code": "CASH"}]
        )
    layout = SqlLayout(cursor_column="_synced", deleted_column="_deleted")
    try:
        with SqlSource(any_url, layout=layout) as source:
            got = read(source.transactions())
            keys = pd.concat(list(source.transaction_keys()), ignore_index=True)
            patients = source.patients()
            types = source.payment_types()
            guarantors = source.guarantors()
    finally:
        tables.drop_all(engine)
        engine.dispose()
    assert ids(got) == ["t1", "t2", "t3"]
    assert list(got["is_deleted"]) == [None, "true", None]
    assert list(got["amount"]) == ["24.5000", "3", None]
    assert list(got["loaded_date"]) == [
        "2024-03-01 08:00:00",
        "2024-03-01 09:00:00",
        "2024-03-01 09:00:00",
    ]
    assert got["amount_paid"].isna().all()
    assert sorted(keys["transaction_sr_no"]) == ["t1", "t3"]
    assert list(keys.columns) == list(schema.KEY_SCAN_COLUMNS)
    assert keys[schema.ROW_KEY].isna().all()  # the layout names no key column
    assert list(patients.columns) == list(schema.PATIENT_COLUMNS)
    assert patients["homephone"].isna().all()
    assert list(patients["cell"]) == ["555", None]
    assert list(types.columns) == list(schema.PAYMENT_TYPE_COLUMNS)
    assert types[["description", *schema.PAYMENT_TYPE_CLASSES]].isna().all().all()
    assert guarantors.empty
    assert list(guarantors.columns) == list(schema.GUARANTOR_COLUMNS)


def test_text_deleted_flags_read_true_for_one_true_and_yes_in_any_case(
    source_url: str, engine: Engine
) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("create table transactions (transaction_sr_no text, practice_id text, gone text)")
        )
        connection.execute(
            text(
                "insert into transactions values ('1', 'p', 'TRUE'), ('2', 'p', 'Yes'),"
                " ('3', 'p', '1'), ('4', 'p', 'false'), ('5', 'p', '0'), ('6', 'p', '')"
            )
        )
    with SqlSource(source_url, layout=SqlLayout(deleted_column="gone")) as source:
        got = read(source.transactions())
        keys = pd.concat(list(source.transaction_keys()))
    assert list(got["is_deleted"]) == ["true", "true", "true", None, None, None]
    assert sorted(keys["transaction_sr_no"]) == ["4", "5", "6"]


def test_a_missing_required_table_is_an_error_naming_it(source_url: str, engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("create table patients (patient_id text, practice_id text)"))
    with SqlSource(source_url) as source:
        assert source.patients().empty
        assert source.practices().empty
        assert source.guarantors().empty
        with pytest.raises(SourceError, match="'transactions'"):
            source.transactions()
        with pytest.raises(SourceError, match="'payment_types'"):
            source.payment_types()


def test_events_the_loader_did_not_time_are_windowed_by_sikkas_loadeddate(any_url: str) -> None:
    """A ``practice_events`` table with neither the cursor column nor ``events``: Sikka's
    ``loadeddate`` text chooses the window, and the rows carry no ``loaded_date``."""
    engine = schema.source_engine(any_url)
    schema.metadata.drop_all(engine)
    sample.reset(engine)
    schema.practice_events.drop(engine)
    events = Table(
        "practice_events",
        MetaData(),
        *(
            Column(n, String(32))
            for n in ("transaction_sr_no", "practice_id", "flag", "loadeddate")
        ),
    )
    events.create(engine)
    with engine.begin() as connection:
        connection.execute(
            events.insert(),
            [
                {"transaction_sr_no": sr, "practice_id": "1", "flag": "Deleted", "loadeddate": at}
                for sr, at in (
                    ("late", "2024-03-01T09:00:00"),
                    ("old", "2024-03-01T07:59:59"),
                    ("edge", "2024-03-01T08:00:00"),
                )
            ],
        )
    try:
        with SqlSource(any_url, layout=LAYOUT) as source:
            window = source.transactions(since=T0, lookback=timedelta(0))
            got = read(window)
            every = read(source.transactions())
    finally:
        events.drop(engine)
        schema.metadata.drop_all(engine)
        engine.dispose()
    assert ids(got) == ["edge", "late"]
    assert list(got["is_deleted"]) == ["true", "true"]
    assert got["loaded_date"].isna().all()
    assert window.cursor == T0  # Sikka's clock never moves the loader's cursor
    assert ids(every) == []  # a whole read takes no deletion events


def test_events_with_no_load_time_at_all_cannot_be_windowed(
    source_url: str, engine: Engine
) -> None:
    sample.reset(engine)
    schema.practice_events.drop(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "create table practice_events (transaction_sr_no text, practice_id text, flag text)"
            )
        )
    with SqlSource(source_url, layout=LAYOUT) as source:
        with pytest.raises(SourceError, match=r"'practice_events'.*'_loaded_at' or 'loadeddate'"):
            source.transactions(since=T0)
        assert read(source.transactions()).empty


def test_a_cursor_column_the_table_lacks_is_an_error_naming_it(
    source_url: str, engine: Engine
) -> None:
    sample.fill(engine, sample.first_round())
    layout = SqlLayout(cursor_column="_synced")
    with (
        SqlSource(source_url, layout=layout) as source,
        pytest.raises(SourceError, match="'_synced'"),
    ):
        source.transactions()


def test_the_cursor_is_refused_until_the_extract_is_read_to_the_end(
    source_url: str, engine: Engine
) -> None:
    sample.fill(engine, sample.first_round())
    with SqlSource(source_url, layout=LAYOUT, chunk_size=3) as source:
        extract = source.transactions()
        with pytest.raises(RuntimeError, match="to the end"):
            _ = extract.cursor
        next(iter(extract))
        extract.close()  # stops early and releases the connection
        with pytest.raises(RuntimeError, match="read once"):
            iter(extract)
        assert len(read(source.transactions())) == len(sample.first_round())


def test_an_aware_since_or_a_negative_lookback_is_refused(source_url: str, engine: Engine) -> None:
    sample.fill(engine)
    with SqlSource(source_url, layout=LAYOUT) as source:
        with pytest.raises(ValueError, match="naive"):
            source.transactions(since=datetime.fromisoformat("2024-03-01T08:00:00+00:00"))
        with pytest.raises(ValueError, match="negative"):
            source.transactions(since=T0, lookback=timedelta(hours=-1))


def test_the_repr_hides_the_database_password() -> None:
    source = SqlSource("postgresql://reader:s3cret-pw@db.example:5432/practice")
    assert "s3cret-pw" not in repr(source)
    source.close()


def test_the_source_scans_keys_cheaply() -> None:
    assert SqlSource.scans_keys_cheaply is True


def test_a_timezone_aware_cursor_column_reads_and_compares_in_utc(postgres_url: str) -> None:
    engine = schema.source_engine(postgres_url)
    schema.metadata.drop_all(engine)
    tables = MetaData()
    landed = Table(
        "transactions",
        tables,
        *(Column(name, String(32)) for name in ("transaction_sr_no", "practice_id")),
        Column("_synced", DateTime(timezone=True)),
    )
    tables.create_all(engine)
    plus_two = timezone(timedelta(hours=2))
    with engine.begin() as connection:
        connection.execute(text("set time zone 'America/New_York'"))
        connection.execute(
            landed.insert(),
            [
                {"transaction_sr_no": "old", "practice_id": "1", "_synced": T0.replace(tzinfo=UTC)},
                {
                    "transaction_sr_no": "new",
                    "practice_id": "1",
                    "_synced": T0.replace(tzinfo=plus_two) + timedelta(hours=3),
                },
            ],
        )
    try:
        with SqlSource(postgres_url, layout=SqlLayout(cursor_column="_synced")) as source:
            extract = source.transactions(since=T0 + timedelta(minutes=30), lookback=timedelta(0))
            got = read(extract)
    finally:
        tables.drop_all(engine)
        engine.dispose()
    assert ids(got) == ["new"]
    assert list(got["loaded_date"]) == ["2024-03-01 09:00:00"]
    assert extract.cursor == T0 + timedelta(hours=1)
