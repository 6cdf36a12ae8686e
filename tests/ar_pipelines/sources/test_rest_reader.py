"""SikkaRestSource against a Sikka look-alike: the SQL reader's frames, over HTTP."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy import Engine

from ar_demo.generate import generate
from ar_pipelines.sources import schema
from ar_pipelines.sources.rest_reader import SikkaAuthError, SikkaError, SikkaRestSource
from ar_pipelines.sources.sikka_http import SikkaSession
from ar_pipelines.sources.sql_reader import SqlSource
from tests.ar_pipelines.sources import sample
from tests.ar_pipelines.sources.sikka_server import (
    Credentials,
    RunningSikka,
    create_sikka_app,
    running_sikka,
)

CREDENTIALS = Credentials()


class Sleeps:
    """Records the reader's waits and moves the server's clock on instead of waiting."""

    def __init__(self, sikka: RunningSikka | None = None) -> None:
        self.waits: list[float] = []
        self.sikka = sikka

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.sikka is not None:
            self.sikka.state.advance(seconds)


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def any_source_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'source.db'}"
    fixture = {"postgres": "postgres_url", "mariadb": "mysql_url"}[request.param]
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def source_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'source.db'}"


@pytest.fixture
def engine(source_url: str) -> Iterator[Engine]:
    engine = schema.source_engine(source_url)
    sample.fill(engine, sample.first_round())
    yield engine
    engine.dispose()


@pytest.fixture
def sikka(source_url: str, engine: Engine) -> Iterator[RunningSikka]:
    with running_sikka(create_sikka_app(source_url, credentials=CREDENTIALS)) as running:
        yield running


def reader(sikka: RunningSikka, **options: Any) -> SikkaRestSource:
    return SikkaRestSource(base_url=sikka.base_url, **CREDENTIALS.as_kwargs(), **options)


def read(extract: Iterable[pd.DataFrame]) -> pd.DataFrame:
    return sample.read_all(extract, schema.TRANSACTION_COLUMNS)


def test_every_table_reads_through_the_api_as_the_sql_reader_reads_it(
    any_source_url: str,
) -> None:
    engine = schema.source_engine(any_source_url)
    sample.fill(engine, sample.first_round())
    engine.dispose()
    app = create_sikka_app(any_source_url, credentials=CREDENTIALS)
    with (
        running_sikka(app) as sikka,
        reader(sikka, page_size=3) as api,
        SqlSource(any_source_url) as sql,
    ):
        for table in ("practices", "payment_types", "patients"):
            expected = getattr(sample, f"expected_{table}")()
            sample.assert_frames_equal(getattr(api, table)(), expected)
            sample.assert_frames_equal(getattr(sql, table)(), expected)
        from_api, from_sql = read(api.transactions()), read(sql.transactions())
    sample.assert_frames_equal(from_api, sample.expected_transactions(sample.first_round()))
    sample.assert_frames_equal(from_sql, from_api)


def test_pages_are_asked_for_by_page_index_until_the_total_count_is_read(
    sikka: RunningSikka,
) -> None:
    with reader(sikka, page_size=3) as api:
        extract = api.transactions()
        chunks = list(extract)
    assert [len(chunk) for chunk in chunks] == [3, 3, 2]
    assert extract.rows == 8
    pages = [(call["offset"], call["limit"]) for call in sikka.state.calls]
    assert pages == [("0", "3"), ("1", "3"), ("2", "3")]


def api_of(pages: dict[str, dict[str, Any]]) -> httpx.Client:
    """A client whose API answers the given bodies by offset, and keys to anyone."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v4/request_key":
            return httpx.Response(200, json={"request_key": "k", "refresh_key": "r"})
        return httpx.Response(200, json=pages[request.url.params["offset"]])

    return httpx.Client(transport=httpx.MockTransport(answer))


def offline_reader(client: httpx.Client, **options: Any) -> SikkaRestSource:
    """A reader of a scripted API (see ``api_of``) that no network is behind."""
    return SikkaRestSource(
        base_url="http://sikka", **CREDENTIALS.as_kwargs(), http_client=client, **options
    )


