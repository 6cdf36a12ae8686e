"""A SQLite source database of the test's own, for the readers' tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ar_pipelines.sources import schema


@pytest.fixture
def source_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'source.db'}"


@pytest.fixture
def engine(source_url: str) -> Iterator[Engine]:
    """An engine on the source, which the test fills; disposed after the test."""
    engine = schema.source_engine(source_url)
    yield engine
    engine.dispose()
