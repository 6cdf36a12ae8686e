"""Transports that fail on purpose, for faults the sandbox cannot produce on demand:
connections reset before or after the server did the work, answers that never come,
and answers rewritten on the way back."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx


class FlakyTransport(httpx.HTTPTransport):
    """Real HTTP to the sandbox, except that, seeded and at the given rates:

    - ``reset_before``: the connection fails before the request leaves;
    - ``reset_after``: the server does the work, then the connection drops;
    - ``timeout_after``: the server does the work, and the answer never arrives.
    """

    def __init__(
        self,
        *,
        reset_before: float = 0.0,
        reset_after: float = 0.0,
        timeout_after: float = 0.0,
        seed: int = 0,
        only: Callable[[httpx.Request], bool] | None = None,
    ) -> None:
        super().__init__()
        self.rates = (reset_before, reset_after, timeout_after)
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.only = only
        self.injected: Counter[str] = Counter()

    def _draw(self, request: httpx.Request) -> str | None:
        if self.only is not None and not self.only(request):
            return None
        with self.lock:
            roll = self.random.random()
        for name, rate in zip(
            ("reset_before", "reset_after", "timeout_after"), self.rates, strict=True
        ):
            if roll < rate:
                with self.lock:
                    self.injected[name] += 1
                return name
            roll -= rate
        return None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        fault = self._draw(request)
        if fault == "reset_before":
            raise httpx.ConnectError("connection refused (injected)", request=request)
        response = super().handle_request(request)
        if fault is None:
            return response
        response.read()
        response.close()
        if fault == "reset_after":
            raise httpx.ReadError("connection reset by peer (injected)", request=request)
        raise httpx.ReadTimeout("timed out waiting for the answer (injected)", request=request)


class RewritingTransport(httpx.HTTPTransport):
    """Real HTTP to the sandbox; answers matching ``when`` are replaced by ``rewrite``."""

    def __init__(
        self,
        when: Callable[[httpx.Request, httpx.Response], bool],
        rewrite: Callable[[httpx.Response, bytes], httpx.Response],
    ) -> None:
        super().__init__()
        self.when = when
        self.rewrite = rewrite
        self.rewritten = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if not self.when(request, response):
            return response
        body = response.read()
        response.close()
        self.rewritten += 1
        return self.rewrite(response, body)


def without_record_indexes(response: httpx.Response, body: bytes) -> httpx.Response:
    """The same 422, but as a server that does not say which record was bad."""
    envelope = json.loads(body)
    for error in envelope.get("errors", []):
        error["index"] = None
    return httpx.Response(
        response.status_code, headers={"X-Request-Id": "rewritten"}, json=envelope
    )


def as_503(response: httpx.Response, body: bytes) -> httpx.Response:
    """The work was done, but the answer is a 503 (a proxy failing on the way back)."""
    return httpx.Response(503, json={"success": False, "status_code": 503, "message": "busy"})


@dataclass(frozen=True)
class Refuse:
    """Answer ``status`` without passing the request on: the server never saw it."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True)
class AnswerAfter:
    """Pass the request on (the work is done), then answer ``status`` instead."""

    status: int


@dataclass(frozen=True)
class FailBefore:
    """Fail with this transport error before the request leaves."""

    error: type[httpx.TransportError]


@dataclass(frozen=True)
class FailAfter:
    """Pass the request on (the work is done), then fail with this transport error."""

    error: type[httpx.TransportError]


Step = Refuse | AnswerAfter | FailBefore | FailAfter


class ScriptedTransport(httpx.HTTPTransport):
    """Real HTTP to the sandbox; requests matching ``when`` meet the scripted steps
    first, one per request, and then pass through untouched."""

    def __init__(self, *steps: Step, when: Callable[[httpx.Request], bool] | None = None) -> None:
        super().__init__()
        self.steps = list(steps)
        self.when = when
        self.seen: list[httpx.Request] = []
        self.passed_on = 0

    def _forward(self, request: httpx.Request) -> httpx.Response:
        self.passed_on += 1
        response = super().handle_request(request)
        response.read()
        response.close()
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if not self.steps or (self.when is not None and not self.when(request)):
            self.passed_on += 1
            return super().handle_request(request)
        step = self.steps.pop(0)
        if isinstance(step, Refuse):
            return httpx.Response(step.status, headers=step.headers, content=step.body or b"")
        if isinstance(step, FailBefore):
            raise step.error(f"{step.error.__name__} (injected)", request=request)
        self._forward(request)
        if isinstance(step, FailAfter):
            raise step.error(f"{step.error.__name__} (injected)", request=request)
        envelope = {"success": False, "status_code": step.status, "message": "injected"}
        return httpx.Response(step.status, json=envelope)
