"""The whole graph as production runs it: the Dagster instance (runs, events) in a
Postgres database of its own and the warehouse in Postgres under a schema prefix of its
own, both dropped afterwards; and the production instance file, deploy/dagster.yaml,
loaded as documented."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import URL

from ar_pipelines.defs.common import AR_KEY_TAG, RECONCILIATION
from ar_pipelines.defs.resources import WarehouseResource
from ar_pipelines.warehouse import open_warehouse
from ar_pipelines.warehouse.location import PostgresLocation, parse_location
from tests.ar_pipelines.defs.conftest import Pipeline, materialized
from tests.ar_pipelines.defs.deployment_site import fresh_database
from tests.conftest import POSTGRES_ENV

pytestmark = pytest.mark.postgres

REPOSITORY = Path(__file__).resolve().parents[3]
# The instance file names the database URL's variable, so a password never sits in it.
INSTANCE_URL_ENV = "AR_TEST_DAGSTER_POSTGRES_URL"
# dagster-postgres speaks psycopg2 (its NOTIFY binds a parameter, which psycopg 3 sends to
# the server, where NOTIFY cannot take one); SQLAlchemy 2.1 reads a bare postgresql:// as
# psycopg 3, so the driver is named.
DAGSTER_POSTGRES_DRIVER = "postgresql+psycopg2"


@pytest.fixture
def postgres() -> PostgresLocation:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(
            f"no Postgres: set {POSTGRES_ENV} (for example postgresql://postgres@127.0.0.1:5432/test)"
        )
    location = parse_location(base)
    assert isinstance(location, PostgresLocation)
    return location


@pytest.fixture
def dagster_database(postgres: PostgresLocation) -> Iterator[PostgresLocation]:
    """A new database for the Dagster instance alone, so that no other test's or session's
    runs mix with this one's; dropped afterwards, open connections or not."""
    with fresh_database(postgres, "dagster") as database:
        yield database


@pytest.fixture
def dagster_home(
    tmp_path: Path, dagster_database: PostgresLocation, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A DAGSTER_HOME whose dagster.yaml keeps runs, events and schedules in that database."""
    url = URL.create(
        DAGSTER_POSTGRES_DRIVER,
        username=dagster_database.user,
        password=dagster_database.password or None,
        host=dagster_database.host,
        port=dagster_database.port,
        database=dagster_database.database,
        query=dict(dagster_database.parameters),
    )
    monkeypatch.setenv(INSTANCE_URL_ENV, url.render_as_string(hide_password=False))
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = {
        "storage": {"postgres": {"postgres_url": {"env": INSTANCE_URL_ENV}}},
        "telemetry": {"enabled": False},
    }
    # JSON is YAML: no YAML writer needed.
    (home / "dagster.yaml").write_text(json.dumps(config, indent=2))
    return home


@pytest.fixture
def warehouse_on_postgres(postgres: PostgresLocation) -> Iterator[WarehouseResource]:
    """The warehouse in the test Postgres, every schema under a prefix of the test's own."""
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    base = os.environ[POSTGRES_ENV]
    try:
        yield WarehouseResource(url=base, schema_prefix=prefix)
    finally:
        # Every schema under the prefix: the warehouse's own and the practices' dbt schemas.
        with psycopg.connect(**postgres.connect_kwargs(), autocommit=True) as connection:
            schemas = connection.execute(
                "select schema_name from information_schema.schemata"
                " where starts_with(schema_name, %s)",
                (prefix,),
            ).fetchall()
            for (schema,) in schemas:
                connection.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))


def test_the_whole_graph_runs_with_its_instance_and_warehouse_on_postgres(
    pipeline: Pipeline, dagster_home: Path, warehouse_on_postgres: WarehouseResource
) -> None:
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        on_postgres = dataclasses.replace(pipeline, instance=instance)
        first = on_postgres.run("P001", warehouse=warehouse_on_postgres)
        assert first.success
        reconciliation = materialized(first, "reconciliation")
        assert reconciliation["clean"] is True
        assert reconciliation["matched"] == materialized(first, "ar/statements")["statements"] > 0
        second = on_postgres.run("P001", warehouse=warehouse_on_postgres)
        assert second.success
        assert materialized(second, "ar/customers")["sent"] == 0
        assert materialized(second, "ar/ledger_entries")["sent"] == 0
        assert materialized(second, "reconciliation")["clean"] is True

    # Read back through a new instance on the same database, as the webserver would.
    with dg.DagsterInstance.from_config(str(dagster_home)) as reader:
        assert type(reader.run_storage).__name__ == "PostgresRunStorage"
        runs = reader.get_runs(dg.RunsFilter(tags={"dagster/partition": "P001"}))
        assert {run.run_id for run in runs} == {first.run_id, second.run_id}
        assert {run.status for run in runs} == {dg.DagsterRunStatus.SUCCESS}
        latest = reader.get_latest_materialization_event(RECONCILIATION)
        assert latest is not None
        assert latest.run_id == second.run_id
        records = reader.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=RECONCILIATION, asset_partitions=["P001"]),
            limit=10,
        ).records
        assert [record.run_id for record in records] == [second.run_id, first.run_id]
        stored = records[-1].asset_materialization
        assert stored is not None
        assert stored.partition == "P001"
        assert stored.metadata["clean"].value is True
        recorded = {"/".join(key.path) for key in reader.get_asset_keys()}
        assert {
            "raw/transactions",
            "ar/ledger_entries",
            "local/statements",
            "reconciliation",
        } <= recorded

    # The warehouse was Postgres all along: the DuckDB default was never opened.
    assert not Path(pipeline.warehouse_url.removeprefix("duckdb:///")).exists()
    with open_warehouse(
        warehouse_on_postgres.url, schema_prefix=warehouse_on_postgres.schema_prefix
    ) as store:
        pushed = store.read(
            "normalized.ledger_entries", practice_id="P001", columns=["external_id"]
        )
    assert len(pushed) == materialized(first, "ar/ledger_entries")["sent"]


@pytest.fixture
def production_home(
    tmp_path: Path, dagster_database: PostgresLocation, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A DAGSTER_HOME holding deploy/dagster.yaml as it is, its variables naming the database."""
    home = tmp_path / "production_home"
    home.mkdir()
    shutil.copy(REPOSITORY / "deploy" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_HOST", dagster_database.host)
    monkeypatch.setenv("DAGSTER_PG_PORT", str(dagster_database.port))
    monkeypatch.setenv("DAGSTER_PG_USER", dagster_database.user)
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", dagster_database.password)
    monkeypatch.setenv("DAGSTER_PG_DB", dagster_database.database)
    return home


def test_the_production_instance_file_loads_against_postgres(
    production_home: Path, dagster_database: PostgresLocation
) -> None:
    with dg.DagsterInstance.from_config(str(production_home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert instance.get_runs() == []
        queue = instance.get_concurrency_config().run_queue_config
        assert queue is not None
        assert queue.tag_concurrency_limits == [
            {"key": AR_KEY_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
        ]
        assert instance.run_retries_enabled
    # It made its tables in that very database.
    with psycopg.connect(**dagster_database.connect_kwargs()) as connection:
        tables = {
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'public'"
            )
        }
    assert {"runs", "event_logs", "jobs"} <= tables


@dg.asset
def probe() -> int:
    return 1


def test_the_production_instance_file_records_a_run_in_postgres(production_home: Path) -> None:
    with dg.DagsterInstance.from_config(str(production_home)) as instance:
        result = dg.materialize([probe], instance=instance)
        assert result.success
        latest = instance.get_latest_materialization_event(probe.key)
        assert latest is not None
        assert latest.run_id == result.run_id
