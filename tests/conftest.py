"""Fixtures shared by the whole suite: a running sandbox, companies, a live client, Postgres
and MySQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from ar_pipelines.client import ARClient
from ar_sandbox.db import normalize_url
from ar_sandbox.settings import Settings
from tests.sandbox_server import RunningSandbox, running_sandbox

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
POSTGRES_ENV = "AR_TEST_POSTGRES_URL"
MYSQL_ENV = "AR_TEST_MYSQL_URL"


# The heaviest modules, about heaviest first (by a full run's durations): those that run the
# whole pipeline, a daemon, a benchmark, dbt, or many generated requests. Under xdist a
# module goes to one worker whole (see addopts in pyproject.toml), in the order of the
# collection: these are handed out before the rest, so that no worker starts one of them
# when the other is nearly done.
HEAVIEST_FIRST = (
    "tests/ar_pipelines/defs/test_daemon.py",
    "tests/ar_pipelines/defs/test_deployment.py",
    "tests/ar_pipelines/defs/test_nightly_sync.py",
    "tests/ar_pipelines/cli/test_demo.py",
    "tests/ar_pipelines/cli/test_demo_guard.py",
    "tests/ar_pipelines/reconcile/test_why.py",
    "tests/ar_pipelines/defs/test_push_plan.py",
    "tests/ar_pipelines/defs/test_repair.py",
    "tests/bench/test_bench.py",
    "tests/bench/test_pipeline_bench.py",
    "tests/ar_pipelines/defs/test_alerts.py",
    "tests/ar_pipelines/defs/test_practices_health.py",
    "tests/ar_sandbox/test_openapi_fuzz.py",
    "tests/ar_pipelines/defs/test_on_postgres.py",
    "tests/ar_pipelines/statements/test_local_differential.py",
    "tests/ar_pipelines/defs/test_rest_source.py",
    "tests/ar_pipelines/defs/test_enroll_job.py",
    "tests/ar_pipelines/client/test_faults.py",
    "tests/ar_pipelines/statements/test_dbt_project.py",
    "tests/ar_pipelines/normalize/test_validation.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The heaviest modules first, in ``HEAVIEST_FIRST``'s order; the others after them,
    as collected."""
    missing = [path for path in HEAVIEST_FIRST if not (config.rootpath / path).is_file()]
    if missing:
        raise pytest.UsageError(f"HEAVIEST_FIRST names modules that are not there: {missing}")
    rank = {path: place for place, path in enumerate(HEAVIEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """One sandbox on SQLite for the session; tests isolate by making their own company."""
    path: Path = tmp_path_factory.mktemp("sandbox") / "ar.db"
    with running_sandbox(Settings(database_url=f"sqlite:///{path}")) as running:
        yield running


@pytest.fixture
def company(sandbox: RunningSandbox) -> dict[str, Any]:
    return sandbox.bootstrap()


@pytest.fixture
def live(sandbox: RunningSandbox, company: dict[str, Any]) -> Iterator[httpx.Client]:
    with sandbox.client(company["live_key"]) as client:
        yield client


@pytest.fixture
def ar(sandbox: RunningSandbox, company: dict[str, Any]) -> Iterator[ARClient]:
    """The pipelines' client, live, on the test's own company."""
    with ARClient(base_url=sandbox.base_url, api_key=company["live_key"]) as client:
        yield client


@pytest.fixture
def test_mode(sandbox: RunningSandbox, company: dict[str, Any]) -> Iterator[httpx.Client]:
    with sandbox.client(company["test_key"]) as client:
        yield client


def postgres_schema_url(base_url: str, schema: str) -> str:
    separator = "&" if "?" in base_url else "?"
    return f"{normalize_url(base_url)}{separator}options=-csearch_path%3D{schema}"


def configured_server(env: str, what: str, example: str) -> str:
    """The URL of the test server that ``env`` names; skips the test, saying why, when
    none is configured."""
    base = os.environ.get(env)
    if not base:
        pytest.skip(f"no {what}: set {env} (for example {example})")
    return base


@contextmanager
def created_for_the_test(url: str, create: str, drop: str) -> Iterator[None]:
    """``create`` run on the server at ``url``, and ``drop`` once the block is done, so
    that a failing test leaves nothing behind."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(create))
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(text(drop))
        engine.dispose()


@contextmanager
def fresh_postgres_schema(prefix: str) -> Iterator[str]:
    """A URL whose search_path is a new schema on the test Postgres, dropped afterwards;
    skips the test, saying why, when no Postgres is configured."""
    base = configured_server(POSTGRES_ENV, "Postgres", "postgresql://postgres@127.0.0.1:5432/test")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with created_for_the_test(
        normalize_url(base), f'create schema "{schema}"', f'drop schema "{schema}" cascade'
    ):
        yield postgres_schema_url(base, schema)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh schema on the test Postgres, dropped afterwards."""
    with fresh_postgres_schema("ar_test") as url:
        yield url


@pytest.fixture(scope="session")
def mysql_url() -> Iterator[str]:
    """A fresh database on the test MySQL/MariaDB, dropped afterwards."""
    base = configured_server(MYSQL_ENV, "MySQL/MariaDB", "mysql://root@127.0.0.1:3306/test")
    from sqlalchemy.engine import make_url

    from ar_pipelines.sources.schema import normalize_url as source_url

    name = f"ar_test_{uuid.uuid4().hex[:12]}"
    with created_for_the_test(
        source_url(base),
        f"create database `{name}` character set utf8mb4",
        f"drop database `{name}`",
    ):
        yield make_url(source_url(base)).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_sandbox(postgres_url: str) -> Iterator[RunningSandbox]:
    with running_sandbox(Settings(database_url=postgres_url, pool_size=8)) as running:
        yield running


def data(response: httpx.Response, status: int = 200) -> Any:
    """The ``data`` of a success envelope, after checking the status and envelope."""
    return _envelope(response, status, success=True)["data"]


def error(response: httpx.Response, status: int) -> dict[str, Any]:
    body = _envelope(response, status, success=False)
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


def _envelope(response: httpx.Response, status: int, *, success: bool) -> dict[str, Any]:
    """The JSON envelope, after checking that it and the HTTP status agree on both."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is success
    assert body["status_code"] == status
    return body
