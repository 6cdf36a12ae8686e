"""Talk to the Sikka ONE v4 API: keys, retries and rate limits, nothing about data.

A ``request_key`` is asked for with the office's credentials and sent on every data
call in the ``Request-Key`` header. It is renewed (with the ``refresh_key``, else a new
``request_key`` grant) shortly before it lapses, by the grant's ``end_time`` or the
``Request-Key-Expires`` header, whichever comes first, and once more when Sikka answers
400 ``API1025`` (expired key) all the same. The office's ``secret_key``, when not given,
comes from ``authorized_practices``.

Sikka answers errors with a JSON body naming an ``error_code``; the messages here name it
too. A 429 waits as long as ``X-Rate-Limit-Reset`` says (at most a minute), except a
daily quota (``API2011``/``API2012``), which stops at once. 5xx answers and failed
connections are retried with growing waits, then end in ``SourceUnavailable``.
``Data-Insert: in progress`` (Sikka is loading the office) ends the call in
``SourceNotReady``. See ``docs/sources.md``.

Secrets (the secret key, the app key, the request and refresh keys) live in
``Secret`` objects: no repr, message or log line of this module shows them.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, NotRequired, TypedDict

import httpx

from ar_pipelines.clock import naive_utc, utc_now
from ar_pipelines.sources.base import (
    DailyQuotaSpent,
    SourceError,
    SourceNotReady,
    SourceUnavailable,
)

logger = logging.getLogger("ar_pipelines.sources.sikka")

API_PREFIX = "/v4"
KEY_PATH = "/v4/request_key"
AUTHORIZED_PRACTICES_PATH = "/v4/authorized_practices"
AUTHORIZED_PAGE_SIZE = 500
DEFAULT_KEY_SECONDS = 86_400  # Sikka's keys last a day
RENEW_MARGIN_SECONDS = 60.0
RATE_LIMIT_WAIT_CAP = 60.0
MAX_RATE_LIMIT_WAITS = 10
MAX_TRANSIENT_RETRIES = 4
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
SIKKA_TIME = "%Y-%m-%dT%H:%M:%S"

EXPIRED_KEY = "API1025"
DAILY_QUOTAS = frozenset({"API2011", "API2012"})  # data size / requests per practice per day
# 500 "Data not uploaded for this customer": Sikka holds no data for the office yet (a
# new installation). Not a failure a few quick retries cure: the source is not ready.
NOT_UPLOADED = "API2010"
DATA_INSERT = "data-insert"
IN_PROGRESS = "in progress"


class SikkaError(SourceError):
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


@dataclass(frozen=True)
class SikkaReply:
    """A data call's answer: the JSON object (``None`` for 204, no rows) and headers."""

    body: dict[str, Any] | None
    headers: httpx.Headers


def api_base(base_url: str) -> str:
    """The URL the ``/v4/...`` paths go after: a configured ``.../v4`` loses its ``/v4``."""
    base = base_url.rstrip("/")
    return base[: -len(API_PREFIX)] if base.endswith(API_PREFIX) else base


class SessionOptions(TypedDict):
    """``SikkaSession``'s arguments, for a reader that opens one."""

    base_url: str
    office_id: str
    app_id: str
    app_key: str
    secret_key: NotRequired[str | None]
    http_client: NotRequired[httpx.Client | None]
    sleep: NotRequired[Callable[[float], None]]
    clock: NotRequired[Callable[[], float]]
    now: NotRequired[Callable[[], datetime]]


