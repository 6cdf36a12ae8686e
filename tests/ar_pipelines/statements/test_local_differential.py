"""Random ledgers give the same statements, allocations and credits, to the byte, from
dbt on DuckDB, dbt on Postgres and the plain-Python reference
(``docs/contract.md#statement-aggregation``).

Each example holds many independent customers, so a few examples (each a dbt build
with every data test) cover many cases.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from ar_pipelines.statements.local import compute_local_statements
from ar_pipelines.statements.reference import LedgerEntry
from tests.ar_pipelines.statements.ledgers import expected_files, read_files, write_ledger_csv
from tests.ledger_strategies import ledger_entries

FEW_EXAMPLES = settings(
    max_examples=6,
    deadline=None,
    # Every example is a dbt build: shrinking a failure would take minutes. Customers
    # are independent, so a failing example is read customer by customer instead.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FEW_EXAMPLES
@given(entries=ledger_entries())
def test_dbt_on_duckdb_writes_what_the_reference_computes(
    entries: list[LedgerEntry], tmp_path_factory: pytest.TempPathFactory
) -> None:
    work = tmp_path_factory.mktemp("differential")
    ledger = write_ledger_csv(entries, work / "ledger_entries.csv")

    run = compute_local_statements(ledger, work / "out")

    assert read_files(run.files) == expected_files(entries).as_dict()
    assert run.entries == len(entries)


@pytest.mark.postgres
@settings(FEW_EXAMPLES, max_examples=4)
@given(entries=ledger_entries())
def test_dbt_on_postgres_writes_the_same_files_as_on_duckdb_and_the_reference(
    entries: list[LedgerEntry],
    tmp_path_factory: pytest.TempPathFactory,
    statements_postgres_url: str,
) -> None:
    work = tmp_path_factory.mktemp("differential")
    ledger = write_ledger_csv(entries, work / "ledger_entries.csv")

    on_postgres = compute_local_statements(
        ledger, work / "postgres", warehouse=statements_postgres_url
    )
    on_duckdb = compute_local_statements(ledger, work / "duckdb", run_tests=False)

    assert read_files(on_postgres.files) == expected_files(entries).as_dict()
    assert read_files(on_postgres.files) == read_files(on_duckdb.files)
