"""The dbt project's own tests: its unit tests pass on DuckDB and Postgres, and each
generic test of an identity (``docs/contract.md#identities``) fails on a mart broken to
break it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from psycopg import sql

from ar_pipelines.statements.dbt import build_statements, invoke
from ar_pipelines.statements.local import compute_local_statements, statements_warehouse
from ar_pipelines.warehouse import PostgresWarehouse, Warehouse
from tests.ar_pipelines.statements.conftest import SMALL_LEDGER

UNIT_TESTS = 14


@dataclass(frozen=True)
class Built:
    warehouse: Warehouse
    work_dir: Path


def build(tmp_path: Path, url: str) -> Built:
    ledger = tmp_path / "ledger_entries.csv"
    ledger.write_text(SMALL_LEDGER, encoding="utf-8")
    compute_local_statements(ledger, tmp_path / "out", warehouse=url)
    return Built(statements_warehouse(url, tmp_path), tmp_path)


@pytest.fixture(scope="module")
def duckdb_built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    work = tmp_path_factory.mktemp("dbt_project")
    return build(work, f"duckdb:///{work / 'warehouse.duckdb'}")


def unit_test_results(built: Built) -> list[Any]:
    with built.warehouse.session():
        result = invoke(built.warehouse, built.work_dir, ["test", "--select", "test_type:unit"])
    return list(result.results)


def test_every_unit_test_of_the_models_passes_on_duckdb(duckdb_built: Built) -> None:
    results = unit_test_results(duckdb_built)

    assert len(results) == UNIT_TESTS
    assert {str(result.status) for result in results} == {"pass"}


@pytest.mark.postgres
def test_every_unit_test_of_the_models_passes_on_postgres(
    statements_postgres_url: str, tmp_path: Path
) -> None:
    results = unit_test_results(build(tmp_path, statements_postgres_url))

    assert len(results) == UNIT_TESTS
    assert {str(result.status) for result in results} == {"pass"}


@dataclass(frozen=True)
class Breakage:
    update: str  # breaks one mart the way the identity forbids
    also_seen_by: frozenset[str] = frozenset()  # other identities the same update breaks


MATCHES_ALLOCATIONS = "paid_amount_matches_allocations"
BREAKAGES = {
    "billable_amounts_add_up": Breakage(
        "update main.customer_credits set non_qualifying_net = non_qualifying_net - 0.01 "
        "where customer_external_id = 'PT-004'"
    ),
    "payments_add_up": Breakage(
        "update main.customer_credits set unapplied_payments = unapplied_payments + 0.01 "
        "where customer_external_id = 'PT-001'"
    ),
    "paid_amount_within_amount": Breakage(
        "update main.statements set paid_amount = amount + 0.01, outstanding = -0.01 "
        "where external_invoice_id = 'STMT-2026-02-PT-002'",
        frozenset({MATCHES_ALLOCATIONS}),
    ),
    MATCHES_ALLOCATIONS: Breakage(
        "update main.payment_allocations set allocated_amount = allocated_amount - 0.01 "
        "where allocation_id = 'ALLOC-TX-2-STMT-2026-05-PT-001'",
        frozenset({"payments_add_up"}),
    ),
    "allocations_within_payment_value": Breakage(
        "update main.payment_allocations set allocated_amount = allocated_amount + 1000 "
        "where allocation_id = 'ALLOC-P-1-STMT-2026-02-PT-002'",
        frozenset({MATCHES_ALLOCATIONS, "payments_add_up"}),
    ),
    "paid_oldest_first": Breakage(
        "update main.statements set paid_amount = paid_amount - 0.01, "
        "outstanding = outstanding + 0.01 where external_invoice_id = 'STMT-2026-01-PT-003'",
        frozenset({MATCHES_ALLOCATIONS}),
    ),
}


@pytest.fixture(scope="module")
def identity_tests(duckdb_built: Built) -> dict[str, str]:
    """Each identity test's SQL as dbt compiled it for the built warehouse."""
    selection = " ".join(f"test_name:{name}" for name in BREAKAGES)
    with duckdb_built.warehouse.session():
        compiled = invoke(
            duckdb_built.warehouse, duckdb_built.work_dir, ["compile", "--select", selection]
        )
    return {
        result.node.test_metadata.name: result.node.compiled_code for result in compiled.results
    }


@pytest.fixture
def warehouse_file(duckdb_built: Built) -> Iterator[duckdb.DuckDBPyConnection]:
    path = duckdb_built.work_dir / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        yield connection


def failing_rows(connection: duckdb.DuckDBPyConnection, test_sql: str) -> int:
    return len(connection.execute(test_sql).fetchall())


@pytest.mark.parametrize("identity", sorted(BREAKAGES))
def test_an_identity_test_passes_on_the_built_marts_and_fails_on_a_mart_broken_for_it(
    identity: str, identity_tests: dict[str, str], warehouse_file: duckdb.DuckDBPyConnection
) -> None:
    test_sql = identity_tests[identity]
    assert failing_rows(warehouse_file, test_sql) == 0

    breakage = BREAKAGES[identity]
    warehouse_file.begin()
    try:
        warehouse_file.execute(breakage.update)
        assert failing_rows(warehouse_file, test_sql) == 1
        failing = {
            name for name, sql in identity_tests.items() if failing_rows(warehouse_file, sql)
        }
    finally:
        warehouse_file.rollback()
    assert failing == {identity, *breakage.also_seen_by}


ICU_COLLATION = "en-US-x-icu"


@pytest.mark.postgres
def test_payments_of_one_day_go_in_byte_order_where_the_database_would_sort_otherwise(
    statements_postgres_url: str, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger_entries.csv"
    ledger.write_text(
        "external_id,customer_external_id,transaction_date,transaction_type,amount\n"
        "C-1,PT-1,2026-01-05,charge,5.00\n"
        "C-2,PT-1,2026-02-05,charge,5.00\n"
        "P-a,PT-1,2026-03-01,patient_payment,-5.00\n"
        "P-B,PT-1,2026-03-01,patient_payment,-5.00\n",
        encoding="utf-8",
    )
    warehouse = statements_warehouse(statements_postgres_url, tmp_path)
    assert isinstance(warehouse, PostgresWarehouse)
    with warehouse.session():
        warehouse.load_ledger_file(ledger)
        with warehouse.connect() as connection:
            icu = connection.execute(
                "select count(*) from pg_collation where collname = %s", (ICU_COLLATION,)
            ).fetchone()
            if icu != (1,):
                pytest.skip(f"this Postgres has no {ICU_COLLATION} collation")
            table = sql.Identifier(warehouse.ledger_schema, "ledger_entries")
            connection.execute(
                sql.SQL("alter table {} alter column external_id type text collate {}").format(
                    table, sql.Identifier(ICU_COLLATION)
                )
            )
            by_locale = connection.execute(
                sql.SQL(
                    "select external_id from {} where external_id like 'P-%%' order by 1"
                ).format(table)
            ).fetchall()
        assert by_locale == [("P-a",), ("P-B",)]
        build_statements(warehouse, tmp_path, run_tests=False)
        files = warehouse.export_marts(tmp_path / "out")

    allocations = files["payment_allocations"].path.read_text(encoding="utf-8").splitlines()
    assert [line.split(",")[0] for line in allocations[1:]] == [
        "ALLOC-P-B-STMT-2026-01-PT-1",
        "ALLOC-P-a-STMT-2026-02-PT-1",
    ]
