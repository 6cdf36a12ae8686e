"""Small builders for request bodies used across the sandbox tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import data


def upsert_counts(**counts: int) -> dict[str, Any]:
    """A bulk upsert's counts as the API answers them: the ones named, 0 for the rest."""
    base: dict[str, Any] = {"total": 0, "created": 0, "updated": 0, "skipped": 0, "failed": 0}
    return {**base, **counts, "errors": []}


def statement_counts(**counts: int) -> dict[str, int]:
    """A push's statement counts as the API answers them: the ones named, 0 for the rest."""
    base = {"total": 0, "created": 0, "updated": 0, "skipped": 0, "failed": 0}
    return {**base, "allocations_created": 0, **counts}


def customer(external_id: str, **fields: Any) -> dict[str, Any]:
    return {"external_id": external_id, "email": f"{external_id.lower()}@example.com", **fields}


def entry(
    external_id: str,
    customer_external_id: str,
    day: str,
    kind: str,
    amount: float | int | str,
    **fields: Any,
) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "customer_external_id": customer_external_id,
        "transaction_date": day,
        "transaction_type": kind,
        "amount": amount,
        **fields,
    }


def push_customers(client: httpx.Client, *external_ids: str) -> dict[str, Any]:
    body = {"customers": [customer(e) for e in external_ids]}
    result: dict[str, Any] = data(client.post("/customers/bulk", json=body))
    return result


def push_entries(client: httpx.Client, *entries: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = data(
        client.post("/ledgers/bulk", json={"ledger_entries": list(entries)})
    )
    return result


def statements_of(client: httpx.Client, customer_external_id: str) -> list[dict[str, Any]]:
    listed = data(client.get("/statements", params={"customer_external_id": customer_external_id}))
    return list(listed["statements"])


def enroll(client: httpx.Client, statement_id: str, campaign_id: str) -> httpx.Response:
    """Ask to enroll one statement into a campaign."""
    return client.post(f"/statements/{statement_id}/campaign", params={"campaign_id": campaign_id})


def assign(
    client: httpx.Client, account_id: str, campaign_id: str, **fields: Any
) -> httpx.Response:
    """Ask to assign one account to a campaign."""
    body = {"campaign_id": campaign_id, **fields}
    return client.post(f"/accounts/{account_id}/campaign", json=body)


def the_004_flow(client: httpx.Client) -> dict[str, Any]:
    """Customer PT-001 with the documented charge and payment; returns the statement."""
    push_customers(client, "PT-001")
    push_entries(
        client,
        entry("TX-1", "PT-001", "2026-05-03", "charge", 240),
        entry("TX-2", "PT-001", "2026-05-15", "patient_payment", -100),
    )
    (statement,) = statements_of(client, "PT-001")
    return statement


def invoice(
    external_id: str, customer_external_id: str, amount: float = 100.0, **fields: Any
) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "customer_external_id": customer_external_id,
        "amount": amount,
        "issue_date": "2026-01-01",
        "due_date": "2099-01-31",
        **fields,
    }
