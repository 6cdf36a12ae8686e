"""A warehouse opened for a ledger file: the file's entries typed in the ledger table,
none of the pipelines' tables, and a file never loaded over the pipelines' ledger."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ar_pipelines.warehouse import LedgerFileError, open_warehouse
from ar_pipelines.warehouse.location import PostgresLocation, parse_location
from tests.ar_pipelines.warehouse.stores import StoreAt

LEDGER = """\
external_id,customer_external_id,transaction_date,transaction_type,amount
TX-1,PT-1,2026-05-03,charge,240.00
TX-2,PT-1,2026-05-15,patient_payment,-100.00
"""


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger_entries.csv"
    path.write_text(LEDGER, encoding="utf-8")
    return path


def test_a_ledger_file_is_loaded_typed_into_the_ledger_table_dbt_reads(
    where: StoreAt, ledger: Path
) -> None:
    opened = open_warehouse(where.url, schema_prefix=where.schema_prefix, for_ledger_file=True)
    with opened as warehouse, warehouse.session():
        assert warehouse.load_ledger_file(ledger) == 2
        table = warehouse.qualified(warehouse.dbt_vars()["ledger_schema"], "ledger_entries")
        loaded = warehouse.query(
            f"select external_id, amount, amount_paid from {table} order by external_id"  # noqa: S608
        )

    assert loaded.to_dict("records") == [
        {"external_id": "TX-1", "amount": Decimal("240.00"), "amount_paid": None},
        {"external_id": "TX-2", "amount": Decimal("-100.00"), "amount_paid": None},
    ]


def test_a_ledger_file_that_does_not_fit_is_refused_as_bad_input(
    where: StoreAt, ledger: Path
) -> None:
    ledger.write_text(LEDGER.replace("240.00", "240.001"), encoding="utf-8")
    opened = open_warehouse(where.url, schema_prefix=where.schema_prefix, for_ledger_file=True)

    with opened as warehouse, warehouse.session(), pytest.raises(LedgerFileError) as refused:
        warehouse.load_ledger_file(ledger)

    assert isinstance(refused.value, ValueError)
    assert "more than 2 decimal places" in str(refused.value)


def test_the_pipelines_warehouse_takes_no_ledger_file(where: StoreAt, ledger: Path) -> None:
    with where.open() as warehouse, pytest.raises(ValueError, match="for_ledger_file"):
        warehouse.load_ledger_file(ledger)


def test_the_schema_a_url_names_is_the_warehouses_not_a_driver_parameter() -> None:
    location = parse_location("postgresql://u@db.example/ar?schema=s1&sslmode=disable")

    assert isinstance(location, PostgresLocation)
    assert location.schema == "s1"
    assert "schema" not in location.connect_kwargs()
    assert location.connect_kwargs()["sslmode"] == "disable"