class SikkaSession:
    """Sends GETs to the API with a valid key, retrying what can be retried."""

    def __init__(
        self,
        *,
        base_url: str,
        office_id: str,
        app_id: str,
        app_key: str,
        secret_key: str | None = None,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.base_url = api_base(base_url)
        self.office_id = office_id
        self.app_id = app_id
        self._secret_key = None if secret_key is None else Secret(secret_key)
        self._app_key = Secret(app_key)
        self._request_key: Secret | None = None
        self._refresh_key: Secret | None = None
        self._renew_at = 0.0
        # Request-Key-Expires: in UTC, and as a deadline on ``clock`` when it was heard
        self._expires_at: tuple[datetime, float] | None = None
        self._owns_client = http_client is None
        self._http = http_client or httpx.Client(timeout=TIMEOUT)
        self._sleep = sleep
        self._clock = clock
        self._now = now

    # -- data calls -------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, str]) -> SikkaReply:
        """A data call's answer, with a fresh key if the old one lapsed."""
        response = self._send("GET", path, params=params, headers=self._key_header())
        if response.status_code == 400 and _error_code(response) == EXPIRED_KEY:
            logger.info("GET %s: the request key expired (%s); renewing it", path, EXPIRED_KEY)
            self._renew()
            response = self._send("GET", path, params=params, headers=self._key_header())
            if response.status_code == 400 and _error_code(response) == EXPIRED_KEY:
                raise SikkaAuthError(f"GET {path}: a freshly issued key was refused as expired")
        self._note_expiry(response)
        return self._reply(response, f"GET {path}")

    def get_as_app(self, path: str, params: Mapping[str, str]) -> SikkaReply:
        """A call made with the application's ``App-Id``/``App-Key`` rather than a key."""
        headers = {"App-Id": self.app_id, "App-Key": self._app_key.reveal()}
        response = self._send("GET", path, params=params, headers=headers)
        return self._reply(response, f"GET {path}")

    def app_items(
        self, path: str, params: Mapping[str, str], *, page_size: int
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list called as the application (``get_as_app``), page after
        page until a page is empty or ``total_count`` items are listed. A caller that stops
        early asks for no more pages."""
        page = 0
        while True:
            query = {**params, "offset": str(page), "limit": str(page_size)}
            body = self.get_as_app(path, query).body
            items = [] if body is None else body.get("items")
            if not isinstance(items, list) or not items:
                return
            yield from (item for item in items if isinstance(item, dict))
            total = _number(body.get("total_count")) if body is not None else None
            page += 1
            if total is None or page * page_size >= total:
                return

    def _reply(self, response: httpx.Response, what: str) -> SikkaReply:
        if response.headers.get(DATA_INSERT, "").strip().lower() == IN_PROGRESS:
            raise SourceNotReady(
                f"{what}: Sikka is loading office {self.office_id!r} right now "
                "(Data-Insert: in progress); read it once the load has completed"
            )
        if response.status_code == 204:
            return SikkaReply(None, response.headers)
        if response.status_code != 200:
            raise _failure(response, what, self.office_id)
        try:
            body = response.json()
        except ValueError as err:
            raise SikkaError(f"{what}: the answer is not JSON") from err
        if not isinstance(body, dict):
            raise SikkaError(f"{what}: the answer is not a JSON object")
        return SikkaReply(body, response.headers)

    # -- keys -------------------------------------------------------------------------

    def _key_header(self) -> dict[str, str]:
        if self._request_key is None or self._lapsing():
            self._renew()
        assert self._request_key is not None
        return {"Request-Key": self._request_key.reveal()}

    def _lapsing(self) -> bool:
        """Whether the key ends within the margin, by its grant or by the API's header."""
        if self._clock() >= self._renew_at:
            return True
        if self._expires_at is None:
            return False
        wall, deadline = self._expires_at
        margin = timedelta(seconds=RENEW_MARGIN_SECONDS)
        now = naive_utc(self._now())
        return now >= wall - margin or self._clock() >= deadline - RENEW_MARGIN_SECONDS

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
                "secret_key": self._office_secret().reveal(),
                "app_id": self.app_id,
                "app_key": self._app_key.reveal(),
            }
        )

    def _office_secret(self) -> Secret:
        """The office's secret key: given, or as ``authorized_practices`` lists it."""
        if self._secret_key is None:
            self._secret_key = self._authorized_secret()
        return self._secret_key

    def _authorized_secret(self) -> Secret:
        listed = self.app_items(
            AUTHORIZED_PRACTICES_PATH, {"show": "all"}, page_size=AUTHORIZED_PAGE_SIZE
        )
        for item in listed:
            if item.get("office_id") == self.office_id:
                secret = item.get("secret_key")
                if isinstance(secret, str) and secret:
                    return Secret(secret)
        raise SikkaAuthError(
            f"office {self.office_id!r} is not among the offices that authorized app "
            f"{self.app_id!r} (GET {AUTHORIZED_PRACTICES_PATH}); check the office id"
        )

    def _grant(self, body: dict[str, str]) -> None:
        grant = body["grant_type"]
        what = f"POST {KEY_PATH} ({grant})"
        response = self._send("POST", KEY_PATH, json=body)
        if response.status_code in (400, 401, 403):
            raise SikkaAuthError(
                f"the {grant} grant for office {self.office_id!r} was refused: "
                + _described(response)
            )
        answer = self._reply(response, what).body or {}
        request_key, refresh_key = answer.get("request_key"), answer.get("refresh_key")
        if not isinstance(request_key, str) or not request_key:
            raise SikkaAuthError(f"the {grant} grant answered without a request_key")
        self._request_key = Secret(request_key)
        if isinstance(refresh_key, str) and refresh_key:
            self._refresh_key = Secret(refresh_key)
        seconds = _key_seconds(answer)
        # Renew a little early, so a key never lapses between the check and the call.
        self._renew_at = self._clock() + seconds - min(RENEW_MARGIN_SECONDS, seconds / 10)
        self._expires_at = None

    def _note_expiry(self, response: httpx.Response) -> None:
        """Remember ``Request-Key-Expires``: the key is renewed before that time too."""
        header = response.headers.get("request-key-expires")
        if not header:
            return
        try:
            expires = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return
        expires = naive_utc(expires)  # a header without a zone is taken as UTC
        left = (expires - naive_utc(self._now())).total_seconds()
        self._expires_at = (expires, self._clock() + left)

    # -- transport --------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call, repeated through rate limits, 5xx answers and failed connections."""
        url = self.base_url + path
        transient = rate_limited = 0
        while True:
            try:
                response = self._http.request(method, url, **kwargs)
            except httpx.TransportError as err:
                transient += 1
                name = type(err).__name__
                if transient > MAX_TRANSIENT_RETRIES:
                    raise SourceUnavailable(
                        f"{method} {path}: {name} after {transient} tries"
                    ) from err
                self._wait(_backoff(transient), f"{method} {path}: {name}")
                continue
            status = response.status_code
            if status == 429:
                code = _error_code(response)
                if code in DAILY_QUOTAS:
                    raise DailyQuotaSpent(
                        f"{method} {path}: the practice's daily quota at Sikka is spent for "
                        f"office {self.office_id!r} ({_described(response)}); reading again "
                        "today fails alike"
                    )
                rate_limited += 1
                if rate_limited > MAX_RATE_LIMIT_WAITS:
                    raise SourceUnavailable(
                        f"{method} {path}: still rate limited after {rate_limited} waits"
                    )
                reset = _number(response.headers.get("x-rate-limit-reset"))
                wait = _backoff(rate_limited) if reset is None else reset
                self._wait(min(wait, RATE_LIMIT_WAIT_CAP), f"{method} {path}: rate limited")
                continue
            if status >= 500:
                if _error_code(response) == NOT_UPLOADED:
                    raise SourceNotReady(
                        f"{method} {path}: Sikka has not loaded office {self.office_id!r} "
                        f"yet ({_described(response)})"
                    )
                transient += 1
                if transient > MAX_TRANSIENT_RETRIES:
                    raise SourceUnavailable(
                        f"{method} {path}: {_described(response)} after {transient} tries"
                    )
                self._wait(_backoff(transient), f"{method} {path}: HTTP {status}")
                continue
            return response

    def _wait(self, seconds: float, why: str) -> None:
        logger.warning("%s; retrying in %.1f s", why, seconds)
        self._sleep(seconds)

    def close(self) -> None:
        if self._owns_client:
            self._http.close()

    def __repr__(self) -> str:
        return f"SikkaSession(base_url={self.base_url!r}, office_id={self.office_id!r})"


