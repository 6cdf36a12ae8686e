"""What every resource shares: the transport, typed gets, and lists that page for you."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from ar_pipelines.client._bulk import BulkEndpoint, BulkPusher, ProgressCallback
from ar_pipelines.client._constants import MAX_PER_PAGE
from ar_pipelines.client._http import Params, QueryValue, Transport
from ar_pipelines.client._prepare import R, prepare
from ar_pipelines.client.errors import ApiResponseError, LiveKeyRequiredError
from ar_pipelines.client.records import encode
from ar_pipelines.client.reports import PushReport

M = TypeVar("M", bound=BaseModel)


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
        path: str,
        model: type[M],
        *,
        items: str,
        per_page: int | None,
        accepts: frozenset[str] = frozenset(),
        resource: str | None = None,
        **filters: QueryValue | None,
    ) -> Iterator[M]:
        """Every item of a list endpoint that matches ``filters``, fetching the next page
        as the last is used up. Filters left ``None`` are not sent.

        A filter the endpoint does not take (not in ``accepts``) is refused at once, as
        an unknown keyword is: sent, AR would ignore it and answer the whole list.
        Pages are as large as the endpoint serves unless ``per_page`` says otherwise.
        """
        unknown = sorted(set(filters) - accepts)
        if unknown:
            raise TypeError(f"{path} cannot be filtered by {', '.join(unknown)}")
        return self._pages(path, model, items, per_page or MAX_PER_PAGE[resource or items], filters)

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


def _parse(model: type[M], data: Any, method: str, path: str) -> M:
    try:
        return model.model_validate(data)
    except ValueError as err:
        raise ApiResponseError(
            f"{method} {path}: the answer does not match {model.__name__}: {err}"
        ) from err
