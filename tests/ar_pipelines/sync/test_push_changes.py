"""Only new and changed records go to AR; everything sent is remembered."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from ar_pipelines.client import ARClient, Progress
from ar_pipelines.sync import payload_hashes, records_frame
from ar_pipelines.sync.payloads import KINDS
from ar_pipelines.warehouse import LEDGER_ENTRIES, Warehouse
from tests.ar_pipelines.client.resources.helpers import Recorder
from tests.ar_pipelines.sync.helpers import (
    ar_amounts,
    push,
    sent_external_ids,
    state,
)
from tests.ar_pipelines.warehouse.frames import customer_row, customers, ledger, ledger_row

PATIENTS = customers(
    customer_row("P1-C1", first_name="Ana", last_name="Ruiz", phone="+14155550101"),
    customer_row("P1-C2", first_name="Zoë", email=None, phone="+14155550102"),
)


def entries(**amounts: str) -> Any:
    """Ledger entries E1.. with the given amounts, alternating between two customers."""
    return ledger(
        *(
            ledger_row(name, amount, customer_external_id=f"P1-C{1 + i % 2}")
            for i, (name, amount) in enumerate(amounts.items())
        )
    )


def pushed_once(
    ar: ARClient, warehouse: Warehouse, recorder: Recorder, records: pd.DataFrame
) -> None:
    """The patients, then ``records``, pushed; the recorder is emptied after, so that it
    holds only what the test sends next."""
    push(ar, warehouse, "customers", PATIENTS)
    push(ar, warehouse, "ledger_entries", records)
    recorder.requests.clear()


def test_a_first_push_sends_every_record_and_remembers_each(
    recorded_ar: ARClient, recorder: Recorder, warehouse: Warehouse
) -> None:
    customers_report = push(recorded_ar, warehouse, "customers", PATIENTS)
    records = entries(E1="10.00", E2="20.00", E3="-5.00")
    records.loc[2, "transaction_type"] = "patient_payment"
    progress: list[Progress] = []
    report = push(recorded_ar, warehouse, "ledger_entries", records, on_progress=progress.append)

    assert customers_report.counts.created == 2
    assert report.clean
    assert (report.counts.considered, report.counts.sent, report.counts.created) == (3, 3, 3)
    assert report.counts.unchanged == 0
    assert sent_external_ids(recorder.requests) == ["P1-C1", "P1-C2", "E1", "E3", "E2"]
    assert ar_amounts(recorded_ar) == {
        "E1": Decimal("10.00"),
        "E2": Decimal("20.00"),
        "E3": Decimal("-5.00"),
    }
    remembered = state(warehouse)
    spec = KINDS["ledger_entries"]
    hashes = payload_hashes(records_frame(records, spec), spec)
    expected = dict(zip(records["external_id"], hashes, strict=True))
    assert remembered["payload_hash"].to_dict() == expected
    assert set(remembered["last_result"]) == {"created"}
    assert progress[-1].done == progress[-1].total == 3
    assert json.loads(json.dumps(report.summary()))["push"]["created"] == 3


def test_a_second_push_of_the_same_records_sends_nothing(
    recorded_ar: ARClient, recorder: Recorder, warehouse: Warehouse
) -> None:
    records = entries(E1="10.00", E2="20.00")
    pushed_once(recorded_ar, warehouse, recorder, records)

    again = push(recorded_ar, warehouse, "customers", PATIENTS)
    report = push(recorded_ar, warehouse, "ledger_entries", records)

    assert recorder.requests == []
    assert (again.counts.sent, again.counts.unchanged) == (0, 2)
    assert (report.counts.sent, report.counts.unchanged) == (0, 2)
    assert report.push is None
    assert report.clean


def test_one_changed_and_one_added_record_are_exactly_the_two_sent(
    recorded_ar: ARClient, recorder: Recorder, warehouse: Warehouse
) -> None:
    pushed_once(recorded_ar, warehouse, recorder, entries(E1="10.00", E2="20.00", E3="30.00"))
    changed = entries(E1="10.00", E2="25.00", E3="30.00", E4="40.00")

    report = push(recorded_ar, warehouse, "ledger_entries", changed)

    assert sorted(sent_external_ids(recorder.requests)) == ["E2", "E4"]
    assert (report.counts.sent, report.counts.unchanged) == (2, 2)
    assert (report.counts.created, report.counts.updated) == (1, 1)
    assert ar_amounts(recorded_ar)["E2"] == Decimal("25.00")
    assert state(warehouse).loc["E2", "last_result"] == "updated"


def test_a_changed_customer_is_pushed_again(
    recorded_ar: ARClient, recorder: Recorder, warehouse: Warehouse
) -> None:
    push(recorded_ar, warehouse, "customers", PATIENTS)
    recorder.requests.clear()
    renamed = PATIENTS.copy()
    renamed.loc[1, "last_name"] = "Åberg"

    report = push(recorded_ar, warehouse, "customers", renamed)

    assert sent_external_ids(recorder.requests) == ["P1-C2"]
    assert report.counts.updated == 1
    (customer,) = (c for c in recorded_ar.customers.list() if c.external_id == "P1-C2")
    assert (customer.first_name, customer.last_name) == ("Zoë", "Åberg")


def test_a_full_push_sends_every_record_again(
    recorded_ar: ARClient, recorder: Recorder, warehouse: Warehouse
) -> None:
    records = entries(E1="10.00", E2="20.00")
    pushed_once(recorded_ar, warehouse, recorder, records)

    report = push(recorded_ar, warehouse, "ledger_entries", records, full=True)

    assert sorted(sent_external_ids(recorder.requests)) == ["E1", "E2"]
    assert (report.counts.sent, report.counts.updated, report.counts.unchanged) == (2, 2, 0)
    assert set(state(warehouse)["last_result"]) == {"updated"}


def test_records_read_back_from_the_warehouse_are_not_taken_for_changes(
    recorded_ar: ARClient, recorder: Recorder, warehouse: Warehouse
) -> None:
    records = entries(E1="10.5", E2="20.00")
    records.loc[0, "amount_paid"] = Decimal("1.5")
    pushed_once(recorded_ar, warehouse, recorder, records)
    warehouse.upsert(LEDGER_ENTRIES, records.assign(practice_id="P1"))

    # Dates come back as dates and amounts with two places: the same payloads.
    stored = warehouse.read(LEDGER_ENTRIES, practice_id="P1")
    report = push(recorded_ar, warehouse, "ledger_entries", stored)

    assert recorder.requests == []
    assert report.counts.unchanged == 2


def test_records_with_no_external_id_are_refused_before_anything_is_sent(
    recorded_ar: ARClient, recorder: Recorder, warehouse: Warehouse
) -> None:
    records = entries(E1="10.00")
    records.loc[0, "external_id"] = None

    with pytest.raises(ValueError, match="external_id"):
        push(recorded_ar, warehouse, "ledger_entries", records)

    assert recorder.requests == []
