"""Talk to the Sikka ONE v4 API: keys, retries and rate limits, nothing about data.

A ``request_key`` is asked for with the office's credentials and sent on every data
call in the ``Request-Key`` header. When it expires (or a call answers 401) it is
refreshed with the ``refresh_key``; when the refresh is refused a new key is asked
for. A 429 waits as long as ``x-rate-limit-reset`` says (at most a minute); 5xx
answers and failed connections are retried a few times with growing waits.

Secrets (the secret key, the app key, the request and refresh keys) live in
``Secret`` objects: no repr, message or log line of this module shows them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

logger = logging.getLogger("ar_pipelines.sources.sikka")

KEY_PATH = "/v4/request_key"
DEFAULT_KEY_SECONDS = 86_400  # Sikka's keys last a day
RATE_LIMIT_WAIT_CAP = 60.0
MAX_RATE_LIMIT_WAITS = 10
MAX_TRANSIENT_RETRIES = 4
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class SikkaError(RuntimeError):
    """The Sikka API did not give what was asked (after any retries)."""


class SikkaAuthError(SikkaError):
    """The credentials or keys were refused."""


class Secret:
    """A secret value; every text form of it is masked."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(…)"

    __str__ = __repr__


class SikkaSession:
    """Sends GETs to the API with a valid key, retrying what can be retried."""

    def __init__(
        self,
        *,
        base_url: str,
        office_id: str,
        secret_key: str,
        app_id: str,
        app_key: str,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.office_id = office_id
        self.app_id = app_id
        self._secret_key = Secret(secret_key)
        self._app_key = Secret(app_key)
        self._request_key: Secret | None = None
        self._refresh_key: Secret | None = None
        self._renew_at = 0.0
        self._owns_client = http_client is None
        self._http = http_client or httpx.Client(timeout=TIMEOUT)
        self._sleep = sleep
        self._clock = clock

    def get(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        """The JSON object a data call answers, with a fresh key if the old one lapsed."""
        response = self._send("GET", path, params=params, headers=self._key_header())
        if response.status_code == 401:
            logger.info("GET %s: key refused, renewing it", path)
            self._renew()
            response = self._send("GET", path, params=params, headers=self._key_header())
            if response.status_code == 401:
                raise SikkaAuthError(f"GET {path}: a freshly issued key was refused (HTTP 401)")
        return self._json(response, f"GET {path}")

    def _key_header(self) -> dict[str, str]:
        if self._request_key is None or self._clock() >= self._renew_at:
            self._renew()
        assert self._request_key is not None
        return {"Request-Key": self._request_key.reveal()}

    def _renew(self) -> None:
        if self._refresh_key is not None:
            try:
                self._grant(
                    {
                        "grant_type": "refresh_key",
                        "refresh_key": self._refresh_key.reveal(),
                        "app_id": self.app_id,
                        "app_key": self._app_key.reveal(),
                    }
                )
                return
            except SikkaAuthError:
                logger.info("the refresh key was refused; asking for a new request key")
        self._grant(
            {
                "grant_type": "request_key",
                "office_id": self.office_id,
                "secret_key": self._secret_key.reveal(),
                "app_id": self.app_id,
                "app_key": self._app_key.reveal(),
            }
        )

    def _grant(self, body: dict[str, str]) -> None:
        grant = body["grant_type"]
        response = self._send("POST", KEY_PATH, json=body)
        if response.status_code in (400, 401, 403):
            raise SikkaAuthError(
                f"the {grant} grant for office {self.office_id!r} was refused "
                f"(HTTP {response.status_code})"
            )
        answer = self._json(response, f"POST {KEY_PATH} ({grant})")
        request_key, refresh_key = answer.get("request_key"), answer.get("refresh_key")
        if not isinstance(request_key, str) or not request_key:
            raise SikkaAuthError(f"the {grant} grant answered without a request_key")
        self._request_key = Secret(request_key)
        self._refresh_key = Secret(refresh_key) if isinstance(refresh_key, str) else None
        seconds = _seconds(answer.get("expires_in")) or DEFAULT_KEY_SECONDS
        # Renew a little early, so a key never lapses between the check and the call.
        self._renew_at = self._clock() + seconds - min(60.0, seconds / 10)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call, repeated through 429s, 5xx answers and failed connections."""
        url = self.base_url + path
        transient = rate_limited = 0
        while True:
            try:
                response = self._http.request(method, url, **kwargs)
            except httpx.TransportError as err:
                transient += 1
                if transient > MAX_TRANSIENT_RETRIES:
                    name = type(err).__name__
                    raise SikkaError(f"{method} {path}: {name} after {transient} tries") from err
                self._wait(_backoff(transient), f"{method} {path}: {type(err).__name__}")
                continue
            if response.status_code == 429:
                rate_limited += 1
                if rate_limited > MAX_RATE_LIMIT_WAITS:
                    raise SikkaError(
                        f"{method} {path}: still rate limited after {rate_limited} waits"
                    )
                reset = _seconds(response.headers.get("x-rate-limit-reset"))
                wait = _backoff(rate_limited) if reset is None else reset
                self._wait(min(wait, RATE_LIMIT_WAIT_CAP), f"{method} {path}: rate limited")
                continue
            if response.status_code >= 500:
                transient += 1
                if transient > MAX_TRANSIENT_RETRIES:
                    status = response.status_code
                    raise SikkaError(f"{method} {path}: HTTP {status} after {transient} tries")
                self._wait(_backoff(transient), f"{method} {path}: HTTP {response.status_code}")
                continue
            return response

    def _wait(self, seconds: float, why: str) -> None:
        logger.warning("%s; retrying in %.1f s", why, seconds)
        self._sleep(seconds)

    @staticmethod
    def _json(response: httpx.Response, what: str) -> dict[str, Any]:
        if response.status_code != 200:
            raise SikkaError(f"{what}: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as err:
            raise SikkaError(f"{what}: the answer is not JSON") from err
        if not isinstance(body, dict):
            raise SikkaError(f"{what}: the answer is not a JSON object")
        return body

    def close(self) -> None:
        if self._owns_client:
            self._http.close()

    def __repr__(self) -> str:
        return f"SikkaSession(base_url={self.base_url!r}, office_id={self.office_id!r})"


def _seconds(value: Any) -> float | None:
    """A count of seconds sent as text, or ``None`` when it is not a usable one."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _backoff(attempt: int) -> float:
    return float(min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)))
