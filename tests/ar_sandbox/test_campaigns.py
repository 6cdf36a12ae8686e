"""Campaigns API (003): list, get, assignment, and the enrollment rules."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ar_sandbox.admin import create_campaign
from tests.ar_sandbox.helpers import assign, enroll, invoice, push_customers, the_004_flow
from tests.conftest import data, error
from tests.sandbox_server import RunningSandbox

SANDBOX = "/api/v1/sandbox"


def _campaign(sandbox: RunningSandbox, company: dict[str, Any], **fields: Any) -> str:
    info = sandbox.database.run(
        lambda s: create_campaign(s, company_id=company["company_id"], mode="live", **fields)
    )
    return info.id


def _account(
    live: httpx.Client, external_id: str = "INV-1", customer: str = "PT-001", **fields: Any
) -> dict[str, Any]:
    push_customers(live, customer)
    data(live.post("/accounts/bulk", json={"accounts": [invoice(external_id, customer, **fields)]}))
    found: dict[str, Any] = next(
        a for a in data(live.get("/accounts"))["accounts"] if a["external_id"] == external_id
    )
    return found


def _advance_url(live: httpx.Client, execution_id: str) -> str:
    return str(live.base_url.copy_with(path=f"{SANDBOX}/executions/{execution_id}/advance"))


def _advance(live: httpx.Client, execution_id: str, to: str = "completed") -> dict[str, Any]:
    result: dict[str, Any] = data(live.post(_advance_url(live, execution_id), params={"to": to}))
    return result


def test_bootstrap_gives_the_three_documented_campaigns(
    live: httpx.Client, company: dict[str, Any]
) -> None:
    listed = data(live.get("/campaigns"))
    kinds = {(c["type"], c["status"]) for c in listed["campaigns"]}
    assert kinds == {
        ("statement_acknowledgement", "active"),
        ("payment_reminder", "active"),
        ("early_stage", "draft"),
    }
    sa = data(live.get(f"/campaigns/{company['sa_campaign_id']}"))
    assert (sa["category"], sa["accepts_enrollments"]) == ("statement_acknowledgement", True)


def test_campaigns_filter_by_search_status_and_type(live: httpx.Client) -> None:
    assert [
        c["name"] for c in data(live.get("/campaigns", params={"search": "remind"}))["campaigns"]
    ] == ["Payment Reminder"]
    assert [
        c["type"] for c in data(live.get("/campaigns", params={"status": "draft"}))["campaigns"]
    ] == ["early_stage"]
    assert data(live.get("/campaigns", params={"type": "statement_acknowledgement"}))["total"] == 1
    assert data(live.get("/campaigns", params={"per_page": 1, "page": 2}))["total_pages"] == 3
    error(live.get("/campaigns", params={"status": "bogus"}), 422)
    error(live.get("/campaigns/00000000-0000-4000-8000-000000000000"), 404)


def _reminder(company: dict[str, Any]) -> str:
    found: str = next(
        c["id"]
        for c in company["campaigns"]
        if c["type"] == "payment_reminder" and c["mode"] == "live"
    )
    return found


def test_assigning_an_account_starts_an_execution(
    live: httpx.Client, company: dict[str, Any]
) -> None:
    account = _account(live)
    result = data(assign(live, account["id"], _reminder(company)))
    (enrolled,) = result["results"]
    assert (enrolled["invoice_id"], enrolled["status"]) == (account["id"], "enrolled")
    assert data(live.get(f"/accounts/{account['id']}"))["status"] == "in_progress"


def test_one_active_execution_per_invoice(live: httpx.Client, company: dict[str, Any]) -> None:
    account = _account(live)
    data(assign(live, account["id"], _reminder(company)))
    body = error(
        assign(live, account["id"], _reminder(company)),
        400,
    )
    assert body["message"] == (
        "Invoice has an active execution in another campaign. "
        "Please wait for the current campaign to complete before reassigning."
    )


def test_a_past_due_invoice_is_refused_by_payment_reminders_but_not_by_early_stage(
    sandbox: RunningSandbox, live: httpx.Client, company: dict[str, Any]
) -> None:
    account = _account(live, due_date="2020-01-31", issue_date="2020-01-01")
    body = error(
        assign(live, account["id"], _reminder(company)),
        400,
    )
    assert body["message"].startswith(
        "Invoice is past its due date and cannot be enrolled in a payment reminder campaign."
    )
    early = _campaign(sandbox, company, name="Early", type="early_stage")
    data(assign(live, account["id"], early))


@pytest.mark.parametrize(
    ("status", "accepts"),
    [
        ("draft", False),
        ("scheduled", False),
        ("active", True),
        ("running", True),
        ("paused", True),
        ("completed", False),
        ("cancelled", False),
    ],
)
def test_which_campaign_statuses_accept_new_enrollments(
    sandbox: RunningSandbox, live: httpx.Client, company: dict[str, Any], status: str, accepts: bool
) -> None:
    account = _account(live)
    campaign = _campaign(sandbox, company, name=f"C {status}", type="first_party", status=status)
    response = assign(live, account["id"], campaign)
    if accepts:
        data(response)
    else:
        assert status in error(response, 400)["message"]


def test_an_unknown_invoice_or_one_of_another_customer_is_refused(
    live: httpx.Client, company: dict[str, Any]
) -> None:
    account = _account(live)
    missing = assign(live, "00000000-0000-4000-8000-000000000000", _reminder(company))
    assert error(missing, 404)["message"] == "Invoice or Customer not found or access denied"
    push_customers(live, "PT-OTHER")
    other = data(live.get("/customers", params={"search": "pt-other"}))["customers"][0]["id"]
    wrong = assign(live, account["id"], _reminder(company), customer_id=other)
    assert error(wrong, 400)["message"] == "Invoice does not belong to this customer"


def test_statements_and_accounts_keep_to_their_own_campaign_categories(
    live: httpx.Client, company: dict[str, Any]
) -> None:
    statement = the_004_flow(live)
    account = _account(live, customer="PT-002")
    error(
        assign(live, statement["id"], _reminder(company)),
        400,
    )
    error(
        assign(live, account["id"], company["sa_campaign_id"]),
        400,
    )


def test_bulk_assignment_reports_each_account(live: httpx.Client, company: dict[str, Any]) -> None:
    first = _account(live, "INV-1")
    second = _account(live, "INV-2")
    data(assign(live, second["id"], _reminder(company)))
    missing = "00000000-0000-4000-8000-000000000000"
    response = live.post(
        "/accounts/campaign/bulk",
        json={
            "campaign_id": _reminder(company),
            "account_ids": [first["id"], second["id"], missing],
        },
    )
    assert response.json()["message"] == "Campaign assignment processed"
    result = data(response)
    assert (
        result["total_enrollments"],
        result["successful_enrollments"],
        result["failed_enrollments"],
    ) == (3, 1, 2)
    by_id = {r["invoice_id"]: r for r in result["results"]}
    assert (by_id[first["id"]]["status"], by_id[first["id"]]["invoice_number"]) == (
        "SUCCESS",
        "INV-1",
    )
    assert by_id[second["id"]]["status"] == "FAILED"
    assert "active execution" in by_id[second["id"]]["error"]
    assert by_id[missing]["error"] == "Invoice or Customer not found or access denied"
    error(
        live.post(
            "/accounts/campaign/bulk",
            json={"campaign_id": _reminder(company), "account_ids": [missing] * 101},
        ),
        422,
    )


def test_after_a_campaign_completes_the_invoice_waits_for_collection_and_can_be_enrolled_again(
    live: httpx.Client, company: dict[str, Any]
) -> None:
    statement = the_004_flow(live)
    sa = company["sa_campaign_id"]
    execution = data(enroll(live, statement["id"], sa))["results"][0]["execution_id"]
    step = _advance(live, execution, "running")
    assert step["execution"]["status"] == "running"
    error(enroll(live, statement["id"], sa), 400)  # still active
    done = _advance(live, execution)
    assert (done["execution"]["status"], done["invoice_status"], done["next_execution"]) == (
        "completed",
        "pending_collection",
        None,
    )
    assert data(live.get(f"/statements/{statement['id']}"))["status"] == "pending_collection"
    again = data(enroll(live, statement["id"], sa))
    assert again["results"][0]["execution_id"] != execution


def test_a_completed_campaign_chains_into_its_next_campaign(
    sandbox: RunningSandbox, live: httpx.Client, company: dict[str, Any]
) -> None:
    first_party = _campaign(sandbox, company, name="First party", type="first_party")
    early = _campaign(
        sandbox, company, name="Early", type="early_stage", next_campaign_id=first_party
    )
    account = _account(live)
    execution = data(assign(live, account["id"], early))["results"][0]["execution_id"]
    done = _advance(live, execution)
    assert done["next_execution"]["campaign_id"] == first_party
    after = data(live.get(f"/accounts/{account['id']}"))
    assert (after["status"], after["campaign_id"]) == ("in_progress", first_party)


def test_an_execution_cannot_go_backwards(live: httpx.Client, company: dict[str, Any]) -> None:
    statement = the_004_flow(live)
    enrolled = data(enroll(live, statement["id"], company["sa_campaign_id"]))
    execution = enrolled["results"][0]["execution_id"]
    _advance(live, execution, "waiting")
    response = live.post(_advance_url(live, execution), params={"to": "running"})
    error(response, 422)
