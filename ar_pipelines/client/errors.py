"""Every error the AR client raises on purpose, and the one function that maps an
answer to its error.

::

    ApiError                          base: anything the client raises on purpose
    ├── ApiConnectionError            no answer: refused, reset, dropped
    │   └── ApiTimeoutError           no answer in time
    ├── ApiResponseError              an answer that is not the documented envelope
    ├── LiveKeyRequiredError          refused before sending: a test key cannot enroll
    ├── PushIncompleteError           a bulk push stopped; ``.report`` says what landed
    └── ApiStatusError                an error status: .status_code .message .errors .request_id
        ├── BadRequestError           400
        ├── AuthenticationError       401
        ├── PermissionDeniedError     403
        ├── NotFoundError             404
        ├── RequestTimeoutError       408
        ├── ConflictError             409
        ├── UnprocessableEntityError  422, with one ``ErrorDetail`` per bad field
        ├── RateLimitError            429, with ``.retry_after``
        └── InternalServerError       500 and above

No error carries the API key, the request headers or the ``httpx`` objects that hold
them: what an error says is safe to log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from ar_pipelines.client.reports import PushReport


class ApiError(Exception):
    """Base of every error the client raises on purpose."""


class ApiConnectionError(ApiError):
    """The request got no answer: the connection was refused, reset or dropped."""

    def __init__(self, message: str, *, method: str, path: str, request_id: str | None) -> None:
        super().__init__(f"{method} {path}: {message}")
        self.method = method
        self.path = path
        self.request_id = request_id


class ApiTimeoutError(ApiConnectionError):
    """The request got no answer in time."""


class ApiResponseError(ApiError):
    """The server answered, but not with the documented envelope."""


class LiveKeyRequiredError(ApiError):
    """Enrollment into campaigns needs a live key: test keys are refused before sending,
    because campaigns send real communications."""


class PushIncompleteError(ApiError):
    """A bulk push stopped before every record was sent; ``report`` accounts for all of them."""

    def __init__(self, message: str, report: PushReport) -> None:
        super().__init__(message)
        self.report = report


# Filled by ``ApiStatusError.__init_subclass__``: the class for each status a subclass names.
_BY_STATUS: dict[int, type[ApiStatusError]] = {}


@dataclass(frozen=True)
class ErrorDetail:
    """One problem the server named: the record ``index`` in a batch, the field, the message."""

    message: str
    index: int | None = None
    field: str | None = None
    loc: str | None = None

    def describe(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ApiStatusError(ApiError):
    """The server answered with an error status."""

    status_code: int = 0

    def __init_subclass__(cls, *, status_code: int | None = None, **kwargs: Any) -> None:
        """A subclass that names its ``status_code`` in its class statement is the error
        for that status."""
        super().__init_subclass__(**kwargs)
        if status_code is not None:
            cls.status_code = status_code
            _BY_STATUS[status_code] = cls

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str,
        path: str,
        errors: tuple[ErrorDetail, ...] = (),
        request_id: str | None = None,
        retry_after: float | None = None,
        attempts: int = 1,
    ) -> None:
        self.status_code = status_code
        self.message = message
        self.method = method
        self.path = path
        self.errors = errors
        self.request_id = request_id
        self.retry_after = retry_after
        self.attempts = attempts  # how many times the request was sent
        super().__init__(self._text())

    def _text(self) -> str:
        text = f"{self.status_code} {self.method} {self.path}: {self.message}"
        named = [e for e in self.errors if e.index is not None or e.field is not None]
        if named:
            shown = "; ".join(
                (f"[{e.index}] " if e.index is not None else "") + e.describe() for e in named[:3]
            )
            more = f" (and {len(named) - 3} more)" if len(named) > 3 else ""
            text += f" [{shown}{more}]"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text


class BadRequestError(ApiStatusError, status_code=400): ...


class AuthenticationError(ApiStatusError, status_code=401): ...


class PermissionDeniedError(ApiStatusError, status_code=403): ...


class NotFoundError(ApiStatusError, status_code=404): ...


class RequestTimeoutError(ApiStatusError, status_code=408): ...


class ConflictError(ApiStatusError, status_code=409): ...


class UnprocessableEntityError(ApiStatusError, status_code=422): ...


class RateLimitError(ApiStatusError, status_code=429): ...


class InternalServerError(ApiStatusError, status_code=500): ...


def _details(raw: Any) -> tuple[ErrorDetail, ...]:
    if not isinstance(raw, list):
        return ()
    details = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        index = item.get("index")
        details.append(
            ErrorDetail(
                message=str(item.get("message") or item.get("error") or "invalid value"),
                index=index if isinstance(index, int) and not isinstance(index, bool) else None,
                field=item.get("field") if isinstance(item.get("field"), str) else None,
                loc=item.get("loc") if isinstance(item.get("loc"), str) else None,
            )
        )
    return tuple(details)


def status_error(
    response: httpx.Response,
    *,
    path: str,
    retry_after: float | None = None,
    attempts: int = 1,
    note: str | None = None,
) -> ApiStatusError:
    """The error for an error answer, with the server's message, details and request id
    (and the client's ``note``, when it has something to add)."""
    try:
        body = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = str(body.get("message") or response.reason_phrase or "error")
        errors = _details(body.get("errors"))
    else:
        message = response.reason_phrase or "error"
        errors = ()
    if note:
        message = f"{message} ({note})"
    status = response.status_code
    cls = _BY_STATUS.get(status) or (InternalServerError if status >= 500 else ApiStatusError)
    return cls(
        message,
        status_code=status,
        method=response.request.method,
        path=path,
        errors=errors,
        request_id=response.headers.get("x-request-id"),
        retry_after=retry_after,
        attempts=attempts,
    )
