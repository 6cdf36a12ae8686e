"""``create_app(settings)``: the sandbox as an ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from ar_sandbox import __version__
from ar_sandbox.db import Database
from ar_sandbox.errors import install_error_handlers
from ar_sandbox.middleware import (
    BodySizeLimitMiddleware,
    FaultInjectionMiddleware,
    RateLimitMiddleware,
    RequestIdMiddleware,
)
from ar_sandbox.routes import (
    accounts,
    campaigns,
    customers,
    ledgers,
    payments,
    sandbox,
    statements,
    sync,
)
from ar_sandbox.settings import Settings

API_PREFIX = "/api/v1/external"
DESCRIPTION = """A local, faithful server of the Agile Receivables External API:
customers, accounts, ledgers with server-side statement aggregation and the
oldest-first payment waterfall, statements, campaigns, payments, disputes and
the combined sync. Authenticate with `X-Api-Key: sk_live_…` or `sk_test_…`."""


def create_app(settings: Settings | None = None, *, database: Database | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    database = database or Database(settings.database_url, pool_size=settings.pool_size)
    database.create_schema()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        database.dispose()

    # /docs and /redoc with their scripts and styles served from the installed
    # fastapi-offline package (under /static-offline-docs), not a CDN: they work offline.
    app = FastAPIOffline(
        title="Agile Receivables External API (sandbox)",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    install_error_handlers(app)
    for module in (customers, accounts, payments, ledgers, statements, campaigns, sync):
        app.include_router(module.api, prefix=API_PREFIX)
    app.include_router(payments.disputes_api, prefix=API_PREFIX)
    app.include_router(sandbox.api, prefix="/api/v1/sandbox")

    @app.get("/healthz", tags=["sandbox"], summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    if settings.rate_limit_per_second > 0:
        app.add_middleware(
            RateLimitMiddleware,
            rate=settings.rate_limit_per_second,
            burst=settings.rate_limit_burst,
        )
    if settings.faults.enabled:
        app.add_middleware(FaultInjectionMiddleware, faults=settings.faults)
    # Outside the rate limit and the faults: an oversized body is refused the same way
    # every time, before anything else looks at the request.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Added last, so it is outermost: injected faults and rate limits carry an id too.
    app.add_middleware(RequestIdMiddleware)
    return app
