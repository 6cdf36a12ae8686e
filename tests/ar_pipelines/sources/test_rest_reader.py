"""SikkaRestSource against the Sikka look-alike: keys, paging, fields, filters, windows,
deletions, rate limits, quotas, retries, ``Data-Insert`` and secrets."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy import Engine

from ar_pipelines.sources import schema
from ar_pipelines.sources.base import DailyQuotaSpent, SourceNotReady, SourceUnavailable
from ar_pipelines.sources.rest_reader import SikkaAuthError, SikkaError, SikkaRestSource
from tests.ar_pipelines.sources import sample
from tests.ar_pipelines.sources.sikka_server import (
    Credentials,
    RunningSikka,
    create_sikka_app,
    running_sikka,
)

CREDENTIALS = Credentials()
T0 = sample.T0
NOW = T0 + timedelta(days=1)  # the reader's wall clock: after every sample load


class Sleeps:
    """Records the reader's waits and moves the server's clock on instead of waiting."""

    def __init__(self, sikka: RunningSikka | None = None) -> None:
        self.waits: list[float] = []
        self.sikka = sikka

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.sikka is not None:
            self.sikka.state.advance(seconds)


@pytest.fixture
def engine(engine: Engine) -> Engine:
    """The source, filled with the sample's first round of rows."""
    sample.fill(engine, sample.first_round())
    return engine


@pytest.fixture
def sikka(source_url: str, engine: Engine) -> Iterator[RunningSikka]:
    with running_sikka(create_sikka_app(source_url, credentials=CREDENTIALS)) as running:
        yield running


def reader(sikka: RunningSikka, **options: Any) -> SikkaRestSource:
    options.setdefault("now", lambda: NOW)
    options.setdefault("sleep", Sleeps(sikka))
    return SikkaRestSource(base_url=sikka.base_url, **CREDENTIALS.as_kwargs(), **options)


def read(extract: Iterable[pd.DataFrame]) -> pd.DataFrame:
    return sample.read_all(extract, schema.TRANSACTION_COLUMNS)


def over_rest(expected: pd.DataFrame) -> pd.DataFrame:
    """Sikka's items carry no load time: a REST frame's ``loaded_date`` is ``None``."""
    return expected.assign(**{schema.LOADED_DATE: pd.Series([None] * len(expected), dtype=object)})


def calls_to(sikka: RunningSikka, resource: str) -> list[dict[str, str]]:
    return [call for call in sikka.state.calls if call["resource"] == resource]


# -- reading -----------------------------------------------------------------------------


def test_every_resource_reads_as_the_landed_rows_say(sikka: RunningSikka) -> None:
    with reader(sikka, page_size=3) as api:
        sample.assert_frames_equal(api.practices(), sample.expected_practices())
        sample.assert_frames_equal(api.payment_types(), sample.expected_payment_types())
        sample.assert_frames_equal(api.patients(), sample.expected_patients())
        sample.assert_frames_equal(api.guarantors(), sample.expected_guarantors())
        got = read(api.transactions())
    expected = sample.expected_transactions(sample.first_round())
    sample.assert_frames_equal(got, over_rest(expected))


@pytest.fixture(params=["postgres_url", "mysql_url"])
def server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    url: str = request.getfixturevalue(request.param)
    engine = schema.source_engine(url)
    sample.fill(engine, sample.first_round())
    try:
        yield url
    finally:
        schema.metadata.drop_all(engine)
        engine.dispose()


def test_the_api_serves_the_same_rows_in_the_same_order_from_postgres_and_mariadb(
    server_url: str,
) -> None:
    app = create_sikka_app(server_url, credentials=CREDENTIALS)
    with running_sikka(app) as sikka, reader(sikka, page_size=3) as api:
        sample.assert_frames_equal(api.payment_types(), sample.expected_payment_types())
        sample.assert_frames_equal(api.patients(), sample.expected_patients())
        got = read(api.transactions())
    expected = sample.expected_transactions(sample.first_round())
    sample.assert_frames_equal(got, over_rest(expected))


