"""Errors as envelopes: ``{"success": false, "status_code", "message", "errors"}``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    """Raised by routes and services; rendered as an error envelope."""

    def __init__(
        self,
        status_code: int,
        message: str,
        errors: Sequence[dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.errors = list(errors)
        self.headers = headers


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def error_response(
    status_code: int,
    message: str,
    errors: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"success": False, "status_code": status_code, "message": message, "errors": errors}
    return JSONResponse(body, status_code=status_code, headers=headers)


def _describe(loc: Sequence[str | int]) -> tuple[int | None, str | None, str]:
    """``("body", "ledger_entries", 3, "amount")`` -> index 3, field "amount".

    The index is the record's place in the batch, the first number of the path: in
    ``("body", "customers", 3, "tags", 0)`` it is 3, not the tag's 0.
    """
    parts = list(loc[1:]) if loc and loc[0] in {"body", "query", "path", "header"} else list(loc)
    index = next((p for p in parts if isinstance(p, int)), None)
    # A bad key of a mapping ends in (key, "[key]"): the field is the mapping, not the key.
    named = parts[:-2] if parts[-1:] == ["[key]"] else parts
    names = [p for p in named if isinstance(p, str)]
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return index, (names[-1] if names else None), path


def validation_errors(raw: Sequence[Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for error in raw:
        ctx = error.get("ctx") or {}
        if error.get("type") == "json_invalid":
            # The body is not JSON: its loc is a character position, not a record index.
            position = error.get("loc", ("body", None))[-1]
            reason = ctx.get("error", "invalid JSON") if isinstance(ctx, dict) else "invalid JSON"
            message = f"body is not valid JSON: {reason} at character {position}"
            items.append({"index": None, "field": None, "loc": "body", "message": message})
            continue
        index, field, path = _describe(error.get("loc", ()))
        field = ctx.get("field", field) if isinstance(ctx, dict) else field
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        items.append({"index": index, "field": field, "loc": path, "message": message})
    return items


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status_code, exc.message, exc.errors, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc.errors())
        first = errors[0] if errors else {"message": "invalid request"}
        where = f" ({first['loc']})" if first.get("loc") else ""
        return error_response(422, f"Validation failed: {first['message']}{where}", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        return error_response(exc.status_code, message, headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return error_response(500, "Internal server error")