def body(items: list[dict[str, str]], total: int, next_link: str = "") -> dict[str, Any]:
    return {
        "offset": "0",
        "limit": "2",
        "total_count": str(total),
        "execution_time": "1",
        "pagination": {"current": "", "first": "", "last": "", "next": next_link, "previous": ""},
        "items": items,
    }


def test_paging_goes_by_the_total_count_even_when_the_next_link_is_missing() -> None:
    row = {"practice_id": "p", "practice_name": "P", "bill_to": "patient", "phone_region": "US"}
    pages = {"0": body([row, row], 3), "1": body([row], 3)}
    with offline_reader(api_of(pages), page_size=2) as api:
        assert len(api.practices()) == 3


def test_a_page_that_runs_dry_before_the_total_count_is_an_error_not_a_silent_loss() -> None:
    row = {"practice_id": "p"}
    pages = {"0": body([row, row], 5, next_link="x"), "1": body([], 5)}
    api = offline_reader(api_of(pages), page_size=2)
    with api, pytest.raises(SikkaError, match="empty after 2 of 5"):
        api.practices()


def test_incremental_reads_over_the_api_take_exactly_what_the_sql_reader_takes(
    sikka: RunningSikka, engine: Engine
) -> None:
    with reader(sikka, page_size=2) as api:

        def read_since(
            since: datetime | None, lookback: timedelta
        ) -> tuple[pd.DataFrame, datetime | None]:
            extract = api.transactions(since=since, lookback=lookback)
            return read(extract), extract.cursor

        sample.check_incremental_rounds(engine, read_since)
    asked = [call.get("loaded_startdate") for call in sikka.state.calls if call["offset"] == "0"]
    assert asked == [None, "2024-03-01", "2024-03-01"]


def test_a_practice_filter_is_sent_to_the_api(sikka: RunningSikka) -> None:
    with reader(sikka) as api:
        assert set(read(api.transactions(practice_id="Zeta"))["practice_id"]) == {"Zeta"}
        assert list(api.patients(practice_id="Zeta")["patient_id"]) == ["1", "2"]
    assert {call["practice_id"] for call in sikka.state.calls} == {"Zeta"}


def test_an_expired_key_is_refreshed_and_the_call_repeated(sikka: RunningSikka) -> None:
    with reader(sikka) as api:
        api.practices()
        sikka.state.advance(86_401)
        assert len(api.patients()) == 4
    assert sikka.state.grants == ["request_key", "refresh_key"]
    assert sikka.state.refused == 1


def test_a_refused_refresh_falls_back_to_a_new_request_key(sikka: RunningSikka) -> None:
    with reader(sikka) as api:
        api.practices()
        sikka.state.advance(86_401)
        sikka.state.refresh_keys.clear()
        assert len(api.patients()) == 4
    assert sikka.state.grants == ["request_key", "request_key"]


def test_a_key_about_to_lapse_is_renewed_before_the_call(sikka: RunningSikka) -> None:
    now = [0.0]
    session = SikkaSession(base_url=sikka.base_url, **CREDENTIALS.as_kwargs(), clock=lambda: now[0])
    session.get("/v4/practices", {})
    now[0] += 86_400 - 30  # within the last minute of the key's day
    session.get("/v4/practices", {})
    session.close()
    assert sikka.state.grants == ["request_key", "refresh_key"]
    assert sikka.state.refused == 0


def test_wrong_credentials_raise_an_auth_error(sikka: RunningSikka) -> None:
    wrong = Credentials(secret_key="not-the-secret")
    api = SikkaRestSource(base_url=sikka.base_url, **wrong.as_kwargs())
    with api, pytest.raises(SikkaAuthError, match="request_key grant for office 'D12345'"):
        api.practices()


def test_a_429_waits_as_long_as_the_reset_header_says_then_goes_on(
    source_url: str, engine: Engine
) -> None:
    app = create_sikka_app(source_url, credentials=CREDENTIALS, rate_limit=2)
    with running_sikka(app) as sikka:
        sleeps = Sleeps(sikka)
        with reader(sikka, page_size=2, sleep=sleeps) as api:
            got = read(api.transactions())
    sample.assert_frames_equal(got, sample.expected_transactions(sample.first_round()))
    assert len(sleeps.waits) == 1  # four pages, two calls a minute
    assert 0 < sleeps.waits[0] <= 60