@pytest.mark.parametrize("suffix", ["", "/", "/v4", "/v4/"])
def test_a_base_url_with_or_without_v4_reaches_the_same_paths(
    sikka: RunningSikka, suffix: str
) -> None:
    with SikkaRestSource(base_url=sikka.base_url + suffix, **CREDENTIALS.as_kwargs()) as api:
        assert len(api.practices()) == 2


def test_pages_are_asked_for_by_page_index_until_the_total_count_is_read(
    sikka: RunningSikka,
) -> None:
    with reader(sikka, page_size=3) as api:
        extract = api.transactions()
        chunks = list(extract)
    assert [len(chunk) for chunk in chunks] == [3, 3, 2]
    assert extract.rows == 8
    pages = [(call["offset"], call["limit"]) for call in calls_to(sikka, "transactions")]
    assert pages == [("0", "3"), ("1", "3"), ("2", "3")]


def test_a_page_size_over_sikkas_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="5000"):
        SikkaRestSource(base_url="http://sikka", **CREDENTIALS.as_kwargs(), page_size=5001)


def test_fields_sikka_leaves_out_by_default_are_asked_for(sikka: RunningSikka) -> None:
    with reader(sikka) as api:
        patients = api.patients()
        guarantors = api.guarantors()
        transactions = read(api.transactions())
    assert list(patients["workphone"]) == ["+1 555 010 9999", None, None, None]
    assert set(guarantors.columns) >= {"homephone", "workphone"}
    assert transactions.loc[transactions["transaction_sr_no"] == "a4"][
        "payment_procedure_link_id"
    ].tolist() == ["a1"]
    fields = {call["resource"]: call.get("fields") for call in sikka.state.calls}
    assert fields["patients"] == "homephone,workphone"
    assert fields["guarantors"] == "homephone,workphone"
    assert fields["transactions"] == "payment_procedure_link_id,amount_paid"


def test_payment_types_are_classed_by_listing_them_once_per_filter(sikka: RunningSikka) -> None:
    with reader(sikka) as api:
        types = api.payment_types(practice_id="alpha")
    classes = {
        row["code"]: [name for name in schema.PAYMENT_TYPE_CLASSES if row[name] == "true"]
        for row in types.to_dict("records")
    }
    assert classes == {
        "ADJ": ["is_adjustment_type"],
        "CASH": [],
        "DADJ": ["is_debit_adjustment_type"],
        "INS": ["is_insurance_type"],
    }
    filters = [
        [name for name in schema.PAYMENT_TYPE_CLASSES if call.get(name) == "true"]
        for call in calls_to(sikka, "payment_types")
    ]
    assert filters == [[], *([name] for name in schema.PAYMENT_TYPE_CLASSES)]


def test_no_rows_is_an_empty_frame_not_an_error(source_url: str) -> None:
    engine = schema.source_engine(source_url)
    sample.fill(engine)  # no transactions, no events
    engine.dispose()
    app = create_sikka_app(source_url, credentials=CREDENTIALS)
    with running_sikka(app) as sikka, reader(sikka) as api:
        extract = api.transactions(since=T0)
        got = read(extract)
        patients = api.patients(practice_id="nobody")
    assert list(got.columns) == list(schema.TRANSACTION_COLUMNS)
    assert got.empty
    assert extract.rows == 0
    assert extract.cursor == NOW
    assert list(patients.columns) == list(schema.PATIENT_COLUMNS)
    assert patients.empty
    assert sikka.state.errors == []


def test_a_practice_filter_is_sent_to_the_api(sikka: RunningSikka) -> None:
    with reader(sikka) as api:
        assert set(read(api.transactions(practice_id="Zeta"))["practice_id"]) == {"Zeta"}
        assert list(api.patients(practice_id="Zeta")["patient_id"]) == ["1", "2"]
    assert {call["practice_id"] for call in sikka.state.calls} == {"Zeta"}


# -- incremental reads and deletions ------------------------------------------------------


