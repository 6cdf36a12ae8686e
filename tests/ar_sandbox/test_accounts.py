"""Accounts (invoices), payments against them, and disputes on them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.ar_sandbox.helpers import invoice, push_customers, the_004_flow
from tests.conftest import data, error


def _one(live: httpx.Client, **fields: Any) -> dict[str, Any]:
    push_customers(live, "PT-001")
    data(live.post("/accounts/bulk", json={"accounts": [invoice("INV-1", "PT-001", **fields)]}))
    account: dict[str, Any] = data(live.get("/accounts", params={"billing_type": "standard"}))[
        "accounts"
    ][0]
    return account


@pytest.mark.parametrize(
    ("path", "key"), [("/accounts/bulk", "accounts"), ("/invoices/batch", "invoices")]
)
def test_accounts_upsert_by_external_id_on_both_paths(
    live: httpx.Client, path: str, key: str
) -> None:
    push_customers(live, "PT-001")
    record = invoice(
        "INV-1", "PT-001", amount=120.5, invoice_number="A-100", currency="usd", description="Crown"
    )
    first = data(live.post(path, json={key: [record]}))
    assert (first["created"], first["updated"]) == (1, 0)
    second = data(live.post(path, json={key: [{**record, "amount": 130}]}))
    assert (second["created"], second["updated"]) == (0, 1)
    (account,) = data(live.get("/accounts"))["accounts"]
    expected = {
        "external_id": "INV-1",
        "invoice_number": "A-100",
        "billing_type": "standard",
        "amount": 130.0,
        "paid_amount": 0.0,
        "outstanding": 130.0,
        "currency": "USD",
        "status": "not_assigned",
        "issue_date": "2026-01-01",
        "due_date": "2099-01-31",
        "description": "Crown",
    }
    assert {k: account[k] for k in expected} == expected
    assert data(live.get(f"/accounts/{account['id']}")) == account


def test_an_account_with_an_unknown_customer_fails_per_record(live: httpx.Client) -> None:
    result = data(live.post("/accounts/bulk", json={"accounts": [invoice("INV-1", "NOBODY")]}))
    assert (result["failed"], result["errors"][0]["index"], result["errors"][0]["external_id"]) == (
        1,
        0,
        "INV-1",
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"due_date": "2025-12-31"}, "due_date"),
        ({"amount": -1}, "amount"),
        ({"currency": "DOLLARS"}, "currency"),
        ({"external_id": "STMT-2026-01-X"}, "external_id"),
    ],
)
def test_a_malformed_account_is_a_422(
    live: httpx.Client, change: dict[str, Any], field: str
) -> None:
    body = error(
        live.post("/accounts/bulk", json={"accounts": [{**invoice("INV-1", "PT-001"), **change}]}),
        422,
    )
    assert (body["errors"][0]["index"], body["errors"][0]["field"]) == (0, field)


def test_statements_are_listed_among_accounts_and_cannot_be_overwritten(live: httpx.Client) -> None:
    statement = the_004_flow(live)
    listed = data(live.get("/accounts", params={"billing_type": "statement"}))["accounts"]
    assert [a["id"] for a in listed] == [statement["id"]]


def test_a_payment_raises_the_paid_amount_and_a_full_one_marks_it_paid(live: httpx.Client) -> None:
    account = _one(live, amount=100)
    first = data(
        live.post(
            f"/accounts/{account['id']}/payments",
            json={"amount": 40.25, "payment_method": "card", "payment_date": "2026-01-15"},
        )
    )
    assert (
        first["account"]["paid_amount"],
        first["account"]["outstanding"],
        first["account"]["status"],
    ) == (40.25, 59.75, "not_assigned")
    assert first["payment"]["payment_date"] == "2026-01-15"
    final = data(
        live.post(
            f"/accounts/{account['id']}/payments",
            json={"amount": 59.75, "payment_date": "2026-02-01"},
        )
    )
    assert (final["account"]["outstanding"], final["account"]["status"]) == (0.0, "paid_in_full")
    payments = data(live.get(f"/accounts/{account['id']}/payments"))
    assert [p["amount"] for p in payments["payments"]] == [59.75, 40.25]  # newest payment first
    assert payments["total"] == 2
    one = payments["payments"][0]
    assert data(live.get(f"/payments/{one['id']}")) == one
    assert data(live.get("/payments", params={"account_id": account["id"]}))["total"] == 2


def test_a_payment_larger_than_the_outstanding_balance_is_refused(live: httpx.Client) -> None:
    account = _one(live, amount=100)
    error(live.post(f"/accounts/{account['id']}/payments", json={"amount": 100.01}), 400)
    error(live.post(f"/accounts/{account['id']}/payments", json={"amount": 0}), 422)
    assert data(live.get(f"/accounts/{account['id']}"))["paid_amount"] == 0.0


def test_a_payment_sent_twice_with_its_external_id_is_recorded_once(live: httpx.Client) -> None:
    account = _one(live, amount=100)
    body = {"amount": 30, "external_id": "PAY-1"}
    first = live.post(f"/accounts/{account['id']}/payments", json=body)
    second = live.post(f"/accounts/{account['id']}/payments", json=body)
    assert data(first)["payment"]["id"] == data(second)["payment"]["id"]
    assert second.json()["message"] == "Payment already recorded"
    assert data(live.get(f"/accounts/{account['id']}"))["paid_amount"] == 30.0
    error(
        live.post(
            f"/accounts/{account['id']}/payments", json={"amount": 31, "external_id": "PAY-1"}
        ),
        409,
    )


def test_payments_on_statements_go_through_the_ledger(live: httpx.Client) -> None:
    statement = the_004_flow(live)
    assert (
        "ledger"
        in error(live.post(f"/accounts/{statement['id']}/payments", json={"amount": 1}), 400)[
            "message"
        ].lower()
    )


def test_a_dispute_marks_the_account_disputed(live: httpx.Client) -> None:
    account = _one(live, amount=100)
    opened = data(
        live.post(
            f"/accounts/{account['id']}/disputes", json={"reason": "Not my invoice", "amount": 50}
        )
    )
    assert (
        opened["dispute"]["status"],
        opened["dispute"]["amount"],
        opened["account"]["status"],
    ) == ("open", 50.0, "disputed")
    listed = data(live.get(f"/accounts/{account['id']}/disputes"))["disputes"]
    assert [d["reason"] for d in listed] == ["Not my invoice"]
    assert data(live.get(f"/disputes/{listed[0]['id']}")) == listed[0]
    assert data(live.get("/disputes"))["total"] == 1
    error(live.post(f"/accounts/{account['id']}/disputes", json={"reason": ""}), 422)
    error(
        live.post(f"/accounts/{account['id']}/disputes", json={"reason": "x", "amount": 101}), 400
    )


def test_a_disputed_statement_keeps_its_status_through_aggregation(live: httpx.Client) -> None:
    statement = the_004_flow(live)
    data(live.post(f"/accounts/{statement['id']}/disputes", json={"reason": "Wrong charge"}))
    data(
        live.post(
            "/ledgers/bulk",
            json={
                "ledger_entries": [
                    {
                        "external_id": "TX-3",
                        "customer_external_id": "PT-001",
                        "transaction_date": "2026-05-20",
                        "transaction_type": "charge",
                        "amount": 10,
                    }
                ]
            },
        )
    )
    after = data(live.get(f"/statements/{statement['id']}"))
    assert (after["status"], after["amount"]) == ("disputed", 250.0)
