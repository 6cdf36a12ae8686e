"""The combined ``POST /sync``: customers, then invoices, then ledger entries."""

from __future__ import annotations

import httpx

from tests.ar_sandbox.helpers import customer, entry, invoice, statement_counts, upsert_counts
from tests.conftest import data, error


def test_one_sync_creates_customers_before_the_entries_that_name_them(live: httpx.Client) -> None:
    body = {
        "customers": [customer("PT-001")],
        "invoices": [invoice("INV-1", "PT-001")],
        "ledger_entries": [
            entry("TX-1", "PT-001", "2026-05-03", "charge", 240),
            entry("TX-2", "PT-001", "2026-05-15", "patient_payment", -100),
        ],
    }
    response = live.post("/sync", json=body)
    assert response.json()["message"] == "Sync completed successfully"
    result = data(response)
    assert result["customers"]["created"] == 1
    assert result["invoices"]["created"] == 1
    assert result["ledger_entries"] == upsert_counts(total=2, created=2)
    assert result["statements"] == statement_counts(total=1, created=1, allocations_created=1)


def test_statements_stay_at_zero_when_no_ledger_entries_are_sent(live: httpx.Client) -> None:
    result = data(live.post("/sync", json={"customers": [customer("PT-001")]}))
    assert result["ledger_entries"] == upsert_counts()
    assert result["statements"] == statement_counts()


def test_a_sync_with_every_list_empty_is_a_422(live: httpx.Client) -> None:
    error(live.post("/sync", json={}), 422)
    error(live.post("/sync", json={"customers": [], "invoices": [], "ledger_entries": []}), 422)


def test_sync_limits_are_100_customers_100_invoices_500_entries(live: httpx.Client) -> None:
    error(live.post("/sync", json={"customers": [customer(f"C-{i}") for i in range(101)]}), 422)
    error(live.post("/sync", json={"invoices": [invoice(f"I-{i}", "C") for i in range(101)]}), 422)
    entries = [entry(f"T-{i}", "C", "2026-01-01", "charge", 1) for i in range(501)]
    error(live.post("/sync", json={"ledger_entries": entries}), 422)


def test_a_failing_sync_lands_nothing(live: httpx.Client) -> None:
    body = {
        "customers": [customer("PT-001")],
        "ledger_entries": [entry("TX-1", "PT-001", "2026-05-03", "charge", 1.001)],
    }
    error(live.post("/sync", json=body), 422)
    assert data(live.get("/customers"))["total"] == 0
