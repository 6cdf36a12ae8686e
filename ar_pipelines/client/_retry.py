"""When to retry, and how long to wait first.

Upserts are idempotent, so every transient failure is retried. A request that is not
idempotent (enrollment, a payment without an ``external_id``) is retried only when it
surely did not reach the server or the server said it did not act on it.
"""

from __future__ import annotations

import email.utils
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from ar_pipelines.client._constants import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    DEFAULT_MAX_RETRIES,
    MAX_RETRY_AFTER_SECONDS,
    NOT_PROCESSED_STATUSES,
    RETRYABLE_STATUSES,
)
from ar_pipelines.clock import utc_now

# Failures before a single byte of the request left: safe to resend anything.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures after the request may have arrived: resend only what is idempotent.
_MAYBE_SENT = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)


def failure_name(error: httpx.TransportError) -> str:
    """A stable label for counting: ``connect_error``, ``read_timeout``, ``connection_reset``."""
    if isinstance(error, httpx.ConnectTimeout | httpx.PoolTimeout):
        return "connect_timeout"
    if isinstance(error, httpx.ConnectError):
        return "connect_error"
    if isinstance(error, httpx.TimeoutException):
        return "read_timeout"
    return "connection_reset"


def transport_error_is_retryable(error: httpx.TransportError, *, idempotent: bool) -> bool:
    if isinstance(error, _NOT_SENT):
        return True
    return idempotent and isinstance(error, _MAYBE_SENT)


def status_is_retryable(status: int, *, idempotent: bool) -> bool:
    return status in (RETRYABLE_STATUSES if idempotent else NOT_PROCESSED_STATUSES)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), if usable."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or utc_now())).total_seconds()
    if seconds != seconds or seconds == float("inf"):  # NaN or infinite
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, never shorter than ``base`` nor longer than ``cap``;
    a server's ``Retry-After`` is honoured up to ``max_retry_after`` seconds."""

    max_retries: int = DEFAULT_MAX_RETRIES
    base: float = BACKOFF_BASE_SECONDS
    cap: float = BACKOFF_CAP_SECONDS
    max_retry_after: float = MAX_RETRY_AFTER_SECONDS

    def backoff(self, retry: int, rng: random.Random) -> float:
        """The jittered wait before retry number ``retry`` (1, 2, ...)."""
        ceiling = min(self.cap, self.base * 2.0 ** min(retry, 30))
        return rng.uniform(self.base, max(self.base, ceiling))

    def delay(self, retry: int, rng: random.Random, retry_after: float | None) -> float:
        """The wait before retry ``retry``: the backoff, or longer if the server asked.

        ``Retry-After: 0`` still waits the minimum backoff, so that many clients told
        "now" do not all come back in the same instant.
        """
        wait = self.backoff(retry, rng)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_retry_after))
        return wait

    def asks_too_long(self, retry_after: float | None) -> bool:
        return retry_after is not None and retry_after > self.max_retry_after


@dataclass
class RetryCounter:
    """Retries made, by cause (``"503"``, ``"read_timeout"``, ...); safe across threads."""

    by_cause: Counter[str] = field(default_factory=Counter)
    waited_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, cause: str, waited: float) -> None:
        with self._lock:
            self.by_cause[cause] += 1
            self.waited_seconds += waited

    @property
    def total(self) -> int:
        return sum(self.by_cause.values())

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self.by_cause.items()))
