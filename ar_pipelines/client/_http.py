"""One place that sends requests: headers, JSON with exact money, retries, envelopes.

Money never passes through ``float`` on the way in: answers are parsed with
``parse_float=Decimal``. On the way out, amounts are JSON numbers whose text is
exactly the ``Decimal`` (see ``records.json_number``).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from ar_pipelines.client._constants import API_PREFIX, USER_AGENT
from ar_pipelines.client._retry import (
    RetryCounter,
    RetryPolicy,
    failure_name,
    parse_retry_after,
    status_is_retryable,
    transport_error_is_retryable,
)
from ar_pipelines.client.errors import (
    ApiConnectionError,
    ApiResponseError,
    ApiStatusError,
    ApiTimeoutError,
    status_error,
)

logger = logging.getLogger("ar_pipelines.client")

QueryValue = str | int | bool | date
Params = Mapping[str, QueryValue | None]


@dataclass(frozen=True)
class Answer:
    """A success envelope's ``data``, with how many attempts it took."""

    data: Any
    message: str
    attempts: int
    request_id: str | None


class ApiKey:
    """Holds the key; every text form of it is masked."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value or not value.strip():
            raise ValueError("an API key is required (pass api_key= or set AR_API_KEY)")
        self._value = value.strip()

    def reveal(self) -> str:
        return self._value

    @property
    def mode(self) -> str | None:
        """``"live"`` or ``"test"`` from the key's prefix; ``None`` for an unknown shape."""
        for mode in ("live", "test"):
            if self._value.startswith(f"sk_{mode}_"):
                return mode
        return None

    def __repr__(self) -> str:
        return f"ApiKey(sk_{self.mode or '?'}_…)"

    __str__ = __repr__


def api_root(base_url: str) -> str:
    """``https://host`` or ``https://host/api/v1/external`` -> the External API root."""
    root = base_url.rstrip("/")
    return root if root.endswith(API_PREFIX) else root + API_PREFIX


class Transport:
    """Sends one logical request, retrying transient failures per the policy."""

    def __init__(
        self,
        *,
        http: httpx.Client,
        base_url: str,
        api_key: ApiKey,
        policy: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.http = http
        self.root = api_root(base_url)
        self.key = api_key
        self.policy = policy
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.ids = random.Random()  # request ids: unique, never seeded like the jitter
        self.urls: dict[str, httpx.URL] = {}
        self.retries = RetryCounter()  # every retry this client made

    def _url(self, path: str) -> httpx.URL:
        # Parsing the URL text (an IP host goes through ``ipaddress``) cost more than
        # the rest of the request's client-side work; the paths of a push repeat.
        url = self.urls.get(path)
        if url is None:
            url = self.urls[path] = httpx.URL(self.root + path)
        return url

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: bytes | None = None,
        idempotent: bool = True,
        counter: RetryCounter | None = None,
    ) -> Answer:
        """Send until the answer is final; raise the mapped error if it is an error."""
        request_id = f"req_{self.ids.getrandbits(128):032x}"
        headers = {
            "X-Api-Key": self.key.reveal(),
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "X-Request-Id": request_id,
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None} or None
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.http.request(
                    method, self._url(path), params=query, content=body, headers=headers
                )
            except httpx.TransportError as err:
                if attempt <= self.policy.max_retries and transport_error_is_retryable(
                    err, idempotent=idempotent
                ):
                    self._wait(attempt, failure_name(err), None, method, path, counter)
                    continue
                raise _connection_error(err, method, path, request_id, attempt) from err
            if response.status_code < 400:
                return _success(response, method, path, attempt)
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            asks_too_long = self.policy.asks_too_long(retry_after)
            if (
                attempt <= self.policy.max_retries
                and status_is_retryable(response.status_code, idempotent=idempotent)
                and not asks_too_long
            ):
                self._wait(attempt, str(response.status_code), retry_after, method, path, counter)
                continue
            note = (
                f"the server asks to wait {retry_after:.0f} s, longer than the "
                f"{self.policy.max_retry_after:.0f} s this client waits"
                if asks_too_long and retry_after is not None
                else None
            )
            error = status_error(
                response, path=path, retry_after=retry_after, attempts=attempt, note=note
            )
            _log_final(error)
            raise error

    def _wait(
        self,
        attempt: int,
        cause: str,
        retry_after: float | None,
        method: str,
        path: str,
        counter: RetryCounter | None,
    ) -> None:
        delay = self.policy.delay(attempt, self.rng, retry_after)
        logger.info(
            "%s %s failed (%s); retry %d of %d in %.2f s",
            method,
            path,
            cause,
            attempt,
            self.policy.max_retries,
            delay,
        )
        self.retries.add(cause, delay)
        if counter is not None:
            counter.add(cause, delay)
        self.sleep(delay)


def _query_value(value: QueryValue) -> str | int:
    """The query text of a value: booleans as ``true``/``false``, dates as ISO dates."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _success(response: httpx.Response, method: str, path: str, attempts: int) -> Answer:
    try:
        body = json.loads(response.content, parse_float=Decimal)
    except ValueError as err:
        raise ApiResponseError(
            f"{response.status_code} {method} {path}: the answer is not JSON"
        ) from err
    if not isinstance(body, dict) or body.get("success") is not True or "data" not in body:
        raise ApiResponseError(
            f"{response.status_code} {method} {path}: the answer is not a success envelope"
        )
    return Answer(
        data=body["data"],
        message=str(body.get("message", "")),
        attempts=attempts,
        request_id=response.headers.get("x-request-id"),
    )


def _connection_error(
    err: httpx.TransportError, method: str, path: str, request_id: str, attempts: int
) -> ApiConnectionError:
    # The httpx error's text names only the failure, never the headers; keep just that.
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    cls = ApiTimeoutError if isinstance(err, httpx.TimeoutException) else ApiConnectionError
    reason = str(err) or type(err).__name__
    logger.warning("%s %s gave up%s: %s", method, path, tries, reason)
    return cls(f"{reason}{tries}", method=method, path=path, request_id=request_id)


def _log_final(error: ApiStatusError) -> None:
    if error.status_code >= 500 or error.status_code == 429:
        tries = f" after {error.attempts} attempts" if error.attempts > 1 else ""
        logger.warning("%s%s", error, tries)
