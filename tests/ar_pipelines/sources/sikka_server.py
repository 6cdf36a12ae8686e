"""A Sikka ONE v4 look-alike over the tables of ``ar_pipelines.sources.schema``, for
testing readers: it answers as Sikka's published v4 documentation says.

- ``authorized_practices`` and ``data_sync_status`` with ``App-Id``/``App-Key``
  (401 ``API2003`` otherwise); ``POST request_key`` with the ``request_key`` and
  ``refresh_key`` grants, keys with ``start_time``/``end_time``/``expires_in``;
- data calls with the ``Request-Key`` header: 400 ``API1004`` without one, 400
  ``API1025`` once it expired, ``Request-Key-Expires`` on every answer;
- lists paged with ``offset`` as a page index and ``limit`` at most ``page_limit``, 204
  for no rows, every value a string (``""`` for NULL), extra fields only with
  ``fields=``; payment-type class filters; ``loaded_startdate``/``loaded_enddate`` on
  the loader's ``_loaded_at``; ``practice_events?events=transactions``;
- a steerable ``Data-Insert`` header, rate limits with ``X-Rate-Limit-*`` headers,
  daily quotas (``API2011``/``API2012``) and scripted failures.

Only the rows of the credentials' office are served. Its clock can be moved on
(``state.advance``), so tests expire keys and rate windows without waiting.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine, Select, Table, func, select

from ar_pipelines.sources import schema
from ar_pipelines.sources.sql_reader import binary_order, truthy
from tests.sandbox_server import serving

RATE_WINDOW_SECONDS = 60.0
SIKKA_TIME = "%Y-%m-%dT%H:%M:%S"
TABLES: dict[str, Table] = {
    "practices": schema.practices,
    "payment_types": schema.payment_types,
    "patients": schema.patients,
    "guarantors": schema.guarantors,
    "transactions": schema.transactions,
    "practice_events": schema.practice_events,
}
FIELDS = {
    "practices": schema.PRACTICE_FIELDS,
    "payment_types": schema.PAYMENT_TYPE_FIELDS,
    "patients": schema.PATIENT_FIELDS,
    "guarantors": schema.GUARANTOR_FIELDS,
    "transactions": schema.TRANSACTION_FIELDS,
    "practice_events": (*schema.TRANSACTION_FIELDS, *schema.EVENT_FIELDS),
}
EXTRA_FIELDS = {
    "patients": schema.PATIENT_EXTRA_FIELDS,
    "guarantors": schema.PATIENT_EXTRA_FIELDS,
    "transactions": schema.TRANSACTION_EXTRA_FIELDS,
    "practice_events": schema.TRANSACTION_EXTRA_FIELDS,
}
ORDER = {
    "practices": ("practice_id",),
    "payment_types": ("practice_id", "code"),
    "patients": ("practice_id", "patient_id"),
    "guarantors": ("practice_id", "guarantor_id"),
    "transactions": (schema.LOADED_AT, "practice_id", schema.ROW_ID),
    "practice_events": (schema.LOADED_AT, "practice_id", schema.ROW_ID),
}
DATA_INSERT_RESOURCES = frozenset({"transactions", "patients", "guarantors"})
LOADED_RESOURCES = frozenset({"transactions", "practice_events"})


@dataclass(frozen=True)
class Credentials:
    office_id: str = "D1000"
    secret_key: str = "sk-office-7f3a9c"
    app_id: str = "app-42"
    app_key: str = "ak-app-b81e20"

    def as_kwargs(self) -> dict[str, str]:
        """The credentials as a reader's keyword arguments, which share their names."""
        return asdict(self)


