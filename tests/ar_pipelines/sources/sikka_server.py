"""A small Sikka ONE v4 look-alike over a Sikka-shaped SQL source, for testing readers.

It issues request and refresh keys (401 for a bad or expired one), pages with
``offset`` as a page index, filters by ``practice_id`` and loaded day, serves every
value as a string (NULL as ``""``) in the SQL reader's order, and can answer 429s
(``rate_limit`` calls per minute) or scripted failures. Its clock can be moved on
(``state.advance``), so tests expire keys and rate windows without waiting.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, func, select

from ar_pipelines.sources import schema
from ar_pipelines.sources.sql_reader import source_query, table_columns
from tests.sandbox_server import serving

RATE_WINDOW_SECONDS = 60.0
TABLES = {
    "practices": schema.practices,
    "payment_types": schema.payment_types,
    "patients": schema.patients,
    "transactions": schema.transactions,
}


@dataclass(frozen=True)
class Credentials:
    office_id: str = "D12345"
    secret_key: str = "sk-office-7f3a9c"
    app_id: str = "app-42"
    app_key: str = "ak-app-b81e20"

    def as_kwargs(self) -> dict[str, str]:
        return {
            "office_id": self.office_id,
            "secret_key": self.secret_key,
            "app_id": self.app_id,
            "app_key": self.app_key,
        }


@dataclass
class SikkaState:
    """What the server remembers; tests read and steer it."""

    credentials: Credentials
    key_ttl_seconds: int
    rate_limit: int | None
    skew: float = 0.0
    request_keys: dict[str, float] = field(default_factory=dict)  # key -> expiry
    refresh_keys: set[str] = field(default_factory=set)
    grants: list[str] = field(default_factory=list)  # grant types issued, in order
    issued: list[str] = field(default_factory=list)  # every request and refresh key
    refused: int = 0  # data calls answered 401
    calls: list[dict[str, str]] = field(default_factory=list)  # data calls' queries
    fail_next: list[int] = field(default_factory=list)  # statuses to answer next
    window_start: float = 0.0
    window_calls: int = 0

    def now(self) -> float:
        return time.monotonic() + self.skew

    def advance(self, seconds: float) -> None:
        self.skew += seconds

    def issue(self, grant: str) -> dict[str, str]:
        request_key, refresh_key = secrets.token_hex(16), secrets.token_hex(16)
        self.request_keys[request_key] = self.now() + self.key_ttl_seconds
        self.refresh_keys.add(refresh_key)
        self.grants.append(grant)
        self.issued += [request_key, refresh_key]
        return {
            "request_key": request_key,
            "refresh_key": refresh_key,
            "expires_in": str(self.key_ttl_seconds),
            "issued_to": self.credentials.office_id,
            "scope": "web",
        }

    def key_is_valid(self, key: str | None) -> bool:
        return key is not None and self.request_keys.get(key, -math.inf) > self.now()

    def rate_limited(self) -> dict[str, str] | None:
        """Headers of a 429 when this call is over the limit, else ``None``."""
        if self.rate_limit is None:
            return None
        now = self.now()
        if now >= self.window_start + RATE_WINDOW_SECONDS:
            self.window_start, self.window_calls = now, 0
        if self.window_calls >= self.rate_limit:
            reset = math.ceil(self.window_start + RATE_WINDOW_SECONDS - now)
            return {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
        self.window_calls += 1
        return None


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"http_code": str(status), "error_code": f"API{status}", "short_message": message}
    return JSONResponse(body, status_code=status, headers=headers)


def as_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


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

    @app.post("/v4/request_key")
    async def request_key(request: Request) -> JSONResponse:
        body = await request.json()
        c = state.credentials
        grant = body.get("grant_type")
        app_ok = body.get("app_id") == c.app_id and body.get("app_key") == c.app_key
        if grant == "request_key":
            office_ok = (body.get("office_id"), body.get("secret_key")) == (
                c.office_id,
                c.secret_key,
            )
            if app_ok and office_ok:
                return JSONResponse(state.issue(grant))
        elif grant == "refresh_key":
            refresh = body.get("refresh_key")
            if app_ok and refresh in state.refresh_keys:
                state.refresh_keys.discard(refresh)
                return JSONResponse(state.issue(grant))
        return error(401, "invalid credentials or refresh key")

    @app.get("/v4/{resource}")
    def data(
        resource: str,
        request: Request,
        request_key: Annotated[str | None, Header(alias="Request-Key")] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1)] = page_limit,
        practice_id: str | None = None,
        loaded_startdate: date | None = None,
        loaded_enddate: date | None = None,
    ) -> JSONResponse:
        if resource not in TABLES:
            return error(404, f"no resource {resource}")
        if not state.key_is_valid(request_key):
            state.refused += 1
            return error(401, "invalid or expired request key")
        if (headers := state.rate_limited()) is not None:
            return error(429, "rate limit exceeded", headers)
        if state.fail_next:
            return error(state.fail_next.pop(0), "scripted failure")
        if limit > page_limit:
            return error(400, f"limit must be at most {page_limit}")
        state.calls.append({"resource": resource, **request.query_params})
        table = TABLES[resource]
        dated = "loaded_date" in table.c
        query = source_query(
            table,
            engine.dialect.name,
            practice_id=practice_id,
            loaded_from=day_start(loaded_startdate) if dated else None,
            loaded_before=day_start(loaded_enddate, after=True) if dated else None,
        )
        items, total = page_of(engine, query, offset, limit, table_columns(table))
        return JSONResponse(
            {
                "offset": str(offset),
                "limit": str(limit),
                "total_count": str(total),
                "execution_time": "3",
                "pagination": pagination(request, offset, limit, total),
                "items": items,
            }
        )

    return app


def day_start(day: date | None, *, after: bool = False) -> datetime | None:
    if day is None:
        return None
    start = datetime.combine(day, datetime.min.time())
    return start + timedelta(days=1) if after else start


def page_of(
    engine: Engine, query: Any, page: int, limit: int, columns: tuple[str, ...]
) -> tuple[list[dict[str, str]], int]:
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = connection.execute(query.offset(page * limit).limit(limit)).all()
    items = [
        {column: as_string(value) for column, value in zip(columns, row, strict=True)}
        for row in rows
    ]
    return items, int(total)


def pagination(request: Request, page: int, limit: int, total: int) -> dict[str, str]:
    last = max(0, math.ceil(total / limit) - 1)

    def link(index: int) -> str:
        return str(request.url.include_query_params(offset=index, limit=limit))

    return {
        "current": link(page),
        "first": link(0),
        "last": link(last),
        "next": link(page + 1) if page < last else "",
        "previous": link(page - 1) if page > 0 else "",
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
