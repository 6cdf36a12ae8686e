"""What every router shares: the Decimal-parsing route class, paging, error docs, aliases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

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

EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])


class Router(APIRouter):
    """An ``APIRouter`` that can also register a POST endpoint under a second path."""

    def post_with_alias(
        self, path: str, alias: str, *, summary: str
    ) -> Callable[[EndpointT], EndpointT]:
        """Register the endpoint at ``path`` and again at ``alias``, the other name the
        API documents for it."""

        def register(endpoint: EndpointT) -> EndpointT:
            self.post(path, summary=summary)(endpoint)
            self.post(alias, summary=f"Alias for {path}")(endpoint)
            return endpoint

        return register


def router(tag: str) -> Router:
    return Router(route_class=DecimalJSONRoute, tags=[tag], responses=ERROR_RESPONSES)
