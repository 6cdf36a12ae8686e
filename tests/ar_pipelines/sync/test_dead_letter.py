"""Records AR refuses wait in the dead letter, with the server's message, and go again
every run until they land."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ar_pipelines.client import ARClient
from ar_pipelines.sync import SyncReport
from ar_pipelines.warehouse import Warehouse
from tests.ar_pipelines.sync.helpers import ar_amounts, dead_letters, push, push_customers, state
from tests.ar_pipelines.warehouse.frames import ledger, ledger_row

NOTHING_NEW = ledger()


def pushed_beside_a_good_entry(
    ar: ARClient, warehouse: Warehouse, bad: dict[str, Any]
) -> SyncReport:
    """Customer P1-C1 pushed, then its entry E1 and ``bad`` together."""
    push_customers(ar, warehouse, "P1-C1")
    good = ledger_row("E1", "10.00", customer_external_id="P1-C1")
    return push(ar, warehouse, "ledger_entries", ledger(good, bad))


def test_an_entry_whose_customer_is_missing_waits_in_the_dead_letter(
    ar: ARClient, warehouse: Warehouse
) -> None:
    report = pushed_beside_a_good_entry(
        ar, warehouse, ledger_row("E2", "20.00", customer_external_id="P1-C9", description="Crown")
    )

    assert not report.clean
    assert (report.counts.created, report.counts.failed, report.dead_letter_size) == (1, 1, 1)
    waiting = dead_letters(warehouse).loc["E2"].to_dict()
    assert "P1-C9" in waiting["reason"]
    assert waiting["attempts"] == 1
    assert json.loads(waiting["payload"]) == {
        "external_id": "E2",
        "customer_external_id": "P1-C9",
        "transaction_date": "2024-01-15",
        "transaction_type": "charge",
        "amount": "20.00",
        "description": "Crown",
    }
    remembered = state(warehouse).loc["E2"]
    assert (remembered["last_result"], remembered["message"]) == ("failed", waiting["reason"])
    assert report.issue_samples() == [
        {"index": 1, "external_id": "E2", "reason": waiting["reason"]}
    ]


def test_a_dead_letter_is_retried_every_run_and_leaves_once_it_lands(
    ar: ARClient, warehouse: Warehouse
) -> None:
    records = ledger(ledger_row("E1", "10.00", customer_external_id="P1-C1"))
    push(ar, warehouse, "ledger_entries", records)

    # The next runs read nothing new from the source: the dead letter alone is retried.
    retried = push(ar, warehouse, "ledger_entries", NOTHING_NEW)
    assert (retried.counts.retried_from_dead_letter, retried.counts.failed) == (1, 1)
    assert dead_letters(warehouse).loc["E1", "attempts"] == 2

    push_customers(ar, warehouse, "P1-C1")
    landed = push(ar, warehouse, "ledger_entries", NOTHING_NEW)

    assert landed.clean
    assert (landed.counts.retried_from_dead_letter, landed.counts.created) == (1, 1)
    assert dead_letters(warehouse).empty
    assert landed.dead_letter_size == 0
    assert state(warehouse).loc["E1", "last_result"] == "created"
    assert ar_amounts(ar) == {"E1": Decimal("10.00")}
    quiet = push(ar, warehouse, "ledger_entries", records)
    assert quiet.counts.sent == 0


def test_a_newer_record_is_sent_instead_of_the_dead_letters_payload(
    ar: ARClient, warehouse: Warehouse
) -> None:
    push_customers(ar, warehouse, "P1-C1")
    refused = ledger(ledger_row("E1", "10.00", customer_external_id="P1-C9"))
    push(ar, warehouse, "ledger_entries", refused)
    newer = ledger(ledger_row("E1", "12.00", customer_external_id="P1-C1"))

    report = push(ar, warehouse, "ledger_entries", newer)

    assert (report.counts.sent, report.counts.created) == (1, 1)
    assert report.counts.retried_from_dead_letter == 1
    assert ar_amounts(ar) == {"E1": Decimal("12.00")}
    assert dead_letters(warehouse).empty


def test_a_record_the_server_rejects_waits_in_the_dead_letter_too(
    ar: ARClient, warehouse: Warehouse
) -> None:
    # A charge must be >= 0.
    report = pushed_beside_a_good_entry(
        ar, warehouse, ledger_row("E2", "-10.00", customer_external_id="P1-C1")
    )

    assert (report.counts.created, report.counts.rejected) == (1, 1)
    waiting = dead_letters(warehouse)
    assert list(waiting.index) == ["E2"]
    assert "amount" in str(waiting.loc["E2", "reason"])
    assert state(warehouse).loc["E2", "last_result"] == "rejected"
    assert ar_amounts(ar) == {"E1": Decimal("10.00")}


def test_dead_letters_are_kept_per_kind(ar: ARClient, warehouse: Warehouse) -> None:
    refused = ledger(ledger_row("P1-7", "10.00", customer_external_id="P1-C9"))
    push(ar, warehouse, "ledger_entries", refused)

    # A customer whose id happens to equal the refused entry's lands without touching it.
    report = push_customers(ar, warehouse, "P1-7")

    assert report.clean
    assert list(dead_letters(warehouse).index) == ["P1-7"]
    assert dead_letters(warehouse, "customers").empty
