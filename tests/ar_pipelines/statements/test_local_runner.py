"""``ar-pipelines statements`` and ``compute_local_statements``: files in, files out, and
input that breaks the contract refused in one line."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from psycopg import sql

from ar_pipelines.cli import main
from ar_pipelines.statements.local import (
    InvalidLedgerError,
    WarehouseError,
    compute_local_statements,
)
from ar_pipelines.statements.local.postgres_warehouse import PostgresWarehouse
from ar_pipelines.statements.local.runner import open_warehouse
from tests.ar_pipelines.statements.conftest import SMALL_LEDGER, SMALL_LEDGER_FILES
from tests.ar_pipelines.statements.ledgers import read_files


def test_the_command_writes_the_three_expected_files_and_says_where(
    small_ledger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"

    assert main(["statements", "--ledger", str(small_ledger), "--out", str(out)]) == 0

    assert {path.name for path in out.iterdir()} == {f"{name}.csv" for name in SMALL_LEDGER_FILES}
    for name, expected in SMALL_LEDGER_FILES.items():
        assert (out / f"{name}.csv").read_text(encoding="utf-8") == expected
    printed = capsys.readouterr().out
    assert "12 ledger entries" in printed
    assert f"statements: 5 rows in {out / 'statements.csv'}" in printed
    assert f"payment_allocations: 5 rows in {out / 'payment_allocations.csv'}" in printed
    assert f"customer_credits: 4 rows in {out / 'customer_credits.csv'}" in printed


def test_a_parquet_ledger_gives_the_same_files_as_its_csv(
    small_ledger: Path, tmp_path: Path
) -> None:
    parquet = tmp_path / "ledger_entries.parquet"
    duckdb.read_csv(str(small_ledger), header=True, all_varchar=True).write_parquet(str(parquet))

    run = compute_local_statements(parquet, tmp_path / "out", run_tests=False)

    assert read_files(run.files) == SMALL_LEDGER_FILES
    assert (run.entries, run.statements, run.allocations, run.customers) == (12, 5, 5, 4)


def test_a_ledger_that_breaks_the_contract_exits_2_naming_each_problem_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger_entries.csv"
    ledger.write_text(
        SMALL_LEDGER
        + "TX-1,PT-009,2026-05-03,charge,5.00,,,,,\n"  # TX-1 again
        + "TX-8,PT-009,2026-05-03,patient_payment,5.00,,,,,\n"  # a payment must be <= 0
        + "TX-9,PT-009,2026-05-03,refund,-5.00,,,,,\n",  # not a pushable type
        encoding="utf-8",
    )

    status = main(["statements", "--ledger", str(ledger), "--out", str(tmp_path / "out")])

    assert status == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "1 external_id value(s) repeat" in error
    assert "1 entr(ies) have an amount whose sign their type does not allow" in error
    assert "1 transaction_type value(s) are not one of the six pushable types" in error
    assert not (tmp_path / "out" / "statements.csv").exists()


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


def test_a_postgres_url_names_its_schema_by_parameter_or_search_path() -> None:
    by_parameter = PostgresWarehouse.from_url("postgresql://u:secret@db.example:6543/ar?schema=s1")
    by_search_path = PostgresWarehouse.from_url(
        "postgresql+psycopg://u@db.example/ar?options=-csearch_path%3Ds2,public"
    )
    by_default = PostgresWarehouse.from_url("postgres://db.example/ar")

    assert (by_parameter.host, by_parameter.port, by_parameter.password) == (
        "db.example",
        6543,
        "secret",
    )
    assert (by_parameter.schema, by_search_path.schema, by_default.schema) == (
        "s1",
        "s2",
        "ar_statements",
    )
    assert by_parameter.dbt_env()["AR_DBT_PG_SCHEMA"] == "s1"
    assert by_parameter.dbt_vars()["ledger_schema"] == "s1"


def test_a_warehouse_that_is_neither_duckdb_nor_postgres_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="not mysql:"):
        open_warehouse("mysql://root@localhost/ar", tmp_path)
    with pytest.raises(WarehouseError, match="needs a file"):
        open_warehouse("duckdb:///:memory:", tmp_path)


@pytest.mark.postgres
def test_a_postgres_schema_whose_ledger_entries_table_is_not_a_load_is_left_alone(
    statements_postgres_url: str, small_ledger: Path, tmp_path: Path
) -> None:
    warehouse = PostgresWarehouse.from_url(statements_postgres_url)
    table = sql.Identifier(warehouse.schema, "ledger_entries")
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


def test_a_warehouse_password_stays_out_of_reprs_and_error_messages() -> None:
    warehouse = PostgresWarehouse.from_url("postgresql://u:hunter2@db.example:5432/ar")

    assert "hunter2" not in repr(warehouse)
    with pytest.raises(WarehouseError) as refused:
        PostgresWarehouse.from_url("postgresql://u:hunter2@db.example:notaport/ar")
    assert "hunter2" not in str(refused.value)
    assert "expected postgresql://" in str(refused.value)
