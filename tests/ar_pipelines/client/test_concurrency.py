"""A bounded number of requests in flight, over one connection pool."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from ar_pipelines.client import ARClient
from tests.ar_pipelines.client import practice
from tests.sandbox_server import RunningSandbox


class InFlightCounter(httpx.HTTPTransport):
    """Real HTTP to the sandbox, counting how many requests overlap; each is held a
    little so that overlapping is possible whatever the machine's speed."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(0.05)
            return super().handle_request(request)
        finally:
            with self.lock:
                self.now -= 1


@pytest.mark.parametrize("concurrency", [1, 3])
def test_no_more_requests_are_in_flight_than_asked_for(
    sandbox: RunningSandbox, concurrency: int
) -> None:
    counter = InFlightCounter()
    rows = practice.entries(40, 100)  # 4,000 entries: 8 requests
    with httpx.Client(transport=counter, timeout=30) as http:
        report, in_ar = practice.pushed_through(sandbox, http, 40, rows, concurrency=concurrency)
    assert counter.most == concurrency
    assert report.requests == 8
    assert in_ar == practice.expected_statements(rows)


def test_the_client_owns_one_pool_sized_for_its_concurrency(sandbox: RunningSandbox) -> None:
    company = sandbox.bootstrap()
    with ARClient(base_url=sandbox.base_url, api_key=company["live_key"], concurrency=6) as ar:
        pool = ar._http._transport._pool  # type: ignore[attr-defined]
        assert pool._max_connections == 6
        list(ar.campaigns.list())
        list(ar.campaigns.list())
        assert len(pool.connections) == 1  # reused, not one connection per request
    assert ar._http.is_closed


def test_a_handed_in_http_client_is_left_open_for_its_owner(sandbox: RunningSandbox) -> None:
    company = sandbox.bootstrap()
    http = httpx.Client(timeout=5)
    with ARClient(base_url=sandbox.base_url, api_key=company["live_key"], http_client=http) as ar:
        list(ar.campaigns.list())
    assert not http.is_closed
    http.close()


def test_concurrency_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        ARClient(base_url="http://127.0.0.1:1", api_key="sk_live_x", concurrency=0)
