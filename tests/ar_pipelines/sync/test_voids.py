"""Entries that disappeared from the source are voided (amount 0), once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from ar_pipelines.client import ARClient
from ar_pipelines.normalize.present import KEY_COLUMNS, source_keys
from ar_pipelines.sync import voids_for_missing
from ar_pipelines.warehouse import LEDGER_ENTRIES, Warehouse
from tests.ar_pipelines.normalize.rows import run, transaction, transactions
from tests.ar_pipelines.sync.helpers import ar_amounts, push, push_customers
from tests.ar_pipelines.warehouse.frames import ledger, ledger_row

SOURCE = ledger(
    ledger_row("E1", "10.00"),
    ledger_row("E2", "-4.00", transaction_type="patient_payment", transaction_date="2024-02-03"),
    ledger_row("E3", "30.00", customer_external_id="P1-C2", procedure_code="D0120"),
    ledger_row("E4", "40.00"),
)


def pushed_and_stored(ar: ARClient, warehouse: Warehouse, records: pd.DataFrame) -> None:
    """As a run does: normalized entries stored, then pushed (their customers first)."""
    named = sorted(set(records["customer_external_id"]))
    push_customers(ar, warehouse, *named)
    warehouse.upsert(LEDGER_ENTRIES, records.assign(practice_id="P1"))
    push(ar, warehouse, "ledger_entries", records)


def test_voids_name_exactly_the_pushed_entries_absent_from_the_source(
    ar: ARClient, warehouse: Warehouse
) -> None:
    pushed_and_stored(ar, warehouse, SOURCE)

    voids = voids_for_missing(warehouse, practice_id="P1", present_external_ids={"E1", "E4"})

    assert sorted(voids.to_dict("records"), key=lambda row: row["external_id"]) == [
        {
            **dict.fromkeys(SOURCE.columns),
            "external_id": "E2",
            "customer_external_id": "P1-C1",
            "transaction_date": "2024-02-03",
            "transaction_type": "patient_payment",
            "amount": Decimal("0.00"),
        },
        {
            **dict.fromkeys(SOURCE.columns),
            "external_id": "E3",
            "customer_external_id": "P1-C2",
            "transaction_date": "2024-01-15",
            "transaction_type": "charge",
            "amount": Decimal("0.00"),
        },
    ]


def test_a_void_once_pushed_is_not_made_again(ar: ARClient, warehouse: Warehouse) -> None:
    pushed_and_stored(ar, warehouse, SOURCE)
    present = ["E1", "E2", "E4"]
    voids = voids_for_missing(warehouse, practice_id="P1", present_external_ids=present)

    report = push(ar, warehouse, "ledger_entries", voids)
    warehouse.upsert(LEDGER_ENTRIES, voids.assign(practice_id="P1"))

    assert (report.counts.sent, report.counts.updated) == (1, 1)
    assert ar_amounts(ar)["E3"] == Decimal("0.00")
    assert voids_for_missing(warehouse, practice_id="P1", present_external_ids=present).empty
    stored = warehouse.read(LEDGER_ENTRIES, practice_id="P1").set_index("external_id")
    assert stored.loc["E3", "amount"] == Decimal("0.00")
    assert stored.loc["E3", "transaction_date"] == date(2024, 1, 15)


def test_entries_never_pushed_are_not_voided(ar: ARClient, warehouse: Warehouse) -> None:
    pushed_and_stored(ar, warehouse, SOURCE.iloc[:2])
    warehouse.upsert(LEDGER_ENTRIES, SOURCE.iloc[2:].assign(practice_id="P1"))

    voids = voids_for_missing(warehouse, practice_id="P1", present_external_ids=["E1"])

    assert list(voids["external_id"]) == ["E2"]


def test_nothing_is_voided_while_every_entry_is_present(ar: ARClient, warehouse: Warehouse) -> None:
    pushed_and_stored(ar, warehouse, SOURCE)

    voids = voids_for_missing(
        warehouse, practice_id="P1", present_external_ids=list(SOURCE["external_id"])
    )

    assert voids.empty
    assert list(voids.columns) == list(SOURCE.columns)


def pushed_before(*external_ids: str) -> pd.DataFrame:
    """Entries an earlier run pushed: payments of P1-100 on 2026-01-05."""
    return ledger(
        *(
            ledger_row(
                external_id,
                "-5.00",
                customer_external_id="P1-100",
                transaction_date="2026-01-05",
                transaction_type="patient_payment",
            )
            for external_id in external_ids
        )
    )


def test_pushed_entries_no_source_row_names_any_more_are_voided(
    ar: ARClient, warehouse: Warehouse
) -> None:
    """As a run does: this run's rows normalized, the source's ids from its key scan."""
    pushed_and_stored(ar, warehouse, pushed_before("P1-1", "P1-2", "P1-3"))
    rows = (transaction("1"), transaction("2", amount="oops"))
    result = run(*rows)
    keys = source_keys([transactions(*rows).loc[:, list(KEY_COLUMNS)]])

    voids = voids_for_missing(warehouse, practice_id="P1", present_external_ids=keys.present)

    assert voids[voids["external_id"] == "P1-3"].to_dict("records") == [
        {
            "external_id": "P1-3",
            "customer_external_id": "P1-100",
            "transaction_date": "2026-01-05",
            "transaction_type": "patient_payment",
            "amount": Decimal("0.00"),
            "amount_paid": None,
            "estimated_insurance": None,
            "payment_link_id": None,
            "procedure_code": None,
            "description": None,
        }
    ]
    # P1-2 is still in the source (quarantined for its amount): it has not disappeared.
    assert [*result.ledger_entries["external_id"], *voids["external_id"]] == ["P1-1", "P1-3"]
    assert len(voids) == 1


def test_voids_can_be_asked_against_a_given_set_of_ids(ar: ARClient, warehouse: Warehouse) -> None:
    pushed_and_stored(ar, warehouse, pushed_before("P1-1", "P1-2"))

    voids = voids_for_missing(warehouse, practice_id="P1", present_external_ids={"P1-2"})

    assert voids["external_id"].tolist() == ["P1-1"]
    assert voids["amount"].tolist() == [Decimal("0.00")]


def test_stored_entries_must_say_what_they_were(warehouse: Warehouse) -> None:
    """A void repeats the customer, date and type of the stored entry it voids, so the
    store refuses an entry that does not say them."""
    untyped = pushed_before("P1-1").drop(columns=["transaction_type"]).assign(practice_id="P1")

    with pytest.raises(ValueError, match="transaction_type"):
        warehouse.upsert(LEDGER_ENTRIES, untyped)