@dataclass
class SikkaState:
    """What the server remembers; tests read and steer it."""

    credentials: Credentials
    key_ttl_seconds: int
    rate_limit: int | None
    skew: timedelta = timedelta(0)
    request_keys: dict[str, datetime] = field(default_factory=dict)  # key -> end_time
    refresh_keys: set[str] = field(default_factory=set)
    grants: list[str] = field(default_factory=list)  # grant types issued, in order
    issued: list[str] = field(default_factory=list)  # every request and refresh key
    errors: list[str] = field(default_factory=list)  # error codes answered, in order
    calls: list[dict[str, str]] = field(default_factory=list)  # data calls' queries
    fail_next: list[tuple[int, str]] = field(default_factory=list)  # (status, code) to answer
    data_insert: str = "completed"  # "in progress" while Sikka loads the office
    sync_status: str = "refresh"
    data_insert_date: str = "2024-01-01T02:00:00"
    daily_request_limit: int | None = None  # API2012 past it
    daily_item_limit: int | None = None  # API2011 past it (items served)
    requests_today: int = 0
    items_today: int = 0
    window_start: datetime | None = None
    window_calls: int = 0
    # Row keys of the list being paged, in order, keyed by its query: computed on page 0
    # and dropped after the last page, so a read of N pages sorts once, not N times.
    pages: dict[str, list[int]] = field(default_factory=dict)

    def now(self) -> datetime:
        """The server's wall clock (naive UTC), moved on by ``advance``."""
        return datetime.now(UTC).replace(tzinfo=None) + self.skew

    def advance(self, seconds: float) -> None:
        self.skew += timedelta(seconds=seconds)

    def issue(self, grant: str) -> dict[str, str]:
        request_key, refresh_key = secrets.token_hex(16), secrets.token_hex(16)
        start = self.now().replace(microsecond=0)
        end = start + timedelta(seconds=self.key_ttl_seconds)
        self.request_keys[request_key] = end
        self.refresh_keys.add(refresh_key)
        self.grants.append(grant)
        self.issued += [request_key, refresh_key]
        return {
            "href": "https://api.sikkasoft.com/v4/request_key_info",
            "request_key": request_key,
            "refresh_key": refresh_key,
            "start_time": start.strftime(SIKKA_TIME),
            "end_time": end.strftime(SIKKA_TIME),
            "expires_in": f"{self.key_ttl_seconds} second(s)",
            "issued_to": self.credentials.office_id,
            "status": "active",
            "scope": "web",
        }

    def expire_keys(self) -> None:
        """Every request key issued so far lapses now."""
        for key in self.request_keys:
            self.request_keys[key] = self.now() - timedelta(seconds=1)

    def rate_headers(self) -> tuple[dict[str, str], bool]:
        """``X-Rate-Limit-*`` headers for this call, and whether it is over the limit."""
        if self.rate_limit is None:
            return {}, False
        now = self.now()
        window = timedelta(seconds=RATE_WINDOW_SECONDS)
        if self.window_start is None or now >= self.window_start + window:
            self.window_start, self.window_calls = now, 0
        reset = math.ceil((self.window_start + window - now).total_seconds())
        over = self.window_calls >= self.rate_limit
        if not over:
            self.window_calls += 1
        headers = {
            "X-Rate-Limit-Limit": str(self.rate_limit),
            "X-Rate-Limit-Remaining": str(max(0, self.rate_limit - self.window_calls)),
            "X-Rate-Limit-Reset": str(reset),
        }
        return headers, over


MESSAGES = {
    "API1004": ("Request key missing", "Please provide request_key in the header"),
    "API1003": ("Invalid request key", "The request key is not valid"),
    "API1025": ("Request key expired", "Please generate a new request key"),
    "API2001": ("Internal server error", "Please try later"),
    "API2002": ("Service unavailable", "The server is overloaded, please try later"),
    "API2003": ("Invalid app credentials", "Invalid App-Id or App-Key"),
    "API2010": ("Data not uploaded for this customer", "The data has not yet been uploaded"),
    "API2011": ("Data limit exceeded", "Data size per practice per day exceeded"),
    "API2012": ("Request limit exceeded", "Requests per practice per day exceeded"),
    "API2013": ("Too many requests", "Rate limit exceeded, retry after the reset"),
}


