"""Every warehouse test runs on DuckDB and on Postgres."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ar_pipelines.warehouse import Warehouse
from tests.ar_pipelines.warehouse.stores import DIALECTS, StoreAt, store_at


@pytest.fixture(params=DIALECTS)
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreAt]:
    with store_at(request.param, tmp_path) as location:
        yield location


@pytest.fixture
def warehouse(where: StoreAt) -> Iterator[Warehouse]:
    with where.open() as opened:
        yield opened
