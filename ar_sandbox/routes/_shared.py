"""What every router shares: the Decimal-parsing route class, paging, error docs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ar_sandbox.jsonroute import DecimalJSONRoute
from ar_sandbox.schemas.common import ErrorEnvelope, Paging

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": description}
    for status, description in {
        400: "Bad request",
        401: "Missing or unknown API key",
        403: "The API key lacks the scope",
        404: "Not found in this company and mode",
        422: "Validation failed; each error names the record index and field",
        429: "Rate limited; see Retry-After",
    }.items()
}

CONFLICT_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorEnvelope, "description": "The external_id is already taken"}
}

PagingQuery = Annotated[Paging, Query()]


def router(tag: str) -> APIRouter:
    return APIRouter(route_class=DecimalJSONRoute, tags=[tag], responses=ERROR_RESPONSES)