def _failure(response: httpx.Response, what: str, office_id: str) -> SikkaError:
    description = _described(response)
    if response.status_code == 401:
        return SikkaAuthError(
            f"{what}: the app credentials were refused for office {office_id!r}: {description}"
        )
    return SikkaError(f"{what}: {description}")


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_code(response: httpx.Response) -> str | None:
    code = _error_body(response).get("error_code")
    return code if isinstance(code, str) and code else None


def _described(response: httpx.Response) -> str:
    """``HTTP 400 API1025: short message (long message)`` from Sikka's error body."""
    body = _error_body(response)
    parts = [f"HTTP {response.status_code}"]
    code = body.get("error_code")
    if isinstance(code, str) and code:
        parts[0] += f" {code}"
    texts = [
        str(body[name]).strip()
        for name in ("short_message", "long_message")
        if isinstance(body.get(name), str) and str(body[name]).strip()
    ]
    if texts:
        parts.append(" - ".join(texts))
    return ": ".join(parts)


def _key_seconds(answer: Mapping[str, Any]) -> float:
    """How long a granted key lasts: ``end_time - start_time``, else ``expires_in``."""
    try:
        start = datetime.strptime(str(answer["start_time"]), SIKKA_TIME)  # noqa: DTZ007
        end = datetime.strptime(str(answer["end_time"]), SIKKA_TIME)  # noqa: DTZ007
    except (KeyError, ValueError):
        pass
    else:
        if end > start:
            return (end - start) / timedelta(seconds=1)
    expires_in = answer.get("expires_in")
    match = re.match(r"\s*(\d+(?:\.\d+)?)", str(expires_in)) if expires_in is not None else None
    return float(match.group(1)) if match else float(DEFAULT_KEY_SECONDS)


def _number(value: Any) -> float | None:
    """A count of seconds (or items) sent as text, or ``None`` when it is not a usable one."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, number) if math.isfinite(number) else None


def _backoff(attempt: int) -> float:
    return float(min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)))
