"""What every router shares: the Decimal-parsing route class, error docs, aliases, and the
standard read routes of a resource (a page of its list, one row by its UUID)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.utils import get_path_param_names
from sqlalchemy.orm import Session

from ar_sandbox.access import Caller, Principal
from ar_sandbox.jsonroute import DecimalJSONRoute
from ar_sandbox.schemas.accounts import ByAccount
from ar_sandbox.schemas.common import Envelope, ErrorEnvelope, Paging, RowOut

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

EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])
QueryT = TypeVar("QueryT")
PageT = TypeVar("PageT")
RowT = TypeVar("RowT")
OutT = TypeVar("OutT", bound=RowOut)


class Router(APIRouter):
    """An ``APIRouter`` that can also register a POST endpoint under a second path, and
    declare the read routes of its resource."""

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

    def reads(self, reader: Any, one: str, many: str) -> ReadRoutes:
        """The read routes of the resource named ``one`` and ``many``, for callers that
        pass ``reader`` (a scope dependency such as ``AccountsRead``)."""
        return ReadRoutes(self, reader, one, many)


def router(tag: str) -> Router:
    return Router(route_class=DecimalJSONRoute, tags=[tag], responses=ERROR_RESPONSES)


def _snake(noun: str) -> str:
    return noun.lower().replace(" ", "_")


def _in_query(model: Any) -> Any:
    """``model`` as a route parameter whose fields are query parameters."""
    return Annotated[model, Query()]


@dataclass(frozen=True)
class ReadRoutes:
    """The GET routes of one resource: a page of its list, one row by its UUID.

    ``one`` and ``many`` name the resource ("Ledger entry", "Ledger entries"); each
    route's name (``list_ledger_entries``, ``get_ledger_entry``, which make its
    operation id) and its message ("Ledger entries retrieved") follow from them.
    """

    api: APIRouter
    reader: Any
    one: str
    many: str

    def list_route(
        self,
        path: str,
        summary: str,
        query: type[QueryT],
        page: type[PageT],
        lister: Callable[[Session, Principal, QueryT, Paging], PageT],
        paging: type[Paging] = Paging,
    ) -> None:
        """``GET path``: one page of what ``lister`` finds for the filters of ``query``,
        paged as ``paging`` bounds it."""
        message = f"{self.many} retrieved"

        def endpoint(caller: Caller, wanted: QueryT, paging: Paging) -> Envelope[PageT]:
            return caller.listing(message, lister, wanted, paging)

        self._get(
            path,
            summary,
            f"list_{_snake(self.many)}",
            page,
            endpoint,
            caller=self.reader,
            wanted=_in_query(query),
            paging=_in_query(paging),
        )

    def get_route(
        self,
        path: str,
        summary: str,
        item: type[OutT],
        getter: Callable[[Session, Principal, str], RowT],
        render: Callable[[RowT], OutT] | None = None,
    ) -> None:
        """``GET path``: the row ``getter`` finds by the UUID in the path, rendered by
        ``render`` (``item.of`` unless given)."""
        message = f"{self.one} retrieved"
        (key,) = get_path_param_names(path)
        show = render or item.of

        def endpoint(caller: Caller, **path_key: UUID) -> Envelope[OutT]:
            return caller.fetch(message, getter, path_key[key], show)

        name = f"get_{_snake(self.one)}"
        self._get(path, summary, name, item, endpoint, caller=self.reader, **{key: UUID})

    def filed_routes(
        self,
        page: type[PageT],
        item: type[OutT],
        lister: Callable[[Session, Principal, ByAccount, Paging], PageT],
        getter: Callable[[Session, Principal, str], Any],
    ) -> None:
        """The reads of rows filed against an account (payments, disputes):
        ``/accounts/{account_id}/<many>``, ``/<many>`` (every account's unless the query
        names one) and ``/<many>/{<one>_id}``."""
        many, one = _snake(self.many), _snake(self.one)
        message = f"{self.many} retrieved"

        def endpoint(caller: Caller, account_id: UUID, paging: Paging) -> Envelope[PageT]:
            return caller.listing(message, lister, ByAccount(account_id=account_id), paging)

        self._get(
            f"/accounts/{{account_id}}/{many}",
            f"List an account's {many}",
            f"list_account_{many}",
            page,
            endpoint,
            caller=self.reader,
            account_id=UUID,
            paging=_in_query(Paging),
        )
        self.list_route(f"/{many}", f"List {many}", ByAccount, page, lister)
        self.get_route(f"/{many}/{{{one}_id}}", f"Get one {one}", item, getter)

    def _get(
        self,
        path: str,
        summary: str,
        name: str,
        data: Any,
        endpoint: Callable[..., Any],
        **parameters: Any,
    ) -> None:
        """Register ``endpoint`` as ``GET path``, answering ``data`` in the envelope.
        FastAPI reads the endpoint's keyword ``parameters`` as annotated here: the
        caller, the query models, a path parameter."""
        endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)
                for key, annotation in parameters.items()
            ]
        )
        self.api.get(path, name=name, summary=summary, response_model=Envelope[data])(endpoint)
