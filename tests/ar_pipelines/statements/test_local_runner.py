"""``compute_local_statements``: files in, files out, and input that breaks the contract
refused in one line."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from psycopg import sql

from ar_pipelines.statements.errors import InvalidLedgerError
from ar_pipelines.statements.local import compute_local_statements, statements_warehouse
from ar_pipelines.warehouse import PostgresWarehouse, WarehouseError
from tests.ar_pipelines.statements.conftest import SMALL_LEDGER, SMALL_LEDGER_FILES
from tests.ar_pipelines.statements.ledgers import read_files


def test_a_parquet_ledger_gives_the_same_files_as_its_csv(
    small_ledger: Path, tmp_path: Path
) -> None:
    parquet = tmp_path / "ledger_entries.parquet"
    duckdb.read_csv(str(small_ledger), header=True, all_varchar=True).write_parquet(str(parquet))

    run = compute_local_statements(parquet, tmp_path / "out", run_tests=False)

    assert read_files(run.files) == SMALL_LEDGER_FILES
    assert (run.entries, run.statements, run.allocations, run.customers) == (12, 5, 5, 4)


def test_an_amount_with_more_than_two_decimals_is_refused_not_rounded(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger_entries.csv"
    ledger.write_text(SMALL_LEDGER.replace("240.00", "240.005"), encoding="utf-8")

    with pytest.raises(InvalidLedgerError, match=r"amount 240\.005 of entry TX-1 .*2 decimal"):
        compute_local_statements(ledger, tmp_path / "out")


def test_a_ledger_without_amounts_or_in_another_format_is_refused(tmp_path: Path) -> None:
    no_amount = tmp_path / "ledger_entries.csv"
    no_amount.write_text("external_id,customer_external_id,transaction_date,transaction_type\n")
    with pytest.raises(InvalidLedgerError, match="has no column amount"):
        compute_local_statements(no_amount, tmp_path / "out")

    spreadsheet = tmp_path / "ledger_entries.xlsx"
    spreadsheet.write_bytes(b"PK")
    with pytest.raises(InvalidLedgerError, match=r"\.csv or \.parquet"):
        compute_local_statements(spreadsheet, tmp_path / "out")


def test_a_duckdb_warehouse_of_ones_own_keeps_the_marts_in_its_file(
    small_ledger: Path, tmp_path: Path
) -> None:
    path = tmp_path / "warehouse" / "warehouse.duckdb"

    compute_local_statements(
        small_ledger, tmp_path / "out", warehouse=f"duckdb:///{path}", run_tests=False
    )

    with duckdb.connect(str(path)) as connection:
        amounts = connection.execute(
            "select external_invoice_id, paid_amount from main.statements "
            "where customer_external_id = 'PT-001'"
        ).fetchall()
        ledger_rows = connection.execute("select count(*) from normalized.ledger_entries")
        assert ledger_rows.fetchone() == (12,)
    assert [(number, str(paid)) for number, paid in amounts] == [("STMT-2026-05-PT-001", "100.00")]


def postgres_warehouse(url: str, work_dir: Path) -> PostgresWarehouse:
    warehouse = statements_warehouse(url, work_dir)
    assert isinstance(warehouse, PostgresWarehouse)
    return warehouse


def test_a_postgres_url_names_its_schema_by_parameter_or_search_path(tmp_path: Path) -> None:
    by_parameter = postgres_warehouse(
        "postgresql://u:secret@db.example:6543/ar?schema=s1", tmp_path
    )
    by_search_path = postgres_warehouse(
        "postgresql+psycopg://u@db.example/ar?options=-csearch_path%3Ds2,public", tmp_path
    )
    by_default = postgres_warehouse("postgres://db.example/ar", tmp_path)

    where = by_parameter.postgres
    assert (where.host, where.port, where.password) == ("db.example", 6543, "secret")
    assert (by_parameter.dbt_schema, by_search_path.dbt_schema, by_default.dbt_schema) == (
        "s1",
        "s2",
        "ar_statements",
    )
    assert by_parameter.dbt_env()["AR_DBT_PG_SCHEMA"] == "s1"
    assert by_parameter.dbt_vars()["ledger_schema"] == "s1"


def test_a_warehouse_that_is_neither_duckdb_nor_postgres_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="not mysql:"):
        statements_warehouse("mysql://root@localhost/ar", tmp_path)
    with pytest.raises(WarehouseError, match="needs a file"):
        statements_warehouse("duckdb:///:memory:", tmp_path)


@pytest.mark.postgres
def test_a_postgres_schema_whose_ledger_entries_table_is_not_a_load_is_left_alone(
    statements_postgres_url: str, small_ledger: Path, tmp_path: Path
) -> None:
    warehouse = postgres_warehouse(statements_postgres_url, tmp_path)
    table = sql.Identifier(warehouse.ledger_schema, "ledger_entries")
    with warehouse.connect() as connection:
        connection.execute(sql.SQL("drop table if exists {} cascade").format(table))
        connection.execute(sql.SQL("create table {} (id uuid, company_id uuid)").format(table))
    try:
        with pytest.raises(WarehouseError, match="is not a ledger load"):
            compute_local_statements(small_ledger, tmp_path, warehouse=statements_postgres_url)
        with warehouse.connect() as connection:
            kept = connection.execute(sql.SQL("select count(*) from {}").format(table)).fetchone()
        assert kept == (0,)
    finally:
        with warehouse.connect() as connection:
            connection.execute(sql.SQL("drop table {}").format(table))


def test_a_duckdb_file_whose_name_needs_quoting_works_too(
    small_ledger: Path, tmp_path: Path
) -> None:
    path = tmp_path / "ar-warehouse 2026.duckdb"

    run = compute_local_statements(
        small_ledger, tmp_path / "out", warehouse=f"duckdb:///{path}", run_tests=False
    )

    assert read_files(run.files) == SMALL_LEDGER_FILES


def test_a_warehouse_password_stays_out_of_reprs_and_error_messages(tmp_path: Path) -> None:
    warehouse = postgres_warehouse("postgresql://u:hunter2@db.example:5432/ar", tmp_path)

    assert "hunter2" not in repr(warehouse)
    with pytest.raises(WarehouseError) as refused:
        statements_warehouse("postgresql://u:hunter2@db.example:notaport/ar", tmp_path)
    assert "hunter2" not in str(refused.value)
    assert "expected postgresql://" in str(refused.value)