def error(
    state: SikkaState, status: int, code: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    short, long = MESSAGES.get(code, ("Bad request", "The request is not valid"))
    state.errors.append(code)
    body = {
        "http_code": str(status),
        "http_code_desc": {400: "Bad Request", 401: "Unauthorized", 429: "Too Many Requests"}.get(
            status, "Error"
        ),
        "error_code": code,
        "short_message": short,
        "long_message": long,
        "more_information": "",
    }
    return JSONResponse(body, status_code=status, headers=headers)


def as_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(SIKKA_TIME)
    return str(value)


def parse_loaded(text: str | None, *, end: bool) -> tuple[datetime, bool] | None:
    """``yyyy-mm-dd`` or ``yyyy-MM-ddTHH:mm:ss``; a plain day as an end takes the whole day
    (the flag says the bound is exclusive)."""
    if not text:
        return None
    try:
        return datetime.strptime(text, SIKKA_TIME), False  # noqa: DTZ007
    except ValueError:
        day = datetime.strptime(text, "%Y-%m-%d")  # noqa: DTZ007
        return (day + timedelta(days=1), True) if end else (day, False)


def create_sikka_app(
    source_url: str,
    *,
    credentials: Credentials,
    page_limit: int = 5000,
    rate_limit: int | None = None,
    key_ttl_seconds: int = 86400,
) -> FastAPI:
    engine = schema.source_engine(source_url)
    state = SikkaState(credentials, key_ttl_seconds, rate_limit)
    app = FastAPI(title="Sikka ONE look-alike")
    app.state.sikka = state
    app.state.engine = engine

    def app_refused(app_id: str | None, app_key: str | None) -> JSONResponse | None:
        c = state.credentials
        if (app_id, app_key) != (c.app_id, c.app_key):
            return error(state, 401, "API2003")
        return None

    def office_practices() -> list[dict[str, str]]:
        table = schema.practices
        query = (
            select(table.c.practice_id, table.c.name)
            .where(table.c.office_id == state.credentials.office_id)
            .order_by(table.c.practice_id)
        )
        with engine.connect() as connection:
            rows = connection.execute(query).all()
        return [{"practice_id": as_string(r[0]), "practice_name": as_string(r[1])} for r in rows]

    def listing(request: Request, items: list[dict[str, str]]) -> JSONResponse:
        return JSONResponse(
            {
                "offset": "0",
                "limit": str(len(items)),
                "total_count": str(len(items)),
                "execution_time": "3",
                "pagination": pagination(request, 0, max(1, len(items)), len(items)),
                "items": items,
            }
        )

    @app.get("/v4/authorized_practices")
    def authorized_practices(
        request: Request,
        app_id: Annotated[str | None, Header(alias="App-Id")] = None,
        app_key: Annotated[str | None, Header(alias="App-Key")] = None,
        show: str | None = None,
    ) -> Response:
        if (refused := app_refused(app_id, app_key)) is not None:
            return refused
        practices = office_practices()
        if show != "all":
            practices = [p for p in practices if p["practice_id"] == "1"]
        items = [
            {
                **practice,
                "office_id": state.credentials.office_id,
                "secret_key": state.credentials.secret_key,
                "domain": "Dental",
                "practice_management_system": "Dentrix",
                "data_insert_date": state.data_insert_date,
            }
            for practice in practices
        ]
        return listing(request, items) if items else Response(status_code=204)

    @app.get("/v4/data_sync_status")
    def data_sync_status(
        request: Request,
        app_id: Annotated[str | None, Header(alias="App-Id")] = None,
        app_key: Annotated[str | None, Header(alias="App-Key")] = None,
    ) -> Response:
        if (refused := app_refused(app_id, app_key)) is not None:
            return refused
        items = [
            {
                **practice,
                "status": state.sync_status,
                "office_id": state.credentials.office_id,
                "domain": "Dental",
                "data_insert_date": state.data_insert_date,
            }
            for practice in office_practices()
        ]
        return listing(request, items) if items else Response(status_code=204)

    @app.post("/v4/request_key")
    async def request_key(request: Request) -> JSONResponse:
        body = await request.json()
        c = state.credentials
        grant = body.get("grant_type")
        app_ok = body.get("app_id") == c.app_id and body.get("app_key") == c.app_key
        if not app_ok:
            return error(state, 401, "API2003")
        if grant == "request_key":
            office = (body.get("office_id"), body.get("secret_key"))
            if office == (c.office_id, c.secret_key):
                return JSONResponse(state.issue(grant))
        elif grant == "refresh_key":
            refresh = body.get("refresh_key")
            if refresh in state.refresh_keys:
                state.refresh_keys.discard(refresh)
                return JSONResponse(state.issue(grant))
        return error(state, 401, "API2003")

    @app.get("/v4/{resource}")
    def data(
        resource: str,
        request: Request,
        request_key: Annotated[str | None, Header(alias="Request-Key")] = None,
    ) -> Response:
        if resource not in TABLES:
            return error(state, 404, "API1001")
        if not request_key:
            return error(state, 400, "API1004")
        if request_key not in state.request_keys:
            return error(state, 400, "API1003")
        expires = state.request_keys[request_key]
        if expires <= state.now():
            return error(state, 400, "API1025")
        headers = {"Request-Key-Expires": format_datetime(expires.replace(tzinfo=UTC), usegmt=True)}
        rate, over = state.rate_headers()
        headers.update(rate)
        if over:
            return error(state, 429, "API2013", headers)
        state.requests_today += 1
        limit_today = state.daily_request_limit
        if limit_today is not None and state.requests_today > limit_today:
            return error(state, 429, "API2012", headers)
        if state.daily_item_limit is not None and state.items_today >= state.daily_item_limit:
            return error(state, 429, "API2011", headers)
        if state.fail_next:
            status, code = state.fail_next.pop(0)
            return error(state, status, code, headers)
        params = request.query_params
        state.calls.append({"resource": resource, **params})
        try:
            offset = int(params.get("offset", "0"))
            limit = int(params.get("limit", "50"))
        except ValueError:
            return error(state, 400, "API1011")
        if offset < 0 or not 1 <= limit <= page_limit:
            return error(state, 400, "API1011")
        if resource in DATA_INSERT_RESOURCES:
            headers["Data-Insert"] = state.data_insert
        if resource == "practice_events" and params.get("events") != "transactions":
            return error(state, 400, "API1012")
        office = state.credentials.office_id
        query, columns = resource_query(resource, params, office, engine.dialect.name)
        items, total = page_of(engine, query, offset, limit, columns, state.pages)
        if not items:
            return Response(status_code=204, headers=headers)
        state.items_today += len(items)
        return JSONResponse(
            {
                "offset": str(offset),
                "limit": str(limit),
                "total_count": str(total),
                "execution_time": "3",
                "pagination": pagination(request, offset, limit, total),
                "items": items,
            },
            headers=headers,
        )

    return app


def resource_query(
    resource: str, params: Any, office_id: str, dialect: str
) -> tuple[Select[Any], list[str]]:
    """The rows ``resource`` serves for these parameters, and the fields of its items, in
    the order a landed database's reader gives them (text by code point)."""
    table = TABLES[resource]
    extra = EXTRA_FIELDS.get(resource, ())
    asked = {name.strip() for name in params.get("fields", "").split(",") if name.strip()}
    fields = [
        name
        for name in FIELDS[resource]
        if name not in extra or name in asked or "get_all" in asked
    ]
    columns = [table.c[name] for name in fields if name != "loadeddate"]
    if resource == "practice_events":
        columns.append(table.c[schema.LOADED_AT])
    query = select(*columns).where(table.c.office_id == office_id)
    if (practice_id := params.get("practice_id")) is not None:
        query = query.where(table.c.practice_id == practice_id)
    if resource == "payment_types":
        for name in schema.PAYMENT_TYPE_CLASSES:
            if params.get(name, "").lower() == "true":
                query = query.where(truthy(table.c[name]))
    if resource in LOADED_RESOURCES:
        loaded = table.c[schema.LOADED_AT]
        if (start := parse_loaded(params.get("loaded_startdate"), end=False)) is not None:
            query = query.where(loaded >= start[0])
        if (end := parse_loaded(params.get("loaded_enddate"), end=True)) is not None:
            query = query.where(loaded < end[0] if end[1] else loaded <= end[0])
    if resource == "practice_events":
        query = query.where(table.c.events == "transactions")
    query = query.order_by(*(binary_order(table.c[name], dialect) for name in ORDER[resource]))
    return query, fields


def page_of(
    engine: Engine,
    query: Select[Any],
    page: int,
    limit: int,
    fields: list[str],
    pages: dict[str, list[int]],
) -> tuple[list[dict[str, str]], int]:
    """Page ``page`` of ``query``'s rows and the list's total. A table with a row key is
    paged through the ordered keys, listed once per read (see ``SikkaState.pages``)."""
    table = query.get_final_froms()[0]
    with engine.connect() as connection:
        if not isinstance(table, Table) or schema.ROW_ID not in table.c:
            total = connection.execute(
                select(func.count()).select_from(query.subquery())
            ).scalar_one()
            rows = connection.execute(query.offset(page * limit).limit(limit)).all()
        else:
            compiled = query.compile()
            key = f"{compiled} {sorted(compiled.params.items())!r}"
            row_ids = pages.get(key) if page > 0 else None
            if row_ids is None:
                listed = query.with_only_columns(table.c[schema.ROW_ID])
                row_ids = pages[key] = list(connection.execute(listed).scalars())
            total = len(row_ids)
            wanted = row_ids[page * limit : (page + 1) * limit]
            rows = connection.execute(query.where(table.c[schema.ROW_ID].in_(wanted))).all()
            if (page + 1) * limit >= total:
                pages.pop(key, None)
    items = [
        {name: as_string(value) for name, value in zip(fields, row, strict=True)} for row in rows
    ]
    return items, int(total)


def pagination(request: Request, page: int, limit: int, total: int) -> dict[str, str]:
    last = max(0, math.ceil(total / limit) - 1)

    def link(index: int) -> str:
        return str(request.url.include_query_params(offset=index, limit=limit))

    return {
        "first": link(0),
        "previous": link(page - 1) if page > 0 else "",
        "current": link(page),
        "next": link(page + 1) if page < last else "",
        "last": link(last),
    }


@dataclass
class RunningSikka:
    base_url: str
    app: FastAPI

    @property
    def state(self) -> SikkaState:
        state: SikkaState = self.app.state.sikka
        return state


@contextmanager
def running_sikka(app: FastAPI) -> Iterator[RunningSikka]:
    """Serve ``app`` under uvicorn on a free loopback port, in a background thread."""
    try:
        with serving(app) as base_url:
            yield RunningSikka(base_url, app)
    finally:
        app.state.engine.dispose()
