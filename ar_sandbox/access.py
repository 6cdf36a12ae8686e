"""API keys, scopes and workspaces (``docs/contract.md#access``).

A key is ``sk_live_<random>`` or ``sk_test_<random>``; the prefix is the mode. Keys
are stored as their SHA-256 (they are long random strings, so a fast hash is the
right one) and are never logged or echoed. A key belongs either to one company
(a workspace key) or to an organization; an organization key reaches the
organization's companies that its workspace filter allows, and names the one it
works in with the ``X-Workspace-Id`` header.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader
from sqlalchemy import select
from sqlalchemy.orm import Session

from ar_sandbox.db import Database
from ar_sandbox.errors import ApiError
from ar_sandbox.models import ApiKey, Company
from ar_sandbox.schemas.common import Envelope

SCOPES = (
    "customers:read",
    "customers:write",
    "accounts:read",
    "accounts:write",
    "ledgers:read",
    "ledgers:write",
    "statements:read",
    "statements:write",
    "campaigns:read",
    "payments:read",
    "payments:write",
    "disputes:read",
    "disputes:write",
    "sync:write",
)
MODES = {"sk_live_": "live", "sk_test_": "test"}

T = TypeVar("T")
R = TypeVar("R")
Q = TypeVar("Q")
P = TypeVar("P")

api_key_header = APIKeyHeader(
    name="X-Api-Key", auto_error=False, description="sk_live_… or sk_test_…"
)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key(mode: str) -> str:
    prefix = "sk_live_" if mode == "live" else "sk_test_"
    return prefix + secrets.token_urlsafe(32)


def mode_of(key: str) -> str | None:
    return next((mode for prefix, mode in MODES.items() if key.startswith(prefix)), None)


@dataclass(frozen=True)
class Principal:
    """Who is calling: one company, one mode, a set of scopes (empty = all)."""

    key_id: str
    company_id: str
    mode: str
    scopes: frozenset[str]

    @property
    def is_test(self) -> bool:
        return self.mode == "test"

    def allows(self, scope: str) -> bool:
        return not self.scopes or scope in self.scopes


def _company_for(session: Session, key: ApiKey, workspace: str | None) -> str:
    if key.company_id is not None:
        if workspace is not None and workspace != key.company_id:
            raise ApiError(404, "Workspace not found")
        return key.company_id
    allowed = set(json.loads(key.workspace_ids))
    query = select(Company.id).where(Company.organization_id == key.organization_id)
    reachable = [cid for cid in session.scalars(query) if not allowed or cid in allowed]
    if workspace is not None:
        if workspace not in reachable:
            raise ApiError(404, "Workspace not found")
        return workspace
    if len(reachable) == 1:
        return reachable[0]
    raise ApiError(
        400, "X-Workspace-Id is required: this organization key reaches several workspaces"
    )


def authenticate(database: Database, key: str | None, workspace: str | None) -> Principal:
    if not key:
        raise ApiError(401, "Missing API key: send it in the X-Api-Key header")
    mode = mode_of(key)
    if mode is None:
        raise ApiError(401, "Invalid API key")
    with database.reading() as session:
        stored = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
        if stored is None or stored.revoked_at is not None or stored.mode != mode:
            raise ApiError(401, "Invalid API key")
        company_id = _company_for(session, stored, workspace)
        return Principal(stored.id, company_id, mode, frozenset(json.loads(stored.scopes)))


# The dependencies that only look at what they are given are coroutines: FastAPI runs a
# plain function in a worker thread, a hop that costs more than the function does.


def database_in(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def database_of(request: Request) -> Database:
    return database_in(request)


DatabaseDep = Annotated[Database, Depends(database_of)]


def current_principal(
    request: Request,
    key: Annotated[str | None, Depends(api_key_header)],
) -> Principal:
    principal = authenticate(database_in(request), key, request.headers.get("X-Workspace-Id"))
    request.state.principal = principal
    return principal


@dataclass(frozen=True)
class Caller:
    """Who is calling, with the database their request works in: what every route needs."""

    principal: Principal
    database: Database

    def run(self, work: Callable[[Session, Principal], T]) -> T:
        """``work(session, principal)`` as one transaction (see ``Database.run``)."""
        return self.database.run(lambda session: work(session, self.principal))

    def read(self, message: str, work: Callable[[Session, Principal], T]) -> Envelope[T]:
        """``work``, which only reads, in one transaction; its result in the envelope."""
        return Envelope(
            message=message, data=self.database.read(lambda session: work(session, self.principal))
        )

    def answer(self, message: str, work: Callable[[Session, Principal], T]) -> Envelope[T]:
        """``work`` run as one transaction, its result sent in the success envelope."""
        return Envelope(message=message, data=self.run(work))

    def fetch(
        self,
        message: str,
        getter: Callable[[Session, Principal, str], R],
        key: UUID,
        render: Callable[[R], T],
    ) -> Envelope[T]:
        """The one row ``getter`` finds by its UUID, rendered: every get route's shape."""
        return self.read(
            message, lambda session, principal: render(getter(session, principal, str(key)))
        )

    def listing(
        self, message: str, lister: Callable[[Session, Principal, Q, P], T], wanted: Q, paging: P
    ) -> Envelope[T]:
        """One page of what ``lister`` finds for the ``wanted`` query: every list route's shape."""
        return self.read(
            message, lambda session, principal: lister(session, principal, wanted, paging)
        )


async def any_caller(
    database: DatabaseDep, principal: Annotated[Principal, Depends(current_principal)]
) -> Caller:
    return Caller(principal, database)


def require(scope: str) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency that answers 403 naming ``scope`` when the key lacks it."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def check(caller: Annotated[Caller, Depends(any_caller)]) -> Caller:
        if not caller.principal.allows(scope):
            raise ApiError(403, f"API key lacks the required scope: {scope}")
        return caller

    return check


CustomersRead = Annotated[Caller, Depends(require("customers:read"))]
CustomersWrite = Annotated[Caller, Depends(require("customers:write"))]
AccountsRead = Annotated[Caller, Depends(require("accounts:read"))]
AccountsWrite = Annotated[Caller, Depends(require("accounts:write"))]
LedgersRead = Annotated[Caller, Depends(require("ledgers:read"))]
LedgersWrite = Annotated[Caller, Depends(require("ledgers:write"))]
StatementsRead = Annotated[Caller, Depends(require("statements:read"))]
StatementsWrite = Annotated[Caller, Depends(require("statements:write"))]
CampaignsRead = Annotated[Caller, Depends(require("campaigns:read"))]
PaymentsRead = Annotated[Caller, Depends(require("payments:read"))]
PaymentsWrite = Annotated[Caller, Depends(require("payments:write"))]
DisputesRead = Annotated[Caller, Depends(require("disputes:read"))]
DisputesWrite = Annotated[Caller, Depends(require("disputes:write"))]
SyncWrite = Annotated[Caller, Depends(require("sync:write"))]
AnyKey = Annotated[Caller, Depends(any_caller)]
