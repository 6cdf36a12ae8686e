"""Warehouse URLs: where the database is, and how to show it without its password.

- ``duckdb:///relative/path.duckdb`` (from the working directory),
  ``duckdb:////absolute/path.duckdb``, ``duckdb:///:memory:``;
- ``postgresql://user:password@host:port/database?sslmode=...`` (also
  ``postgresql+DRIVER://`` and ``postgres://``); query parameters are libpq's, but for
  ``schema``, which names the schema of a warehouse for a ledger file (read here, as is
  the first entry of ``options=-csearch_path=...``; see ``PostgresLocation.schema``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ar_pipelines.warehouse.errors import WarehouseError

DUCKDB_PREFIX = "duckdb:///"
MEMORY = ":memory:"
POSTGRES_SCHEME = re.compile(r"(postgresql(\+\w+)?|postgres)://")
SCHEMA_PARAMETER = "schema"  # not libpq's: the warehouse's own
SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*([^\s,]+)")


@dataclass(frozen=True)
class DuckDBLocation:
    path: Path | None  # None: in memory, gone when the warehouse closes

    def display(self) -> str:
        return f"{DUCKDB_PREFIX}{self.path if self.path is not None else MEMORY}"


@dataclass(frozen=True)
class PostgresLocation:
    host: str
    port: int
    user: str
    password: str = field(repr=False)  # never in a repr, a log or a traceback
    database: str
    parameters: tuple[tuple[str, str], ...] = ()

    def display(self) -> str:
        hidden = ":***" if self.password else ""
        query = "&".join(
            f"{key}={'***' if key == 'password' else value}" for key, value in self.parameters
        )
        suffix = f"?{query}" if query else ""
        return f"postgresql://{self.user}{hidden}@{self.host}:{self.port}/{self.database}{suffix}"

    @property
    def schema(self) -> str | None:
        """The schema the URL names: its ``schema`` parameter, else the first entry of
        ``options=-csearch_path=...``; ``None`` when it names none."""
        parameters = dict(self.parameters)
        search_path = SEARCH_PATH.search(parameters.get("options", ""))
        named = parameters.get(SCHEMA_PARAMETER) or (search_path.group(1) if search_path else None)
        return named.strip('"') if named else None

    def connect_kwargs(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password or None,
            "dbname": self.database,
            **{key: value for key, value in self.parameters if key != SCHEMA_PARAMETER},
        }


Location = DuckDBLocation | PostgresLocation


def parse_location(url: str) -> Location:
    if url.startswith(DUCKDB_PREFIX):
        rest = url[len(DUCKDB_PREFIX) :]
        if rest in ("", MEMORY):
            return DuckDBLocation(None)
        return DuckDBLocation(Path(rest))
    if POSTGRES_SCHEME.match(url):
        return _postgres(url)
    # The URL may hold a password: name only its scheme.
    scheme = f"{url.split(':', 1)[0]}:" if ":" in url else "a URL without a scheme"
    raise WarehouseError(
        "the warehouse must be duckdb:///path.duckdb, duckdb:///:memory: or "
        f"postgresql://user:password@host:port/database, not {scheme}"
    )


def _postgres(url: str) -> PostgresLocation:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # The parser's message repeats the URL, password included: say what is expected.
        raise WarehouseError(
            "not a Postgres URL (expected postgresql://user:password@host:port/database)"
        ) from None
    parameters = tuple(
        (key, value if isinstance(value, str) else value[-1])
        for key, value in sorted(parsed.query.items())
    )
    return PostgresLocation(
        host=parsed.host or "localhost",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or "",
        database=parsed.database or "postgres",
        parameters=parameters,
    )
