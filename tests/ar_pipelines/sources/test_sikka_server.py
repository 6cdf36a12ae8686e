"""The Sikka look-alike answers as Sikka's v4 docs say, so readers tested against it are
tested against Sikka's shape: keys and their errors, extra fields, loaded-date filters,
events, app credentials and one office's rows only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy import Connection, Engine, Table, insert

from ar_pipelines.sources import schema
from ar_pipelines.sources.base import SourceStatus
from ar_pipelines.sources.rest_reader import SikkaRestSource
from tests.ar_pipelines.sources.sikka_server import (
    Credentials,
    RunningSikka,
    create_sikka_app,
    running_sikka,
)

CREDENTIALS = Credentials()
OFFICE = CREDENTIALS.office_id
OTHER_OFFICE = "D2000"
T0 = datetime(2024, 3, 1, 8, 0, 0)  # noqa: DTZ001 - Sikka's times are naive


def txn(sr_no: str, loaded: datetime, office_id: str = OFFICE, **values: Any) -> dict[str, Any]:
    return {
        "office_id": office_id,
        "transaction_sr_no": sr_no,
        "practice_id": "1",
        "patient_id": "10",
        "transaction_type": "Procedure",
        "amount": "24.0000",
        "amount_paid": "0.0000",
        schema.LOADED_AT: loaded,
        **values,
    }


def put(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows of differing columns, one insert each (a missing column is NULL)."""
    for row in rows:
        connection.execute(insert(table), row)


def fill(engine: Engine) -> None:
    schema.create_tables(engine)
    with engine.begin() as connection:
        put(
            connection,
            schema.practices,
            [
                {"office_id": OFFICE, "practice_id": "1", "name": "Main St"},
                {"office_id": OFFICE, "practice_id": "2", "name": "Elm St"},
                {"office_id": OTHER_OFFICE, "practice_id": "1", "name": "Elsewhere"},
            ],
        )
        put(
            connection,
            schema.patients,
            [
                {"office_id": OFFICE, "practice_id": "1", "patient_id": "10", "middlename": "",
                 "homephone": "5550102", "workphone": "5550103", schema.LOADED_AT: T0},
                {"office_id": OTHER_OFFICE, "practice_id": "1", "patient_id": "11",
                 schema.LOADED_AT: T0},
            ],
        )  # fmt: skip
        put(
            connection,
            schema.transactions,
            [
                txn("1", T0),
                txn("3", T0 + timedelta(days=2)),
                txn("4", T0 + timedelta(days=2, hours=3)),
                txn("5", T0 + timedelta(days=3)),
                txn("99", T0 + timedelta(days=2), office_id=OTHER_OFFICE),
            ],
        )
        put(
            connection,
            schema.practice_events,
            [
                {**txn("7", T0 - timedelta(days=5)), "events": "transactions", "flag": "Deleted"},
                {**txn("8", T0), "events": "transactions", "flag": "updated"},
            ],
        )