def test_an_incremental_read_asks_its_window_in_timestamps_then_the_windows_deletions(
    sikka: RunningSikka, engine: Engine
) -> None:
    rows = sample.first_round()
    late = sample.later_round("late-", [NOW + timedelta(seconds=1)])  # after the window
    gone = [
        sample.event("alpha", "a1", T0 + timedelta(hours=4)),
        sample.event("Zeta", "z9", T0 + timedelta(hours=5), flag="deleted"),
        sample.event("Zeta", "z8", T0 + timedelta(hours=5), flag="DELETED"),
        sample.event("Zeta", "z3", T0 + timedelta(hours=5), flag="Updated"),
        sample.event("alpha", "a9", T0 + timedelta(hours=5), flag="Added"),
        sample.event("alpha", "a0", T0 - timedelta(hours=2)),  # before the window
    ]
    sample.add_transactions(engine, late)
    sample.add_events(engine, gone)
    since = T0 + timedelta(hours=2, minutes=30)
    with reader(sikka, page_size=2) as api:
        extract = api.transactions(since=since, lookback=timedelta(minutes=30))
        got = read(extract)
    in_window = [row for row in rows if row[schema.LOADED_AT] >= T0 + timedelta(hours=2)]
    expected = sample.expected_transactions(in_window, gone[:3])
    sample.assert_frames_equal(got, over_rest(expected))
    assert extract.cursor == NOW
    for call in calls_to(sikka, "transactions") + calls_to(sikka, "practice_events"):
        assert call["loaded_startdate"] == "2024-03-01T10:00:00"
        assert call["loaded_enddate"] == "2024-03-02T08:00:00"
    assert {call["events"] for call in calls_to(sikka, "practice_events")} == {"transactions"}


def test_a_full_read_reads_no_events_and_its_cursor_is_when_it_started(
    sikka: RunningSikka, engine: Engine
) -> None:
    sample.add_events(engine, [sample.event("alpha", "a1", T0 + timedelta(hours=4))])
    with reader(sikka) as api:
        extract = api.transactions()
        got = read(extract)
    assert len(got) == 8
    assert got[schema.IS_DELETED].isna().all()
    assert extract.cursor == NOW
    assert calls_to(sikka, "practice_events") == []
    assert "loaded_startdate" not in calls_to(sikka, "transactions")[0]


def test_an_aware_clock_in_another_zone_ends_the_window_at_the_same_moment_in_utc(
    sikka: RunningSikka,
) -> None:
    eastern = timezone(timedelta(hours=-5))
    wall = NOW.replace(tzinfo=UTC).astimezone(eastern)
    since = T0 + timedelta(hours=2, minutes=30)
    with reader(sikka, now=lambda: wall) as api:
        extract = api.transactions(since=since, lookback=timedelta(minutes=30))
        read(extract)
    assert extract.cursor == NOW
    ends = {call["loaded_enddate"] for call in calls_to(sikka, "transactions")}
    assert ends == {"2024-03-02T08:00:00"}


def test_the_key_scan_reads_every_transaction_page_for_the_two_key_columns(
    sikka: RunningSikka,
) -> None:
    with reader(sikka, page_size=3) as api:
        keys = pd.concat(list(api.transaction_keys()), ignore_index=True)
    assert list(keys.columns) == list(schema.KEY_SCAN_COLUMNS)
    assert keys[schema.ROW_KEY].isna().all()  # Sikka's items have no key but the number
    expected = {(row["practice_id"], row["transaction_sr_no"]) for row in sample.first_round()}
    pairs = keys[["practice_id", "transaction_sr_no"]]
    assert set(pairs.itertuples(index=False, name=None)) == expected
    assert len(calls_to(sikka, "transactions")) == 3


# -- keys ----------------------------------------------------------------------------------


