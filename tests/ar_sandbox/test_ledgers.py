"""Ledgers API (001): push, the alias, list, get, and every documented error."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.ar_sandbox.helpers import (
    entry,
    push_customers,
    push_entries,
    statement_counts,
    statements_of,
    upsert_counts,
)
from tests.conftest import data, error

DOCUMENTED_PUSH = {
    "ledger_entries": [
        {
            "external_id": "TX-2026-05-001",
            "customer_external_id": "PT-001",
            "transaction_date": "2026-05-03",
            "transaction_type": "charge",
            "amount": 240.00,
            "procedure_code": "D0120",
            "description": "Periodic oral evaluation",
        },
        {
            "external_id": "TX-2026-05-002",
            "customer_external_id": "PT-001",
            "transaction_date": "2026-05-15",
            "transaction_type": "patient_payment",
            "amount": -100.00,
            "description": "Patient payment",
        },
    ]
}
DOCUMENTED_RESPONSE = {
    "ledger_entries": upsert_counts(total=2, created=2),
    "statements": statement_counts(total=1, created=1, allocations_created=1),
}


@pytest.mark.parametrize("path", ["/ledgers/bulk", "/ledgers/batch"])
def test_the_documented_push_gives_the_documented_response(live: httpx.Client, path: str) -> None:
    push_customers(live, "PT-001")
    response = live.post(path, json=DOCUMENTED_PUSH)
    assert response.json()["message"] == "Ledger entries processed"
    assert data(response) == DOCUMENTED_RESPONSE


def test_repushing_the_same_entries_counts_them_as_updated(live: httpx.Client) -> None:
    push_customers(live, "PT-001")
    data(live.post("/ledgers/bulk", json=DOCUMENTED_PUSH))
    again = data(live.post("/ledgers/bulk", json=DOCUMENTED_PUSH))
    assert again["ledger_entries"] == {
        **DOCUMENTED_RESPONSE["ledger_entries"],
        "created": 0,
        "updated": 2,
    }
    assert again["statements"] == statement_counts(total=1, skipped=1, allocations_created=1)


def test_an_unresolvable_customer_fails_that_record_and_lands_the_rest(live: httpx.Client) -> None:
    push_customers(live, "PT-001")
    result = push_entries(
        live,
        entry("T-1", "PT-001", "2026-05-03", "charge", 10),
        entry("T-2", "PT-404", "2026-05-03", "charge", 20),
    )
    counts = result["ledger_entries"]
    assert (counts["total"], counts["created"], counts["failed"]) == (2, 1, 1)
    (failure,) = counts["errors"]
    assert failure["index"] == 1
    assert failure["external_id"] == "T-2"
    assert "PT-404" in failure["error"]
    assert [s["amount"] for s in statements_of(live, "PT-001")] == [10.0]


def test_a_customer_id_that_does_not_exist_fails_per_record(live: httpx.Client) -> None:
    body = {
        "ledger_entries": [
            {
                "external_id": "T-1",
                "customer_id": "00000000-0000-4000-8000-000000000000",
                "transaction_date": "2026-05-03",
                "transaction_type": "charge",
                "amount": 1,
            }
        ]
    }
    assert data(live.post("/ledgers/bulk", json=body))["ledger_entries"]["failed"] == 1


BAD_RECORDS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown type", {"transaction_type": "refund"}, "transaction_type"),
    ("synthetic type", {"transaction_type": "payment_allocation"}, "transaction_type"),
    ("three decimals", {"amount": 10.005}, "amount"),
    ("negative charge", {"amount": -5}, "amount"),
    ("positive credit", {"transaction_type": "other_credit", "amount": 5}, "amount"),
    ("positive payment", {"transaction_type": "insurance_payment", "amount": 5}, "amount"),
    ("amount as text", {"amount": "10.00"}, "amount"),
    ("too large", {"amount": 10_000_000_000}, "amount"),
    ("not a date", {"transaction_date": "2026-13-01"}, "transaction_date"),
    ("reserved prefix", {"external_id": "ALLOC-1"}, "external_id"),
    ("empty external id", {"external_id": ""}, "external_id"),
    ("no customer", {"customer_external_id": None}, "customer_external_id"),
]


@pytest.mark.parametrize(
    ("change", "field"), [(c, f) for _, c, f in BAD_RECORDS], ids=[n for n, _, _ in BAD_RECORDS]
)
def test_a_malformed_record_refuses_the_request_naming_index_and_field(
    live: httpx.Client, change: dict[str, Any], field: str
) -> None:
    push_customers(live, "PT-001")
    good = entry("T-1", "PT-001", "2026-05-03", "charge", 10)
    bad = {**entry("T-2", "PT-001", "2026-05-04", "charge", 10), **change}
    body = error(live.post("/ledgers/bulk", json={"ledger_entries": [good, bad]}), 422)
    assert (body["errors"][0]["index"], body["errors"][0]["field"]) == (1, field)
    assert data(live.get("/ledgers"))["total"] == 0  # nothing landed


def test_an_overlong_external_id_is_refused_in_characters(live: httpx.Client) -> None:
    push_customers(live, "PT-001")
    bad = entry("X" * 101, "PT-001", "2026-05-04", "charge", 10)
    body = error(live.post("/ledgers/bulk", json={"ledger_entries": [bad]}), 422)
    assert body["errors"][0]["message"] == "String should have at most 100 characters"


def test_a_missing_required_field_is_a_422(live: httpx.Client) -> None:
    record = entry("T-1", "PT-001", "2026-05-03", "charge", 10)
    del record["transaction_date"]
    body = error(live.post("/ledgers/bulk", json={"ledger_entries": [record]}), 422)
    assert body["errors"][0]["field"] == "transaction_date"


def test_500_entries_are_accepted_and_501_refused(live: httpx.Client) -> None:
    push_customers(live, "PT-001")
    many = [entry(f"T-{i}", "PT-001", "2026-05-03", "charge", 1) for i in range(501)]
    assert push_entries(live, *many[:500])["ledger_entries"]["created"] == 500
    error(live.post("/ledgers/bulk", json={"ledger_entries": many}), 422)


def test_amounts_add_up_exactly_in_cents(live: httpx.Client) -> None:
    push_customers(live, "PT-001")
    push_entries(
        live,
        entry("T-1", "PT-001", "2026-05-03", "charge", 0.1),
        entry("T-2", "PT-001", "2026-05-04", "charge", 0.2),
        entry("T-3", "PT-001", "2026-05-05", "charge", 9_999_999_999.99),
    )
    listed = json.loads(live.get("/statements").content, parse_float=Decimal)
    assert listed["data"]["statements"][0]["amount"] == Decimal("10000000000.29")


def _listed(live: httpx.Client, **params: Any) -> list[str]:
    return [e["external_id"] for e in data(live.get("/ledgers", params=params))["entries"]]


def test_listing_is_newest_first_and_filters_as_documented(live: httpx.Client) -> None:
    push_customers(live, "A", "B")
    push_entries(
        live,
        entry("A-1", "A", "2026-01-10", "charge", 10),
        entry("A-2", "A", "2026-03-10", "charge", 10),
        entry("B-1", "B", "2026-02-10", "charge", 10),
        entry("B-2", "B", "2026-02-20", "patient_payment", -5),
    )
    dates = [e["transaction_date"] for e in data(live.get("/ledgers"))["entries"]]
    assert dates == sorted(dates, reverse=True)
    assert _listed(live, customer_external_id="A") == ["A-2", "A-1"]
    customer_b = data(live.get("/customers", params={"search": "b@"}))["customers"][0]["id"]
    assert set(_listed(live, customer_id=customer_b)) >= {"B-1", "B-2"}
    assert _listed(live, from_date="2026-02-01", to_date="2026-02-15") == ["B-1"]
    assert _listed(live, transaction_type="patient_payment") == ["B-2"]
    allocations = _listed(live, transaction_type="payment_allocation")
    assert len(allocations) == 1
    assert allocations[0].startswith("ALLOC-B-2-")


def test_listing_pages_at_most_200_entries(live: httpx.Client) -> None:
    push_customers(live, "PT-001")
    push_entries(
        live, *[entry(f"T-{i:03}", "PT-001", "2026-05-03", "charge", 1) for i in range(205)]
    )
    default = data(live.get("/ledgers"))
    assert (
        default["per_page"],
        len(default["entries"]),
        default["total"],
        default["total_pages"],
    ) == (50, 50, 205, 5)
    page = data(live.get("/ledgers", params={"per_page": 200, "page": 2}))
    assert len(page["entries"]) == 5
    error(live.get("/ledgers", params={"per_page": 201}), 422)


def test_get_returns_the_same_shape_as_the_list(live: httpx.Client) -> None:
    push_customers(live, "PT-001")
    push_entries(live, entry("T-1", "PT-001", "2026-05-03", "charge", 12.5, procedure_code="D0120"))
    listed = data(live.get("/ledgers"))["entries"][0]
    got = live.get(f"/ledgers/{listed['id']}")
    assert got.json()["message"] == "Ledger entry retrieved"
    assert data(got) == listed
    assert listed["invoice_id"] == statements_of(live, "PT-001")[0]["id"]


def test_an_unknown_ledger_id_is_a_404(live: httpx.Client) -> None:
    error(live.get("/ledgers/00000000-0000-4000-8000-000000000000"), 404)


def test_optional_sikka_fields_round_trip(live: httpx.Client) -> None:
    push_customers(live, "PT-001")
    record = entry(
        "T-1",
        "PT-001",
        "2026-05-03",
        "charge",
        100,
        amount_paid=40.25,
        estimated_insurance=60.5,
        payment_link_id="P-9",
        procedure_code="D2391",
        description="Resin composite",
    )
    push_entries(live, record)
    stored = data(live.get("/ledgers"))["entries"][0]
    for name in (
        "amount_paid",
        "estimated_insurance",
        "payment_link_id",
        "procedure_code",
        "description",
    ):
        assert stored[name] == record[name]