def test_a_rate_limit_reset_longer_than_a_minute_waits_a_minute() -> None:
    answers = iter([429, 200])

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v4/request_key":
            return httpx.Response(200, json={"request_key": "k", "refresh_key": "r"})
        if next(answers) == 429:
            return httpx.Response(429, headers={"x-rate-limit-reset": "3600"})
        return httpx.Response(200, json=body([], 0))

    sleeps = Sleeps()
    client = httpx.Client(transport=httpx.MockTransport(answer))
    with offline_reader(client, sleep=sleeps) as api:
        assert api.practices().empty
    assert sleeps.waits == [60.0]


def test_server_errors_are_retried_with_growing_waits_then_given_up(sikka: RunningSikka) -> None:
    sleeps = Sleeps()
    with reader(sikka, sleep=sleeps) as api:
        sikka.state.fail_next[:] = [503, 502]
        assert len(api.practices()) == 2
        assert sleeps.waits == [0.5, 1.0]
        sikka.state.fail_next[:] = [500] * 10
        with pytest.raises(SikkaError, match="HTTP 500 after 5 tries"):
            api.practices()


def test_a_connection_that_keeps_failing_ends_in_a_sikka_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    sleeps = Sleeps()
    api = offline_reader(client, sleep=sleeps)
    with api, pytest.raises(SikkaError, match="ConnectError after 5 tries"):
        api.practices()
    assert sleeps.waits == [0.5, 1.0, 2.0, 4.0]


def every_text_of(error: BaseException) -> str:
    return "\n".join([str(error), repr(error), *traceback.format_exception(error)])


def test_secrets_never_appear_in_logs_errors_or_reprs(
    source_url: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    texts: list[str] = []
    app = create_sikka_app(source_url, credentials=CREDENTIALS, rate_limit=3)
    with running_sikka(app) as sikka:
        with reader(sikka, page_size=2, sleep=Sleeps(sikka)) as api:
            texts += [repr(api), str(api), repr(api._session), repr(vars(api._session))]
            read(api.transactions())  # rate limited once
            sikka.state.advance(86_401)
            sikka.state.fail_next[:] = [503]
            api.patients()  # refreshed after a 401, retried after a 503
            sikka.state.fail_next[:] = [500] * 10
            with pytest.raises(SikkaError) as failed:
                api.practices()
            texts.append(every_text_of(failed.value))
        wrong = Credentials(secret_key=CREDENTIALS.secret_key + "x")
        with SikkaRestSource(base_url=sikka.base_url, **wrong.as_kwargs()) as api:
            with pytest.raises(SikkaAuthError) as refused:
                api.practices()
            texts.append(every_text_of(refused.value))
        issued = list(sikka.state.issued)
    assert sikka.state.grants == ["request_key", "refresh_key"]
    texts += [record.getMessage() for record in caplog.records]
    text = "\n".join(texts)
    assert "rate limited" in text
    assert "HTTP 503" in text
    for secret in (CREDENTIALS.secret_key, CREDENTIALS.app_key, *issued):
        assert secret not in text


def test_a_generated_practice_reads_the_same_through_sql_and_the_api(source_url: str) -> None:
    end = datetime.fromisoformat("2024-06-30").date()
    generate(source_url, practices=2, patients=30, months=3, seed=11, defect_rate=0.2, end=end)
    app = create_sikka_app(source_url, credentials=CREDENTIALS)
    with (
        running_sikka(app) as sikka,
        reader(sikka, page_size=7) as api,
        SqlSource(source_url, chunk_size=11) as sql,
    ):
        for table in ("practices", "payment_types", "patients"):
            from_sql = getattr(sql, table)(practice_id="P002")
            assert len(from_sql) > 0
            sample.assert_frames_equal(getattr(api, table)(practice_id="P002"), from_sql)
        from_sql = read(sql.transactions(practice_id="P002"))
        from_api = read(api.transactions(practice_id="P002"))
    assert len(from_sql) > 40
    sample.assert_frames_equal(from_api, from_sql)
