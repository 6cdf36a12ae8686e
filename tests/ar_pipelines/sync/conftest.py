"""A live client of the session's sandbox (a company per test) and a warehouse on DuckDB
and on Postgres, for every sync test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ar_pipelines.client import ARClient
from ar_pipelines.warehouse import Warehouse
from tests.ar_pipelines.warehouse.stores import DIALECTS, StoreAt, store_at
from tests.sandbox_server import RunningSandbox


@pytest.fixture(params=DIALECTS)
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreAt]:
    with store_at(request.param, tmp_path) as location:
        yield location


@pytest.fixture
def warehouse(where: StoreAt) -> Iterator[Warehouse]:
    with where.open() as opened:
        yield opened


@pytest.fixture
def ar(sandbox: RunningSandbox, company: dict[str, Any]) -> Iterator[ARClient]:
    with ARClient(base_url=sandbox.base_url, api_key=company["live_key"]) as client:
        yield client
