"""The queries the pipeline asks the warehouse, the same on DuckDB and Postgres."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from ar_pipelines.clock import utc_now
from ar_pipelines.warehouse import (
    LEDGER_ENTRIES,
    PUSH_STATE,
    RAW_TRANSACTIONS,
    TRANSACTION_ROWS,
    Warehouse,
    base,
)
from tests.ar_pipelines.warehouse.frames import ledger, ledger_row


def _loaded(warehouse: Warehouse, practice_id: str, at: datetime, *ids: str) -> None:
    frame = ledger(*(ledger_row(i) for i in ids)).assign(practice_id=practice_id, loaded_at=at)
    warehouse.upsert(LEDGER_ENTRIES, frame)


def test_count_counts_the_practices_rows(warehouse: Warehouse) -> None:
    _loaded(warehouse, "P1", datetime(2024, 1, 1), "E1", "E2")  # noqa: DTZ001
    _loaded(warehouse, "P2", datetime(2024, 1, 1), "E3")  # noqa: DTZ001

    assert warehouse.count(LEDGER_ENTRIES, practice_id="P1") == 2
    assert warehouse.count(RAW_TRANSACTIONS, practice_id="P1") == 0


def test_read_in_reads_the_practices_rows_holding_the_values_in_groups(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "IN_GROUP", 2)
    rows = pd.DataFrame(
        {"external_id": ["P1-1", "P1-1", "P1-2", "P1-3"], "row_key": ["1", "4", None, "3"]}
    )
    warehouse.append(TRANSACTION_ROWS, rows.assign(practice_id="P1"))
    warehouse.append(TRANSACTION_ROWS, rows.assign(practice_id="P2"))

    found = warehouse.read_in(
        TRANSACTION_ROWS,
        practice_id="P1",
        column="external_id",
        values=["P1-1", "P1-2", "P1-9", "P1-1"],
        columns=["external_id", "row_key"],
    )

    assert sorted(found.itertuples(index=False, name=None), key=str) == [
        ("P1-1", "1"),
        ("P1-1", "4"),
        ("P1-2", None),
    ]
    none = warehouse.read_in(TRANSACTION_ROWS, practice_id="P1", column="row_key", values=[])
    assert none.empty
    assert list(none.columns) == list(TRANSACTION_ROWS.column_names)


def test_read_in_keeps_to_the_rows_matching_where(warehouse: Warehouse) -> None:
    state = pd.DataFrame(
        {
            "kind": ["customers", "ledger_entries", "ledger_entries"],
            "external_id": ["P1-1", "P1-1", "P1-2"],
            "payload_hash": ["c", "l1", "l2"],
            "last_result": "created",
            "message": None,
            "customer_external_id": "P1-C",
        }
    )
    warehouse.upsert(PUSH_STATE, state.assign(practice_id="P1"))

    found = warehouse.read_in(
        PUSH_STATE,
        practice_id="P1",
        column="external_id",
        values=["P1-1", "P1-2"],
        columns=["external_id", "payload_hash"],
        where={"kind": "ledger_entries"},
    )

    assert sorted(found.itertuples(index=False, name=None)) == [("P1-1", "l1"), ("P1-2", "l2")]


def test_existing_names_the_values_the_practice_holds(warehouse: Warehouse) -> None:
    _loaded(warehouse, "P1", datetime(2024, 1, 1), "E1", "E2")  # noqa: DTZ001
    _loaded(warehouse, "P2", datetime(2024, 1, 1), "E3")  # noqa: DTZ001

    found = warehouse.existing(
        LEDGER_ENTRIES, practice_id="P1", column="external_id", values=["E1", "E3", "E9"]
    )

    assert found == {"E1"}
    assert warehouse.existing(
        LEDGER_ENTRIES, practice_id="P1", column="external_id", values=[]
    ) == (set())


def test_read_after_reads_the_rows_later_than_a_moment(warehouse: Warehouse) -> None:
    _loaded(warehouse, "P1", datetime(2024, 1, 1), "E1")  # noqa: DTZ001
    _loaded(warehouse, "P1", datetime(2024, 1, 2), "E2")  # noqa: DTZ001
    _loaded(warehouse, "P2", datetime(2024, 1, 3), "E3")  # noqa: DTZ001

    def read(after: datetime | None) -> pd.DataFrame:
        return warehouse.read_after(
            LEDGER_ENTRIES,
            practice_id="P1",
            column="loaded_at",
            after=after,
            columns=["loaded_at", "external_id"],
        )

    later = read(datetime(2024, 1, 1))  # noqa: DTZ001
    assert list(later.columns) == ["loaded_at", "external_id"]
    assert later["external_id"].tolist() == ["E2"]
    assert sorted(read(None)["external_id"]) == ["E1", "E2"]


def test_bounds_are_the_least_and_greatest_values(warehouse: Warehouse) -> None:
    rows = [
        ledger_row("E1", transaction_date="2024-03-05"),
        ledger_row("E2", transaction_date="2023-11-20"),
    ]
    warehouse.upsert(LEDGER_ENTRIES, ledger(*rows).assign(practice_id="P1"))

    assert warehouse.bounds(LEDGER_ENTRIES, practice_id="P1", column="transaction_date") == (
        date(2023, 11, 20),
        date(2024, 3, 5),
    )
    empty = warehouse.bounds(LEDGER_ENTRIES, practice_id="P2", column="transaction_date")
    assert not any(isinstance(value, date) for value in empty)


def test_read_model_reads_a_relation_outside_the_declared_tables(warehouse: Warehouse) -> None:
    schema = warehouse.schema_name("statements_p1")
    warehouse.query(f'create schema if not exists "{schema}"')
    try:
        warehouse.query(f'create table "{schema}"."statements" as select 1 as n')

        assert warehouse.read_model(schema, "statements")["n"].tolist() == [1]
    finally:
        warehouse.query(f'drop schema if exists "{schema}" cascade')


def test_an_aware_utc_now_is_stored_as_the_naive_utc_it_was(warehouse: Warehouse) -> None:
    now = utc_now()
    _loaded(warehouse, "P1", now, "E1")

    (stored,) = warehouse.read(LEDGER_ENTRIES, practice_id="P1")["loaded_at"].dt.to_pydatetime()

    assert now.tzinfo is not None
    assert stored == now.replace(tzinfo=None)
