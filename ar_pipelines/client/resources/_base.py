"""What every resource shares: the transport, typed gets, and lists that page for you."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypedDict, TypeVar, cast

from pydantic import BaseModel

from ar_pipelines.client._bulk import BulkEndpoint, BulkPusher, ProgressCallback
from ar_pipelines.client._constants import MAX_PER_PAGE
from ar_pipelines.client._http import Params, Transport
from ar_pipelines.client._prepare import R, prepare
from ar_pipelines.client.errors import ApiResponseError, BadRequestError, LiveKeyRequiredError
from ar_pipelines.client.models import Account, Enrollment, Statement, StatementEnrollment
from ar_pipelines.client.records import encode
from ar_pipelines.client.reports import PushReport
from ar_pipelines.client.resources._enroll import met_own_enrollment

M = TypeVar("M", bound=BaseModel)


class ByCustomer(TypedDict, total=False):
    """The filters of a list that narrow it to one customer's rows, named either way."""

    customer_id: str | None
    customer_external_id: str | None


class ByDates(TypedDict, total=False):
    """The filters of a list that bound the dates of its rows, both ends included."""

    from_date: date | None
    to_date: date | None


@dataclass(frozen=True)
class ListEndpoint(Generic[M]):
    """A list route: where it is, the model of its items and the key they come under,
    the filters it takes (the keys of the resource's filters TypedDict), and the
    page-size limit that applies when it is not the one named after ``items``."""

    path: str
    model: type[M]
    items: str
    filters: frozenset[str] = frozenset()
    limit_of: str | None = None


class Resource:
    def __init__(self, transport: Transport, *, concurrency: int) -> None:
        self._transport = transport
        self._concurrency = concurrency

    def _one(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        params: Params | None = None,
        body: Mapping[str, Any] | None = None,
        idempotent: bool = True,
    ) -> M:
        answer = self._transport.request(
            method,
            path,
            params=params,
            body=None if body is None else encode(body),
            idempotent=idempotent,
        )
        return _parse(model, answer.data, method, path)

    def _list(
        self,
        endpoint: ListEndpoint[M],
        per_page: int | None,
        filters: Mapping[str, object],
        *,
        path: str | None = None,
    ) -> Iterator[M]:
        """Every item of a list endpoint that matches ``filters``, fetching the next page
        as the last is used up. Filters left ``None`` are not sent.

        A filter the endpoint does not take is refused at once, as an unknown keyword
        is: sent, AR would ignore it and answer the whole list. Pages are as large as
        the endpoint serves unless ``per_page`` says otherwise.
        """
        unknown = sorted(set(filters) - endpoint.filters)
        if unknown:
            raise TypeError(f"{endpoint.path} cannot be filtered by {', '.join(unknown)}")
        size = per_page or MAX_PER_PAGE[endpoint.limit_of or endpoint.items]
        # The filters TypedDicts declare query values only (str, int, bool, date).
        query = cast(Params, filters)
        return self._pages(path or endpoint.path, endpoint.model, endpoint.items, size, query)

    def _pages(
        self, path: str, model: type[M], items: str, size: int, filters: Params
    ) -> Iterator[M]:
        page = 1
        while True:
            answer = self._transport.request(
                "GET", path, params={**filters, "page": page, "per_page": size}
            )
            rows = answer.data.get(items) if isinstance(answer.data, dict) else None
            if not isinstance(rows, list):
                raise ApiResponseError(f"GET {path}: the answer has no {items!r} list")
            for row in rows:
                yield _parse(model, row, "GET", path)
            if not rows or page >= int(answer.data.get("total_pages") or 0):
                return
            page += 1

    def _bulk_upsert(
        self,
        endpoint: BulkEndpoint,
        records: Iterable[R | Mapping[str, Any]],
        model: type[R],
        *,
        on_progress: ProgressCallback | None,
        order: Callable[[Mapping[str, Any]], str] | None = None,
    ) -> PushReport:
        pusher = BulkPusher(self._transport, endpoint, concurrency=self._concurrency)
        return pusher.push(prepare(records, model, order=order), on_progress=on_progress)

    def _require_live(self, what: str) -> None:
        if self._transport.key.mode == "test":
            raise LiveKeyRequiredError(
                f"{what} needs a live key (sk_live_…): test keys cannot enroll into "
                "campaigns, because campaigns send real communications"
            )

    def _enroll_one(
        self,
        path: str,
        campaign_id: str,
        read_back: Callable[[], Account | Statement | None],
        *,
        params: Params | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> StatementEnrollment:
        """Enroll one invoice. When a resent request meets the invoice's own active
        execution, ``read_back`` gives the invoice if it is enrolled in the campaign (the
        earlier attempt landed) and the answer says so; otherwise the refusal stands."""
        try:
            return self._one(
                "POST", path, StatementEnrollment, params=params, body=body, idempotent=False
            )
        except BadRequestError as err:
            if not met_own_enrollment(err.message, err.attempts):
                raise
            invoice = read_back()
            if invoice is None:
                raise
        confirmed = Enrollment(invoice_id=invoice.id, customer_id=invoice.customer_id)
        return StatementEnrollment(campaign_id=campaign_id, enrolled_count=1, results=[confirmed])


def _parse(model: type[M], data: Any, method: str, path: str) -> M:
    try:
        return model.model_validate(data)
    except ValueError as err:
        raise ApiResponseError(
            f"{method} {path}: the answer does not match {model.__name__}: {err}"
        ) from err
