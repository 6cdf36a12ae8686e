"""Request ids, a request body size limit, per-key rate limiting and seeded fault
injection, as plain ASGI middleware.

Rate limiting and faults are off by default and only touch the External API, never
``/openapi.json``. The body size limit applies to every request. Every answer carries
an ``X-Request-Id``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import threading
import time
import uuid
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ar_sandbox.settings import FaultSettings

API_PREFIX = "/api/v1/external"
REQUEST_ID_HEADER = b"x-request-id"
MAX_REQUEST_ID = 128


async def _send_error(
    send: Send, status: int, message: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps(
        {"success": False, "status_code": status, "message": message, "errors": []}
    ).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def _api_key_fingerprint(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-api-key":
            return hashlib.sha256(value).hexdigest()
    return None


def _content_length(scope: Scope) -> int | None:
    """The declared ``Content-Length``, or None when absent or unreadable (the server
    frames the body either way, and the bytes are counted as they arrive)."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class _BodyTooLargeError(Exception):
    """Raised into the application when the body it is reading passes the limit."""


class BodySizeLimitMiddleware:
    """Answers 413 to a request whose body is larger than ``max_bytes``.

    A declared ``Content-Length`` over the limit is refused before the application
    runs, without reading the body. Otherwise the bytes are counted as the application
    receives them (chunked uploads declare no length): the chunk that passes the limit
    is never handed on, the application's read fails, whatever it answers to that is
    dropped, and the 413 goes out instead. So the application never holds more than
    ``max_bytes`` of a body.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        if max_bytes < 1:
            raise ValueError("the maximum request body size must be at least 1 byte")
        self.app = app
        self.max_bytes = max_bytes
        self.message = f"Request body too large: the limit is {max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _send_error(send, 413, self.message)
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise _BodyTooLargeError
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the answer to a failed read; the 413 below replaces it
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            # Whatever the failed read turned into (our error, a wrapped one, a group
            # of them), it is answered with the 413 unless an answer already began.
            if not exceeded or started:
                raise
        if exceeded and not started:
            await _send_error(send, 413, self.message)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimitMiddleware:
    """A token bucket per API key: ``rate`` requests a second, bursts of ``burst``."""

    def __init__(self, app: ASGIApp, *, rate: float, burst: int = 0) -> None:
        self.app = app
        self.rate = rate
        self.capacity = float(burst or max(1, math.ceil(rate)))
        self.buckets: dict[str, _Bucket] = {}
        self.lock = threading.Lock()

    def _wait_needed(self, key: str) -> float:
        now = time.monotonic()
        with self.lock:
            bucket = self.buckets.setdefault(key, _Bucket(self.capacity, now))
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.rate <= 0 or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        key = _api_key_fingerprint(scope)
        wait = self._wait_needed(key) if key else 0.0
        if wait > 0:
            retry_after = str(max(1, math.ceil(wait)))
            await _send_error(send, 429, "Rate limit exceeded", {"Retry-After": retry_after})
            return
        await self.app(scope, receive, send)


class FaultInjectionMiddleware:
    """Answers some requests with 503 or 429 before processing, or 500 after it.

    The 500 comes after the request was processed and committed, like a gateway
    failing on the way back: a client cannot tell whether its work landed.
    """

    def __init__(self, app: ASGIApp, *, faults: FaultSettings) -> None:
        self.app = app
        self.faults = faults
        self.random = random.Random(faults.seed)
        self.lock = threading.Lock()

    def _draw(self) -> str | None:
        with self.lock:
            roll = self.random.random()
        f = self.faults
        for name, probability in (
            ("503", f.error_503),
            ("429", f.error_429),
            ("slow", f.slow),
            ("500", f.error_500),
        ):
            if roll < probability:
                return name
            roll -= probability
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        fault = self._draw()
        if fault == "503":
            await _send_error(send, 503, "Service temporarily unavailable (injected)")
        elif fault == "429":
            await _send_error(send, 429, "Rate limit exceeded (injected)", {"Retry-After": "1"})
        elif fault == "slow":
            await asyncio.sleep(self.faults.slow_seconds)
            await self.app(scope, receive, send)
        elif fault == "500":

            async def swallow(_: Message) -> None:
                return None

            await self.app(scope, receive, swallow)
            await _send_error(send, 500, "Internal server error (injected after processing)")
        else:
            await self.app(scope, receive, send)


class RequestIdMiddleware:
    """Tags every answer with ``X-Request-Id``: the caller's own when it sent a usable
    one (so a retried request keeps its id), a new one otherwise."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def _callers_id(scope: Scope) -> bytes | None:
        for name, value in scope.get("headers", []):
            if name == REQUEST_ID_HEADER:
                usable = 0 < len(value) <= MAX_REQUEST_ID and value.isascii()
                return value if usable and value.decode().isprintable() else None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self._callers_id(scope) or f"req_{uuid.uuid4().hex}".encode()

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != REQUEST_ID_HEADER]
                message = {**message, "headers": [*headers, (REQUEST_ID_HEADER, request_id)]}
            await send(message)

        await self.app(scope, receive, tagged)
