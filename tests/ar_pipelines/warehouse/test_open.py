"""Opening a warehouse: tables made once, cursors kept, dbt pointed at the same
database, passwords never shown, and a DuckDB file left free between operations."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from ar_pipelines.warehouse import (
    CUSTOMERS,
    LEDGER_ENTRIES,
    WarehouseError,
    WarehouseSchemaError,
    open_warehouse,
)
from tests.ar_pipelines.warehouse.frames import customer_row, customers
from tests.ar_pipelines.warehouse.stores import StoreAt


def test_cursors_persist_across_reopening(where: StoreAt) -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9)  # noqa: DTZ001 - a source's own clock
    with where.open() as warehouse:
        assert warehouse.get_cursor("P1", "transactions") is None
        warehouse.set_cursor("P1", "transactions", moment)
        warehouse.set_cursor("P2", "transactions", datetime(2020, 1, 1))  # noqa: DTZ001

    with where.open() as warehouse:
        assert warehouse.get_cursor("P1", "transactions") == moment
        warehouse.set_cursor("P1", "transactions", datetime(2024, 6, 1))  # noqa: DTZ001

    with where.open() as warehouse:
        assert warehouse.get_cursor("P1", "transactions") == datetime(2024, 6, 1)  # noqa: DTZ001
        assert warehouse.get_cursor("P2", "transactions") == datetime(2020, 1, 1)  # noqa: DTZ001
        assert warehouse.get_cursor("P1", "patients") is None


def test_opening_again_keeps_every_row(where: StoreAt) -> None:
    with where.open() as warehouse:
        warehouse.replace(CUSTOMERS, customers(customer_row("A1")), practice_id="A")

    with where.open() as warehouse:
        assert list(warehouse.read(CUSTOMERS)["external_id"]) == ["A1"]


def test_a_table_with_other_columns_is_refused_rather_than_written(where: StoreAt) -> None:
    with where.open() as warehouse:
        warehouse.query(f"alter table {warehouse.relation(CUSTOMERS)} add column nickname text")

    with pytest.raises(WarehouseSchemaError, match="nickname"):
        where.open()


def test_a_table_an_earlier_version_made_gains_the_columns_declared_since_and_keeps_its_rows(
    where: StoreAt,
) -> None:
    with where.open() as warehouse:
        warehouse.replace(CUSTOMERS, customers(customer_row("A1")), practice_id="A")
        warehouse.query(f"alter table {warehouse.relation(CUSTOMERS)} drop column email")

    with where.open() as warehouse:
        stored = warehouse.read(CUSTOMERS)

    assert list(stored["external_id"]) == ["A1"]
    assert "email" in stored.columns
    assert stored["email"].isna().all()


def test_dbt_is_pointed_at_the_same_database_and_ledger(where: StoreAt) -> None:
    with where.open() as warehouse:
        env = warehouse.dbt_env()
        variables = warehouse.dbt_vars()

    assert variables == {
        "ledger_schema": f"{where.schema_prefix}normalized",
        "ledger_table": "ledger_entries",
    }
    if where.url.startswith("duckdb"):
        assert env == {
            "AR_DBT_TARGET": "duckdb",
            "AR_DBT_DUCKDB_PATH": str(Path(where.url.removeprefix("duckdb:///")).resolve()),
        }
    else:
        assert env["AR_DBT_TARGET"] == "postgres"
        assert env["AR_DBT_PG_SCHEMA"] == f"{where.schema_prefix}ar_statements"
        assert {"AR_DBT_PG_HOST", "AR_DBT_PG_PORT", "AR_DBT_PG_DBNAME"} <= set(env)


def test_an_in_memory_warehouse_cannot_be_handed_to_dbt() -> None:
    with open_warehouse("duckdb:///:memory:") as warehouse:
        assert warehouse.dialect == "duckdb"
        with pytest.raises(WarehouseError, match="in-memory"):
            warehouse.dbt_env()


def test_another_process_can_write_the_duckdb_file_between_operations(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with open_warehouse(f"duckdb:///{path}") as warehouse:
        warehouse.replace(CUSTOMERS, customers(customer_row("A1")), practice_id="A")
        # As dbt does between the pipeline's steps: another process opens the file to write.
        script = (
            "import duckdb, sys\n"
            "with duckdb.connect(sys.argv[1]) as c:\n"
            "    c.execute('create table main.marts_marker as select 1 as one')\n"
        )
        subprocess.run([sys.executable, "-c", script, str(path)], check=True, timeout=120)

        marker = warehouse.query("select one from main.marts_marker")
        assert list(marker["one"]) == [1]
        assert len(warehouse.read(CUSTOMERS)) == 1


def test_reprs_and_errors_never_show_the_password() -> None:
    secret = "s3cret-Pa55"
    with pytest.raises(WarehouseError) as refused:
        open_warehouse(f"postgresql://postgres:{secret}@127.0.0.1:1/test")
    with pytest.raises(WarehouseError) as malformed:
        open_warehouse(f"postgresql://postgres:{secret}@127.0.0.1:port/test")
    with pytest.raises(WarehouseError) as unknown:
        open_warehouse(f"mysql://root:{secret}@127.0.0.1/test")

    for error in (refused.value, malformed.value, unknown.value):
        assert secret not in str(error)
        assert secret not in repr(error)
        assert error.__cause__ is None or secret not in str(error.__cause__)


def test_a_postgres_warehouse_repr_hides_its_password(where: StoreAt) -> None:
    if not where.url.startswith("postgres"):
        pytest.skip("a DuckDB URL holds no password")
    url = make_url(where.url)
    # The test server trusts loopback: a password given where none is needed is ignored.
    secret = url.password or "s3cret-Pa55"
    with_password = url.set(password=secret).render_as_string(hide_password=False)
    with open_warehouse(with_password, schema_prefix=where.schema_prefix) as warehouse:
        assert str(secret) not in repr(warehouse)
        assert "***" in repr(warehouse)
        assert warehouse.read(LEDGER_ENTRIES).empty
