"""Warehouses for tests: a DuckDB file in the test's directory, or Postgres under a
schema prefix of the test's own (its schemas dropped afterwards)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from ar_pipelines.warehouse import Warehouse, open_warehouse
from ar_pipelines.warehouse.location import PostgresLocation, parse_location
from ar_pipelines.warehouse.postgres_store import DBT_SCHEMA
from ar_pipelines.warehouse.tables import SCHEMAS
from tests.conftest import POSTGRES_ENV

DIALECTS = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@dataclass(frozen=True)
class StoreAt:
    """Where a test's warehouse lives: open it as often as the test likes."""

    url: str
    schema_prefix: str = ""

    def open(self) -> Warehouse:
        return open_warehouse(self.url, schema_prefix=self.schema_prefix)


@contextmanager
def store_at(dialect: str, directory: Path) -> Iterator[StoreAt]:
    if dialect == "duckdb":
        yield StoreAt(f"duckdb:///{directory / 'warehouse.duckdb'}")
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(
            f"no Postgres: set {POSTGRES_ENV} (for example postgresql://postgres@127.0.0.1:5432/test)"
        )
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    try:
        yield StoreAt(base, prefix)
    finally:
        drop_schemas(base, prefix)


def drop_schemas(url: str, prefix: str) -> None:
    location = parse_location(url)
    assert isinstance(location, PostgresLocation)
    with psycopg.connect(**location.connect_kwargs(), autocommit=True) as connection:
        for schema in (*SCHEMAS, DBT_SCHEMA):
            connection.execute(f'drop schema if exists "{prefix}{schema}" cascade')
