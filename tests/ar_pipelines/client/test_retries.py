"""Which failures are retried, how long the client waits, and what it raises."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from ar_pipelines.client import (
    ApiConnectionError,
    ApiResponseError,
    ApiStatusError,
    ApiTimeoutError,
    ARClient,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    UnprocessableEntityError,
)
from ar_pipelines.client._retry import parse_retry_after
from ar_pipelines.local_sandbox import free_port
from tests.ar_pipelines.client.faults import (
    AnswerAfter,
    FailAfter,
    FailBefore,
    Refuse,
    ScriptedTransport,
    Step,
)
from tests.ar_pipelines.client.resources.helpers import accounts_of
from tests.sandbox_server import RunningSandbox


class Scripted:
    """A client whose requests meet scripted faults before reaching the real sandbox,
    and whose waits are recorded instead of slept."""

    def __init__(self, sandbox: RunningSandbox, key: str, *steps: Step, **options: Any) -> None:
        self.transport = ScriptedTransport(*steps, when=options.pop("when", None))
        self.http = httpx.Client(transport=self.transport, timeout=30)
        self.waits: list[float] = []
        self.ar = ARClient(
            base_url=sandbox.base_url,
            api_key=key,
            http_client=self.http,
            sleep=self.waits.append,
            seed=1,
            **options,
        )

    def close(self) -> None:
        self.ar.close()
        self.http.close()


@pytest.fixture
def script(sandbox: RunningSandbox, company: dict[str, Any]) -> Iterator[Any]:
    made: list[Scripted] = []

    def make(*steps: Step, **options: Any) -> Scripted:
        made.append(Scripted(sandbox, company["live_key"], *steps, **options))
        return made[-1]

    yield make
    for scripted in made:
        scripted.close()


def test_backoff_grows_from_half_a_second_to_at_most_eight_with_jitter() -> None:
    policy, rng = RetryPolicy(), random.Random(0)
    for retry in range(1, 12):
        draws = [policy.backoff(retry, rng) for _ in range(200)]
        ceiling = min(8.0, 0.5 * 2**retry)
        assert all(0.5 <= d <= ceiling for d in draws)
        assert max(draws) - min(draws) > 0.1  # jittered, not one fixed wait
    assert max(policy.backoff(20, rng) for _ in range(200)) > 7.0


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_each_transient_status_is_retried_for_an_idempotent_call(script: Any, status: int) -> None:
    scripted = script(Refuse(status))
    assert len(list(scripted.ar.campaigns.list())) == 3
    assert scripted.ar.retries == {str(status): 1}
    assert len(scripted.waits) == 1
    assert 0.5 <= scripted.waits[0] <= 1.0


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (418, ApiStatusError),
    ],
)
def test_client_errors_are_raised_at_once_as_their_own_class(
    script: Any, status: int, error: type[ApiStatusError]
) -> None:
    scripted = script(Refuse(status, body=b'{"success": false, "message": "no"}'))
    with pytest.raises(error) as raised:
        list(scripted.ar.campaigns.list())
    assert type(raised.value) is error
    assert raised.value.status_code == status
    assert raised.value.message == "no"
    assert scripted.waits == []
    assert len(scripted.transport.seen) == 1


def test_retry_after_zero_still_waits_the_minimum_backoff(script: Any) -> None:
    scripted = script(Refuse(429, headers={"Retry-After": "0"}))
    list(scripted.ar.campaigns.list())
    assert len(scripted.waits) == 1
    assert scripted.waits[0] >= 0.5


def test_retry_after_in_seconds_is_honoured(script: Any) -> None:
    scripted = script(Refuse(429, headers={"Retry-After": "7"}), Refuse(503, {"Retry-After": "60"}))
    list(scripted.ar.campaigns.list())
    assert scripted.waits[0] == 7.0
    assert scripted.waits[1] == 60.0


def test_retry_after_as_an_http_date_is_honoured() -> None:
    now = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(header, now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now) == 0
    assert parse_retry_after("soon") is None


def test_a_server_asking_for_more_than_a_minute_is_not_waited_for(script: Any) -> None:
    scripted = script(Refuse(429, headers={"Retry-After": "120"}))
    with pytest.raises(RateLimitError) as raised:
        list(scripted.ar.campaigns.list())
    assert raised.value.retry_after == 120.0
    assert "120 s" in str(raised.value)
    assert scripted.waits == []


def test_retries_stop_after_the_limit_with_the_last_error(script: Any) -> None:
    scripted = script(*[Refuse(503)] * 4, max_retries=3)
    with pytest.raises(InternalServerError) as raised:
        list(scripted.ar.campaigns.list())
    assert raised.value.attempts == 4
    assert len(scripted.waits) == 3
    assert scripted.ar.retries == {"503": 3}


@pytest.mark.parametrize(
    ("step", "cause"),
    [
        (FailBefore(httpx.ConnectError), "connect_error"),
        (FailBefore(httpx.ConnectTimeout), "connect_timeout"),
        (FailAfter(httpx.ReadTimeout), "read_timeout"),
        (FailAfter(httpx.ReadError), "connection_reset"),
        (FailAfter(httpx.RemoteProtocolError), "connection_reset"),
    ],
)
def test_connection_failures_are_retried_for_an_idempotent_call(
    script: Any, step: Step, cause: str
) -> None:
    scripted = script(step)
    assert len(list(scripted.ar.campaigns.list())) == 3
    assert scripted.ar.retries == {cause: 1}


def test_a_server_that_is_not_there_is_an_api_connection_error() -> None:
    waits: list[float] = []
    base_url = f"http://127.0.0.1:{free_port()}"
    with (
        ARClient(base_url=base_url, api_key="sk_live_x", max_retries=2, sleep=waits.append) as ar,
        pytest.raises(ApiConnectionError, match="after 3 attempts") as raised,
    ):
        ar.campaigns.get("c")
    assert not isinstance(raised.value, ApiTimeoutError)
    assert raised.value.request_id is not None
    assert len(waits) == 2


def test_an_answer_that_never_comes_is_an_api_timeout_error(script: Any) -> None:
    scripted = script(*[FailAfter(httpx.ReadTimeout)] * 2, max_retries=1)
    with pytest.raises(ApiTimeoutError):
        list(scripted.ar.campaigns.list())


@pytest.mark.parametrize("status", [408, 500, 502, 504])
def test_enrollment_is_not_resent_after_a_failure_that_may_have_landed(
    script: Any, company: dict[str, Any], status: int
) -> None:
    scripted = script(Refuse(status), when=lambda r: "/campaign" in r.url.path)
    statement_id = _statement(scripted.ar)
    expected = RequestTimeoutError if status == 408 else InternalServerError
    with pytest.raises(expected):
        scripted.ar.statements.enroll_one(statement_id, campaign_id=company["sa_campaign_id"])
    assert scripted.waits == []


def test_enrollment_is_not_resent_when_the_answer_was_lost(
    script: Any, company: dict[str, Any]
) -> None:
    scripted = script(FailAfter(httpx.ReadTimeout), when=lambda r: "/campaign" in r.url.path)
    statement_id = _statement(scripted.ar)
    with pytest.raises(ApiTimeoutError):
        scripted.ar.statements.enroll_one(statement_id, campaign_id=company["sa_campaign_id"])
    assert scripted.waits == []
    # It did land: that is exactly why it must not be sent twice blindly.
    assert scripted.ar.statements.get(statement_id).enrollment_status == "enrolled"


@pytest.mark.parametrize(
    "step", [FailBefore(httpx.ConnectError), Refuse(429, {"Retry-After": "1"}), Refuse(503)]
)
def test_enrollment_is_resent_when_it_surely_did_not_land(
    script: Any, company: dict[str, Any], step: Step
) -> None:
    scripted = script(step, when=lambda r: "/campaign" in r.url.path)
    statement_id = _statement(scripted.ar)
    result = scripted.ar.statements.enroll_one(statement_id, campaign_id=company["sa_campaign_id"])
    assert result.enrolled_count == 1
    assert result.results[0].execution_id is not None
    assert len(scripted.waits) == 1


def test_a_payment_with_an_external_id_is_retried_and_recorded_once(
    script: Any, sandbox: RunningSandbox
) -> None:
    scripted = script(AnswerAfter(500), when=lambda r: r.url.path.endswith("/payments"))
    account = _account(scripted.ar)
    recorded = scripted.ar.payments.record(account, {"amount": "12.50", "external_id": "PAY-1"})
    assert recorded.account.paid_amount == recorded.payment.amount
    assert [p.external_id for p in scripted.ar.payments.list(account_id=account)] == ["PAY-1"]
    assert scripted.ar.retries == {"500": 1}


def test_a_payment_without_an_external_id_is_never_sent_twice(script: Any) -> None:
    scripted = script(AnswerAfter(500), when=lambda r: r.url.path.endswith("/payments"))
    account = _account(scripted.ar)
    with pytest.raises(InternalServerError):
        scripted.ar.payments.record(account, {"amount": "12.50"})
    assert len(list(scripted.ar.payments.list(account_id=account))) == 1


def test_an_answer_that_is_not_an_envelope_is_an_api_response_error(script: Any) -> None:
    scripted = script(Refuse(200, body=b"<html>maintenance</html>"))
    with pytest.raises(ApiResponseError, match="not JSON"):
        list(scripted.ar.campaigns.list())


def _statement(ar: ARClient) -> str:
    ar.customers.bulk_upsert([{"external_id": "PT-1", "email": "pt1@example.com"}])
    ar.ledgers.bulk_upsert(
        [
            {
                "external_id": "TX-1",
                "customer_external_id": "PT-1",
                "transaction_date": "2026-05-03",
                "transaction_type": "charge",
                "amount": "240.00",
            }
        ]
    )
    return next(iter(ar.statements.list())).id


def _account(ar: ARClient) -> str:
    (account,) = accounts_of(ar, "PT-1", "INV-1")
    return account.id