def test_without_a_secret_key_the_office_is_found_among_all_authorized_practices(
    sikka: RunningSikka,
) -> None:
    # The sample's practices are "Zeta" and "alpha": without show=all, Sikka lists
    # practice "1" only, and the office would not be found.
    options = {**CREDENTIALS.as_kwargs(), "secret_key": None}
    with SikkaRestSource(base_url=sikka.base_url, **options) as api:
        assert len(api.practices()) == 2
    assert sikka.state.grants == ["request_key"]


def test_an_office_that_did_not_authorize_the_app_is_named_in_a_clear_error(
    sikka: RunningSikka,
) -> None:
    options = {**CREDENTIALS.as_kwargs(), "secret_key": None, "office_id": "D9999"}
    api = SikkaRestSource(base_url=sikka.base_url, **options)
    with api, pytest.raises(SikkaAuthError, match="office 'D9999' is not among the offices"):
        api.practices()


def test_an_expired_key_is_renewed_once_and_the_read_goes_on(sikka: RunningSikka) -> None:
    with reader(sikka) as api:
        api.practices()
        sikka.state.expire_keys()
        assert len(api.patients()) == 4
    assert sikka.state.grants == ["request_key", "refresh_key"]
    assert sikka.state.errors == ["API1025"]


def test_a_key_lapsing_mid_read_is_renewed_and_no_page_is_lost(sikka: RunningSikka) -> None:
    chunks = []
    with reader(sikka, page_size=3) as api:
        extract = api.transactions()
        for chunk in extract:
            chunks.append(chunk)
            if len(chunks) == 1:
                sikka.state.advance(86_401)  # a day later: the key has lapsed
    got = pd.concat(chunks, ignore_index=True)
    expected = sample.expected_transactions(sample.first_round())
    sample.assert_frames_equal(got, over_rest(expected))
    assert sikka.state.errors == ["API1025"]
    assert sikka.state.grants == ["request_key", "refresh_key"]


def test_a_refused_refresh_falls_back_to_a_new_request_key(sikka: RunningSikka) -> None:
    with reader(sikka) as api:
        api.practices()
        sikka.state.expire_keys()
        sikka.state.refresh_keys.clear()
        assert len(api.patients()) == 4
    assert sikka.state.grants == ["request_key", "request_key"]


def test_a_key_is_renewed_before_its_end_time_without_an_expired_answer(
    source_url: str, engine: Engine
) -> None:
    clock = [0.0]
    app = create_sikka_app(source_url, credentials=CREDENTIALS, key_ttl_seconds=3600)
    with running_sikka(app) as sikka, reader(sikka, clock=lambda: clock[0]) as api:
        api.practices()
        clock[0] += 3600 - 30  # the key's last half minute
        sikka.state.advance(3600 - 30)
        api.practices()
    assert sikka.state.grants == ["request_key", "refresh_key"]
    assert sikka.state.errors == []


def test_a_key_is_renewed_before_the_request_key_expires_header_says() -> None:
    """The grant says a day, the data calls' header says two minutes: the header wins."""
    clock = [0.0]
    grants: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v4/request_key":
            grants.append(request.read().decode())
            return httpx.Response(200, json={"request_key": "k", "expires_in": "86400 second(s)"})
        expires = (NOW + timedelta(seconds=120)).replace(tzinfo=UTC)
        header = format_datetime(expires, usegmt=True)
        return httpx.Response(200, json=body([], 0), headers={"Request-Key-Expires": header})

    def now() -> datetime:
        return NOW + timedelta(seconds=clock[0])

    client = httpx.Client(transport=httpx.MockTransport(answer))
    with offline_reader(client, clock=lambda: clock[0], now=now) as api:
        api.practices()
        clock[0] += 30
        api.practices()
        assert len(grants) == 1
        clock[0] += 61  # within a minute of the header's expiry
        api.practices()
    assert len(grants) == 2


def test_wrong_app_credentials_are_an_auth_error_and_are_not_retried(
    sikka: RunningSikka,
) -> None:
    sleeps = Sleeps()
    wrong = Credentials(app_key="not-the-app-key")
    api = SikkaRestSource(base_url=sikka.base_url, **wrong.as_kwargs(), sleep=sleeps)
    with api, pytest.raises(SikkaAuthError, match="API2003"):
        api.practices()
    assert sikka.state.errors == ["API2003"]
    assert sleeps.waits == []


