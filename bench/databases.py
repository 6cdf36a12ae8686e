"""The databases a benchmark's sandbox runs on: a temporary SQLite file, or a fresh
schema on the Postgres named by ``AR_BENCH_POSTGRES_URL``."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from ar_sandbox.db import normalize_url

POSTGRES_ENV = "AR_BENCH_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_base_url() -> str:
    return os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES_URL)


def shown_url(url: str) -> str:
    """``url`` fit to print: the password masked."""
    return make_url(normalize_url(url)).render_as_string(hide_password=True)


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="ar_bench_") as directory:
        yield f"sqlite:///{Path(directory) / 'ar_sandbox.db'}"


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A fresh schema for the run, dropped afterwards (after the server has stopped)."""
    schema = f"ar_bench_{uuid.uuid4().hex[:12]}"
    engine = create_engine(normalize_url(base_url), connect_args={"connect_timeout": 5})
    try:
        with engine.begin() as connection:
            connection.execute(text(f'create schema "{schema}"'))
        try:
            separator = "&" if "?" in base_url else "?"
            yield f"{normalize_url(base_url)}{separator}options=-csearch_path%3D{schema}"
        finally:
            with engine.begin() as connection:
                connection.execute(text(f'drop schema "{schema}" cascade'))
    finally:
        engine.dispose()


def postgres_unreachable(base_url: str) -> str | None:
    """Why Postgres cannot be used, or None when it can."""
    engine = create_engine(normalize_url(base_url), connect_args={"connect_timeout": 5})
    try:
        with engine.connect():
            return None
    except OperationalError as err:
        return str(err.orig).strip().splitlines()[0]
    finally:
        engine.dispose()
