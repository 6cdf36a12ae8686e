"""What the assets talk to, each swappable by environment.

- ``ArApi``: AR's External API at ``AR_BASE_URL``: the sandbox on loopback, or the real
  service. Each practice's key is read, at run time, from the environment variable its
  entry in the practices file names; keys are never config values, so the UI and run
  records show only the variable's name.
- ``Sources``: each practice's Sikka ONE source: a landed database (SQLite, Postgres or
  MySQL by URL, read with the practice's layout), or Sikka ONE's REST API.
- ``WarehouseResource``: DuckDB file (the default) or Postgres, at ``AR_WAREHOUSE_URL``.
- ``Settings``: the practices file and where reports go.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from ar_pipelines.client import ARClient
from ar_pipelines.defs.practices import Practice, PracticeConfigError, PracticesConfig
from ar_pipelines.defs.practices import load_practices as read_practices
from ar_pipelines.sources.base import Source
from ar_pipelines.warehouse import Warehouse, open_warehouse

WAREHOUSE_URL_ENV = "AR_WAREHOUSE_URL"
DEFAULT_WAREHOUSE_URL = "duckdb:///data/warehouse.duckdb"
DEFAULT_REPORTS_DIR = "data/reports"
# A DuckDB file is written by one process at a time, and every step of a run reads or
# writes the warehouse (dbt among them). On DuckDB every step is in this Dagster pool,
# which the instance files limit to one step at a time across all runs: practices run
# at once, their warehouse steps take turns. Postgres takes no pool and runs in parallel.
DUCKDB_POOL = "duckdb_warehouse"


def warehouse_pool(url: str | None = None) -> str | None:
    """The pool of the steps that use the warehouse at ``url`` (default: the environment's)."""
    url = url or os.environ.get(WAREHOUSE_URL_ENV) or DEFAULT_WAREHOUSE_URL
    return DUCKDB_POOL if url.startswith("duckdb") else None


def warehouse_kind(url: str | None = None) -> str:
    """The kind, as Dagster shows it, of the warehouse at ``url`` (default: the
    environment's ``AR_WAREHOUSE_URL``): ``duckdb`` or ``postgres``. The kind of every
    asset stored in the warehouse, beside the kind of what computes it."""
    url = url or os.environ.get(WAREHOUSE_URL_ENV) or DEFAULT_WAREHOUSE_URL
    return "duckdb" if url.startswith("duckdb") else "postgres"


def _secret(name: str, practice: Practice, what: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise PracticeConfigError(
            f"practice {practice.id}: {what} is read from {name}, which is not set"
        )
    return value


class ArApi(dg.ConfigurableResource):  # type: ignore[type-arg]
    """AR's External API; one client per practice, with that practice's key."""

    base_url: str
    concurrency: int = 4

    def client(self, practice: Practice) -> ARClient:
        key = _secret(practice.ar_key_env, practice, "the AR key")
        return ARClient(base_url=self.base_url, api_key=key, concurrency=self.concurrency)


class Sources(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Opens a practice's source as its entry in the practices file says."""

    chunk_size: int = 50_000

    def open(self, practice: Practice) -> Source:
        if practice.sikka is not None:
            from ar_pipelines.sources.rest_reader import SikkaRestSource

            sikka = practice.sikka
            secret_key = None
            if sikka.secret_key_env is not None:
                secret_key = _secret(sikka.secret_key_env, practice, "the Sikka secret key")
            return SikkaRestSource(
                base_url=sikka.base_url,
                office_id=sikka.office_id,
                secret_key=secret_key,
                app_id=_secret(sikka.app_id_env, practice, "the Sikka app id"),
                app_key=_secret(sikka.app_key_env, practice, "the Sikka app key"),
            )
        from ar_pipelines.sources.sql_reader import SqlSource

        return SqlSource(
            practice.source_url(), layout=practice.sql_layout(), chunk_size=self.chunk_size
        )


class WarehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Raw, normalized, push state and the dbt models: one database."""

    url: str = DEFAULT_WAREHOUSE_URL
    # Puts every schema under a prefix, so that several deployments share one database.
    schema_prefix: str = ""

    def open(self) -> Warehouse:
        return open_warehouse(self.url, schema_prefix=self.schema_prefix)


class Settings(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The practices file and the reports directory."""

    practices_file: str = ""
    reports_dir: str = DEFAULT_REPORTS_DIR

    def practices(self) -> PracticesConfig:
        return read_practices(Path(self.practices_file) if self.practices_file else None)

    def practice(self, practice_id: str) -> Practice:
        return self.practices().get(practice_id)

    @property
    def reports_path(self) -> Path:
        """The reports directory, absolute: the paths in metadata and alerts name the
        files wherever the reader stands."""
        return Path(self.reports_dir).resolve()
