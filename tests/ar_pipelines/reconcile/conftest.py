"""A live client on a new sandbox company for each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ar_pipelines.client import ARClient
from tests.sandbox_server import RunningSandbox


@pytest.fixture
def ar(sandbox: RunningSandbox, company: dict[str, Any]) -> Iterator[ARClient]:
    with ARClient(base_url=sandbox.base_url, api_key=company["live_key"]) as client:
        yield client