@pytest.fixture(scope="module")
def source_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sikka') / 'office.db'}"
    engine = schema.source_engine(url)
    fill(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def server(source_url: str) -> Iterator[RunningSikka]:
    with running_sikka(create_sikka_app(source_url, credentials=CREDENTIALS)) as running:
        yield running


@pytest.fixture
def sikka(server: RunningSikka) -> RunningSikka:
    """The module's server, with a state as new (no keys, failures, limits or skew)."""
    server.state.__init__(CREDENTIALS, key_ttl_seconds=86400, rate_limit=None)  # type: ignore[misc]
    return server


def key_of(sikka: RunningSikka) -> str:
    return sikka.state.issue("request_key")["request_key"]


def keyed(sikka: RunningSikka) -> httpx.Client:
    return httpx.Client(base_url=sikka.base_url, headers={"Request-Key": key_of(sikka)})


def test_data_calls_want_a_request_key_and_say_when_it_expired(sikka: RunningSikka) -> None:
    with httpx.Client(base_url=sikka.base_url) as client:
        missing = client.get("/v4/practices")
        key = key_of(sikka)
        fine = client.get("/v4/practices", headers={"Request-Key": key})
        sikka.state.advance(86401)
        expired = client.get("/v4/practices", headers={"Request-Key": key})
    assert (missing.status_code, missing.json()["error_code"]) == (400, "API1004")
    assert fine.status_code == 200
    assert fine.headers["Request-Key-Expires"].endswith("GMT")
    assert (expired.status_code, expired.json()["error_code"]) == (400, "API1025")
    assert set(expired.json()) >= {"http_code", "short_message", "long_message"}


def test_a_key_grant_carries_its_start_and_end_time(sikka: RunningSikka) -> None:
    body = {"grant_type": "request_key", **CREDENTIALS.as_kwargs()}
    with httpx.Client(base_url=sikka.base_url) as client:
        grant = client.post("/v4/request_key", json=body).json()
        wrong = client.post("/v4/request_key", json={**body, "app_key": "nope"})
    start = datetime.fromisoformat(grant["start_time"])
    end = datetime.fromisoformat(grant["end_time"])
    assert end - start == timedelta(days=1)
    assert grant["expires_in"] == "86400 second(s)"
    assert (wrong.status_code, wrong.json()["error_code"]) == (401, "API2003")


def test_extra_fields_are_served_only_when_asked_for(sikka: RunningSikka) -> None:
    with keyed(sikka) as client:
        plain = client.get("/v4/patients").json()["items"][0]
        asked = client.get("/v4/patients", params={"fields": "homephone"}).json()["items"][0]
        every = client.get("/v4/transactions", params={"fields": "get_all"}).json()
    assert "homephone" not in plain
    assert asked["homephone"] == "5550102"
    assert "workphone" not in asked
    assert "amount_paid" in every["items"][0]
    assert all(isinstance(v, str) for item in every["items"] for v in item.values())
    assert plain["middlename"] == ""


def test_loaded_dates_filter_by_day_or_by_timestamp(sikka: RunningSikka) -> None:
    def numbers(params: dict[str, str]) -> list[str]:
        answer = client.get("/v4/transactions", params=params)
        if answer.status_code == 204:
            return []
        return [item["transaction_sr_no"] for item in answer.json()["items"]]

    with keyed(sikka) as client:
        day = numbers({"loaded_startdate": "2024-03-03", "loaded_enddate": "2024-03-03"})
        stamp = numbers(
            {"loaded_startdate": "2024-03-03T09:00:00", "loaded_enddate": "2024-03-03T11:00:00"}
        )
        nothing = numbers({"loaded_startdate": "2030-01-01"})
    assert day == ["3", "4"]
    assert stamp == ["4"]
    assert nothing == []


def test_practice_events_carry_the_flag_and_the_loaded_date(sikka: RunningSikka) -> None:
    with keyed(sikka) as client:
        events = client.get("/v4/practice_events", params={"events": "transactions"}).json()
    assert [(e["transaction_sr_no"], e["flag"]) for e in events["items"]] == [
        ("7", "Deleted"),
        ("8", "updated"),
    ]
    assert events["items"][0]["loadeddate"] == "2024-02-25T08:00:00"


def test_pages_go_by_page_index_and_limit_is_at_most_5000(sikka: RunningSikka) -> None:
    with keyed(sikka) as client:
        second = client.get("/v4/transactions", params={"offset": "1", "limit": "2"}).json()
        too_many = client.get("/v4/transactions", params={"limit": "5001"})
    assert [item["transaction_sr_no"] for item in second["items"]] == ["4", "5"]
    assert second["total_count"] == "4"
    assert too_many.status_code == 400


def test_app_calls_check_the_app_credentials_and_show_all_lists_every_practice(
    sikka: RunningSikka,
) -> None:
    app = {"App-Id": CREDENTIALS.app_id, "App-Key": CREDENTIALS.app_key}
    with httpx.Client(base_url=sikka.base_url) as client:
        refused = client.get("/v4/authorized_practices", headers={**app, "App-Key": "nope"})
        default = client.get("/v4/authorized_practices", headers=app).json()
        every = client.get("/v4/authorized_practices", headers=app, params={"show": "all"}).json()
    assert (refused.status_code, refused.json()["error_code"]) == (401, "API2003")
    assert [item["practice_id"] for item in default["items"]] == ["1"]
    assert [item["practice_id"] for item in every["items"]] == ["1", "2"]


def test_rate_limited_answers_carry_the_rate_limit_headers(sikka: RunningSikka) -> None:
    sikka.state.rate_limit = 1
    with keyed(sikka) as client:
        first = client.get("/v4/practices")
        second = client.get("/v4/practices")
    assert first.headers["X-Rate-Limit-Remaining"] == "0"
    assert second.status_code == 429
    assert 0 < int(second.headers["X-Rate-Limit-Reset"]) <= 60


def test_only_the_credentials_office_is_served(source_url: str) -> None:
    other = replace(CREDENTIALS, office_id=OTHER_OFFICE)
    kwargs: dict[str, Any] = {**other.as_kwargs()}
    with running_sikka(create_sikka_app(source_url, credentials=other)) as running:
        api = SikkaRestSource(base_url=running.base_url, **kwargs)
        with api:
            read = pd.concat(list(api.transactions()), ignore_index=True)
            patients = api.patients()
            status = api.status()
    assert list(read["transaction_sr_no"]) == ["99"]
    assert list(patients["patient_id"]) == ["11"]
    assert status.sync_status == "refresh"


def test_the_status_of_an_office_sikka_does_not_list_is_unknown(sikka: RunningSikka) -> None:
    kwargs: dict[str, Any] = {**CREDENTIALS.as_kwargs(), "office_id": "D7777"}
    with SikkaRestSource(base_url=sikka.base_url, **kwargs) as api:
        assert api.status() == SourceStatus(None, None)