def test_wrong_app_credentials_for_office_discovery_are_an_auth_error(
    sikka: RunningSikka,
) -> None:
    wrong = {**Credentials(app_key="nope").as_kwargs(), "secret_key": None}
    api = SikkaRestSource(base_url=sikka.base_url, **wrong)
    with api, pytest.raises(SikkaAuthError, match="HTTP 401 API2003"):
        api.practices()


# -- errors, limits, retries -----------------------------------------------------------------


def test_an_error_body_is_read_into_a_message_naming_its_error_code(
    sikka: RunningSikka,
) -> None:
    sikka.state.fail_next[:] = [(400, "API1011")]
    with reader(sikka) as api, pytest.raises(SikkaError) as failed:
        api.practices()
    assert "HTTP 400 API1011" in str(failed.value)
    assert "The request is not valid" in str(failed.value)


def test_a_429_waits_as_long_as_the_reset_header_says_then_goes_on(
    source_url: str, engine: Engine
) -> None:
    app = create_sikka_app(source_url, credentials=CREDENTIALS, rate_limit=2)
    with running_sikka(app) as sikka:
        sleeps = Sleeps(sikka)
        with reader(sikka, page_size=3, sleep=sleeps) as api:
            got = read(api.transactions())
        resets = [error for error in sikka.state.errors if error == "API2013"]
    expected = sample.expected_transactions(sample.first_round())
    sample.assert_frames_equal(got, over_rest(expected))
    assert len(sleeps.waits) == len(resets) == 1  # three pages, two calls a minute
    assert 55 <= sleeps.waits[0] <= 60


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


@pytest.mark.parametrize(
    ("limit", "code"), [("daily_request_limit", "API2012"), ("daily_item_limit", "API2011")]
)
def test_a_spent_daily_quota_stops_the_read_at_once(
    sikka: RunningSikka, limit: str, code: str
) -> None:
    setattr(sikka.state, limit, 1)
    sleeps = Sleeps(sikka)
    with reader(sikka, page_size=3, sleep=sleeps) as api:
        extract = api.transactions()
        with pytest.raises(DailyQuotaSpent, match=f"daily quota .* spent .*{code}") as spent:
            read(extract)
        with pytest.raises(RuntimeError, match="read the extract to the end"):
            _ = extract.cursor
    assert isinstance(spent.value, SourceNotReady)
    assert sleeps.waits == []
    assert sikka.state.errors == [code]


def test_server_errors_are_retried_with_growing_waits_then_given_up_as_unavailable(
    sikka: RunningSikka,
) -> None:
    sleeps = Sleeps(sikka)
    with reader(sikka, sleep=sleeps) as api:
        sikka.state.fail_next[:] = [(503, "API2002"), (500, "API2001")]
        assert len(api.practices()) == 2
        assert sleeps.waits == [0.5, 1.0]
        sikka.state.fail_next[:] = [(500, "API2006")] * 10
        with pytest.raises(SourceUnavailable, match=r"HTTP 500 API2006.* after 5 tries"):
            api.practices()


def test_a_connection_that_keeps_failing_ends_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    sleeps = Sleeps()
    api = offline_reader(client, sleep=sleeps)
    with api, pytest.raises(SourceUnavailable, match="ConnectError after 5 tries"):
        api.practices()
    assert sleeps.waits == [0.5, 1.0, 2.0, 4.0]


def test_an_office_whose_data_sikka_has_not_uploaded_is_not_ready(sikka: RunningSikka) -> None:
    sikka.state.fail_next[:] = [(500, "API2010")]
    sleeps = Sleeps()
    with reader(sikka, sleep=sleeps) as api, pytest.raises(SourceNotReady, match="API2010"):
        api.practices()
    assert sleeps.waits == []


# -- Data-Insert and status ---------------------------------------------------------------


