"""What each write touches: replace one practice, upsert by key, append, delete."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from ar_pipelines.warehouse import (
    CUSTOMERS,
    DEAD_LETTER,
    LEDGER_ENTRIES,
    PUSH_STATE,
    QUARANTINE,
    Warehouse,
)
from tests.ar_pipelines.warehouse.frames import customer_row, customers, ledger, ledger_row


def _ids(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["external_id"])


def test_replace_only_touches_its_practice(warehouse: Warehouse) -> None:
    warehouse.replace(CUSTOMERS, customers(customer_row("A1"), customer_row("A2")), practice_id="A")
    warehouse.replace(CUSTOMERS, customers(customer_row("B1")), practice_id="B")

    warehouse.replace(CUSTOMERS, customers(customer_row("A3")), practice_id="A")

    assert _ids(warehouse.read(CUSTOMERS, practice_id="A")) == ["A3"]
    assert _ids(warehouse.read(CUSTOMERS, practice_id="B")) == ["B1"]


def test_replace_with_no_rows_empties_the_practice(warehouse: Warehouse) -> None:
    warehouse.replace(CUSTOMERS, customers(customer_row("A1")), practice_id="A")

    warehouse.replace(CUSTOMERS, customers(), practice_id="A")

    assert warehouse.read(CUSTOMERS, practice_id="A").empty


def test_replace_refuses_rows_of_another_practice(warehouse: Warehouse) -> None:
    frame = customers(customer_row("B1")).assign(practice_id="B")

    with pytest.raises(ValueError, match="practice 'B'"):
        warehouse.replace(CUSTOMERS, frame, practice_id="A")


def test_upsert_replaces_rows_by_key_and_keeps_the_others(warehouse: Warehouse) -> None:
    first = ledger(ledger_row("E1", "1.00"), ledger_row("E2", "2.00"))
    warehouse.upsert(LEDGER_ENTRIES, first.assign(practice_id="A"))
    warehouse.upsert(LEDGER_ENTRIES, ledger(ledger_row("E1", "9.00")).assign(practice_id="B"))

    warehouse.upsert(
        LEDGER_ENTRIES,
        ledger(ledger_row("E2", "20.00"), ledger_row("E3", "3.00")).assign(practice_id="A"),
    )

    mine = warehouse.read(LEDGER_ENTRIES, practice_id="A")
    assert dict(zip(mine["external_id"], mine["amount"], strict=True)) == {
        "E1": Decimal("1.00"),
        "E2": Decimal("20.00"),
        "E3": Decimal("3.00"),
    }
    theirs = warehouse.read(LEDGER_ENTRIES, practice_id="B")
    assert list(theirs["amount"]) == [Decimal("9.00")]


def test_upsert_refuses_a_frame_that_repeats_a_key(warehouse: Warehouse) -> None:
    frame = ledger(ledger_row("E1", "1.00"), ledger_row("E1", "2.00")).assign(practice_id="A")

    with pytest.raises(ValueError, match="repeats a key"):
        warehouse.upsert(LEDGER_ENTRIES, frame)

    assert warehouse.read(LEDGER_ENTRIES).empty


def test_a_frame_with_a_column_the_table_lacks_is_refused(warehouse: Warehouse) -> None:
    frame = customers(customer_row("A1")).assign(practice_id="A", emial="typo@example.com")

    with pytest.raises(ValueError, match="emial"):
        warehouse.upsert(CUSTOMERS, frame)


def test_append_adds_chunks_to_a_table_without_a_key(warehouse: Warehouse) -> None:
    def quarantined(row_number: int) -> dict[str, object]:
        return {
            "source": "transactions",
            "practice_id": "A",
            "source_id": f"T{row_number}",
            "row_number": row_number,
            "loaded_date": None,
            "reason": "bad_amount",
            "detail": "amount is not a number",
            "raw": "{}",
            "source_key": f"transactions:T{row_number}",
        }

    warehouse.replace(QUARANTINE, pd.DataFrame([quarantined(1)]), practice_id="A")
    warehouse.append(QUARANTINE, pd.DataFrame([quarantined(2), quarantined(3)]))

    back = warehouse.read(QUARANTINE, practice_id="A")
    assert sorted(back["row_number"]) == [1, 2, 3]
    assert back["row_number"].dtype == "int64"


def test_append_refuses_a_table_with_a_key(warehouse: Warehouse) -> None:
    with pytest.raises(ValueError, match="upsert"):
        warehouse.append(CUSTOMERS, customers(customer_row("A1")).assign(practice_id="A"))


def test_delete_removes_only_the_practices_matching_rows(warehouse: Warehouse) -> None:
    def dead(practice_id: str, kind: str, external_id: str) -> dict[str, object]:
        return {
            "practice_id": practice_id,
            "kind": kind,
            "external_id": external_id,
            "payload": "{}",
            "reason": "customer not found",
            "attempts": 1,
            "first_failed_at": pd.Timestamp("2024-01-01"),
            "last_failed_at": pd.Timestamp("2024-01-01"),
        }

    rows = [
        dead("A", "ledger_entries", "X"),
        dead("A", "customers", "X"),
        dead("A", "ledger_entries", "Y"),
        dead("B", "ledger_entries", "X"),
    ]
    warehouse.upsert(DEAD_LETTER, pd.DataFrame(rows))

    gone = warehouse.delete(
        DEAD_LETTER,
        practice_id="A",
        column="external_id",
        values={"X"},
        where={"kind": "ledger_entries"},
    )

    left = warehouse.read(DEAD_LETTER)
    assert gone == 1
    assert sorted(zip(left["practice_id"], left["kind"], left["external_id"], strict=True)) == [
        ("A", "customers", "X"),
        ("A", "ledger_entries", "Y"),
        ("B", "ledger_entries", "X"),
    ]
    assert warehouse.delete(DEAD_LETTER, practice_id="A", column="external_id", values=[]) == 0


def test_reads_filter_by_practice_and_column_values(warehouse: Warehouse) -> None:
    state = pd.DataFrame(
        {
            "practice_id": ["A", "A", "B"],
            "kind": ["customers", "ledger_entries", "customers"],
            "external_id": ["1", "1", "1"],
            "payload_hash": ["h1", "h2", "h3"],
            "last_result": "created",
            "message": None,
            "customer_external_id": [None, "C1", None],
        }
    )
    warehouse.upsert(PUSH_STATE, state)

    found = warehouse.read(
        PUSH_STATE, practice_id="A", columns=["payload_hash"], where={"kind": "customers"}
    )

    assert list(found.columns) == ["payload_hash"]
    assert list(found["payload_hash"]) == ["h1"]


def test_read_chunks_hand_over_every_row_once(warehouse: Warehouse) -> None:
    rows = [ledger_row(f"E{i:05d}", "1.00") for i in range(5000)]
    warehouse.replace(LEDGER_ENTRIES, ledger(*rows), practice_id="A")

    chunks = list(warehouse.read_chunks(LEDGER_ENTRIES, practice_id="A", chunk_rows=2048))

    assert [len(chunk) for chunk in chunks] == [2048, 2048, 904]
    seen = pd.concat(chunks, ignore_index=True)
    assert list(seen["external_id"]) == [f"E{i:05d}" for i in range(5000)]
    assert sum(seen["amount"]) == Decimal("5000.00")