def test_a_read_while_sikka_loads_the_office_raises_and_leaves_no_cursor(
    sikka: RunningSikka,
) -> None:
    sikka.state.data_insert = "in progress"
    with reader(sikka) as api:
        extract = api.transactions(since=T0)  # nothing asked yet
        with pytest.raises(SourceNotReady, match="Sikka is loading office 'D1000'"):
            read(extract)
        with pytest.raises(RuntimeError, match="read the extract to the end"):
            _ = extract.cursor
        with pytest.raises(SourceNotReady, match="Data-Insert: in progress"):
            api.patients()
        with pytest.raises(SourceNotReady):
            api.guarantors()


def test_a_load_starting_mid_read_fails_the_extract_after_its_first_pages(
    sikka: RunningSikka,
) -> None:
    chunks = []
    with reader(sikka, page_size=3) as api:
        extract = api.transactions(since=T0)
        pages = iter(extract)
        chunks.append(next(pages))
        sikka.state.data_insert = "in progress"
        with pytest.raises(SourceNotReady, match="loading"):
            chunks.append(next(pages))
        with pytest.raises(RuntimeError, match="read the extract to the end"):
            _ = extract.rows
    assert len(chunks) == 1


def test_status_is_the_offices_data_sync_status(sikka: RunningSikka) -> None:
    with reader(sikka) as api:
        assert api.status().stale is False
        sikka.state.sync_status = "not_refresh"
        sikka.state.data_insert_date = "2024-02-01T02:00:00"
        status = api.status()
    assert status.sync_status == "not_refresh"
    assert status.data_insert_date == "2024-02-01T02:00:00"
    assert "not_refresh" in str(status.warning())


# -- paging an API that misbehaves --------------------------------------------------------


def api_of(pages: dict[str, dict[str, Any]]) -> httpx.Client:
    """A client whose API answers the given bodies by offset, and keys to anyone."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v4/request_key":
            return httpx.Response(200, json={"request_key": "k", "refresh_key": "r"})
        return httpx.Response(200, json=pages[request.url.params["offset"]])

    return httpx.Client(transport=httpx.MockTransport(answer))


def offline_reader(client: httpx.Client, **options: Any) -> SikkaRestSource:
    """A reader of a scripted API that no network is behind."""
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
    row = {"practice_id": "1", "name": "P"}
    pages = {"0": body([row, row], 3), "1": body([row], 3)}
    with offline_reader(api_of(pages), page_size=2) as api:
        assert len(api.practices()) == 3


def test_a_page_that_runs_dry_before_the_total_count_is_an_error_not_a_silent_loss() -> None:
    row = {"practice_id": "1"}
    pages = {"0": body([row, row], 5, next_link="x"), "1": body([], 5)}
    api = offline_reader(api_of(pages), page_size=2)
    with api, pytest.raises(SikkaError, match="empty after 2 of 5"):
        api.practices()


# -- secrets --------------------------------------------------------------------------------


def every_text_of(error: BaseException) -> str:
    return "\n".join([str(error), repr(error), *traceback.format_exception(error)])


def test_secrets_never_appear_in_logs_errors_or_reprs(
    source_url: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    texts: list[str] = []
    app = create_sikka_app(source_url, credentials=CREDENTIALS, rate_limit=3)
    with running_sikka(app) as sikka:
        options = {**CREDENTIALS.as_kwargs(), "secret_key": None}
        with SikkaRestSource(base_url=sikka.base_url, page_size=2, **options) as api:
            api._session._sleep = Sleeps(sikka)
            texts += [repr(api), str(api), repr(api._session), repr(vars(api._session))]
            read(api.transactions())  # rate limited once
            sikka.state.expire_keys()
            sikka.state.fail_next[:] = [(503, "API2002")]
            api.patients()  # renewed after an API1025, retried after a 503
            texts += [repr(vars(api._session))]
            sikka.state.fail_next[:] = [(500, "API2001")] * 10
            with pytest.raises(SourceUnavailable) as failed:
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
