"""Statements API (004): list, get with entries, enrollment single and bulk."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.ar_sandbox.helpers import (
    enroll,
    entry,
    invoice,
    push_customers,
    push_entries,
    statements_of,
    the_004_flow,
)
from tests.conftest import data, error

MISSING = "00000000-0000-4000-8000-000000000000"


def _campaign(company: dict[str, Any], kind: str, mode: str = "live") -> str:
    found: str = next(
        c["id"] for c in company["campaigns"] if c["type"] == kind and c["mode"] == mode
    )
    return found


def test_the_end_to_end_flow_gives_the_documented_statement(live: httpx.Client) -> None:
    statement = the_004_flow(live)
    documented = {
        "external_invoice_id": "STMT-2026-05-PT-001",
        "invoice_number": "STMT-2026-05-PT-001",
        "billing_type": "statement",
        "amount": 240.0,
        "paid_amount": 100.0,
        "outstanding": 140.0,
        "currency": "USD",
        "status": "not_assigned",
        "enrollment_status": "not_enrolled",
        "period_start": "2026-05-01",
        "period_end": "2026-05-31",
        "due_date": "2026-10-28",
        "issue_date": "2026-05-01",
        "source": "api",
        "campaign_id": None,
    }
    assert {k: statement[k] for k in documented} == documented
    assert set(statement) >= {"id", "company_id", "customer_id", "created_at", "updated_at"}


def test_get_lists_the_months_rows_and_allocations_which_sum_to_outstanding(
    live: httpx.Client,
) -> None:
    statement = the_004_flow(live)
    detail = data(live.get(f"/statements/{statement['id']}"))
    entries = [(e["external_id"], e["transaction_type"], e["amount"]) for e in detail["entries"]]
    assert entries == [
        ("TX-1", "charge", 240.0),
        (f"ALLOC-TX-2-{statement['id']}", "payment_allocation", -100.0),
    ]
    assert sum(e[2] for e in entries) == detail["outstanding"]


def test_include_entries_false_leaves_the_entries_out(live: httpx.Client) -> None:
    statement = the_004_flow(live)
    detail = data(live.get(f"/statements/{statement['id']}", params={"include_entries": "false"}))
    assert detail["entries"] is None
    assert detail["outstanding"] == 140.0


def test_an_account_that_is_not_a_statement_is_a_404_here(live: httpx.Client) -> None:
    push_customers(live, "PT-001")
    data(live.post("/accounts/bulk", json={"accounts": [invoice("INV-1", "PT-001")]}))
    account = data(live.get("/accounts"))["accounts"][0]
    error(live.get(f"/statements/{account['id']}"), 404)
    error(live.get(f"/statements/{MISSING}"), 404)


def test_listing_is_newest_period_first_and_filters_by_customer_status_and_dates(
    live: httpx.Client, company: dict[str, Any]
) -> None:
    push_customers(live, "A", "B")
    push_entries(
        live,
        *[entry(f"A-{m}", "A", f"2026-{m:02}-05", "charge", 10 * m) for m in range(1, 5)],
        entry("B-1", "B", "2026-02-05", "charge", 7),
    )
    everything = data(live.get("/statements"))
    assert everything["total"] == 5
    starts = [s["period_start"] for s in everything["statements"]]
    assert starts == sorted(starts, reverse=True)
    assert [s["amount"] for s in statements_of(live, "A")] == [40.0, 30.0, 20.0, 10.0]
    customer_b = statements_of(live, "B")[0]["customer_id"]
    assert data(live.get("/statements", params={"customer_id": customer_b}))["total"] == 1
    window = data(
        live.get("/statements", params={"from_date": "2026-02-01", "to_date": "2026-03-31"})
    )
    assert sorted(s["external_invoice_id"] for s in window["statements"]) == [
        "STMT-2026-02-A",
        "STMT-2026-02-B",
        "STMT-2026-03-A",
    ]
    # to_date bounds period_end: a month ending after it is left out
    assert data(live.get("/statements", params={"to_date": "2026-03-30"}))["total"] == 3
    first = statements_of(live, "A")[-1]
    data(enroll(live, first["id"], company["sa_campaign_id"]))
    in_progress = data(live.get("/statements", params={"status": "in_progress"}))["statements"]
    assert [s["id"] for s in in_progress] == [first["id"]]
    paged = data(live.get("/statements", params={"per_page": 2, "page": 3}))
    assert (len(paged["statements"]), paged["total_pages"]) == (1, 3)
    error(live.get("/statements", params={"per_page": 101}), 422)
    error(live.get("/statements", params={"status": "nonsense"}), 422)


def test_enrolling_one_statement_moves_it_in_progress(
    live: httpx.Client, company: dict[str, Any]
) -> None:
    statement = the_004_flow(live)
    response = enroll(live, statement["id"], company["sa_campaign_id"])
    assert response.json()["message"] == "Statement enrolled in campaign"
    enrolled = data(response)
    assert (enrolled["campaign_id"], enrolled["enrolled_count"], enrolled["skipped_count"]) == (
        company["sa_campaign_id"],
        1,
        0,
    )
    (result,) = enrolled["results"]
    assert (result["invoice_id"], result["customer_id"], result["status"]) == (
        statement["id"],
        statement["customer_id"],
        "enrolled",
    )
    assert result["execution_id"]
    after = data(live.get(f"/statements/{statement['id']}"))
    assert (after["status"], after["enrollment_status"], after["campaign_id"]) == (
        "in_progress",
        "enrolled",
        company["sa_campaign_id"],
    )


def test_a_statement_cannot_be_enrolled_twice_while_its_execution_is_active(
    live: httpx.Client, company: dict[str, Any]
) -> None:
    statement = the_004_flow(live)
    data(enroll(live, statement["id"], company["sa_campaign_id"]))
    second = enroll(live, statement["id"], company["sa_campaign_id"])
    assert "active execution" in error(second, 400)["message"]


@pytest.mark.parametrize("kind", ["payment_reminder", "early_stage"])
def test_only_statement_acknowledgement_campaigns_take_statements(
    live: httpx.Client, company: dict[str, Any], kind: str
) -> None:
    statement = the_004_flow(live)
    body = error(
        enroll(live, statement["id"], _campaign(company, kind)),
        400,
    )
    assert "statement_acknowledgement" in body["message"]
    assert data(live.get(f"/statements/{statement['id']}"))["status"] == "not_assigned"


def test_enrolling_into_an_unknown_campaign_or_statement_is_a_404(
    live: httpx.Client, company: dict[str, Any]
) -> None:
    statement = the_004_flow(live)
    error(enroll(live, statement["id"], MISSING), 404)
    error(
        enroll(live, MISSING, company["sa_campaign_id"]),
        404,
    )
    error(live.post(f"/statements/{statement['id']}/campaign"), 422)  # campaign_id is required


def test_bulk_enrollment_enrolls_what_it_can_and_reports_the_rest(
    live: httpx.Client, company: dict[str, Any]
) -> None:
    push_customers(live, "A")
    push_entries(live, *[entry(f"A-{m}", "A", f"2026-{m:02}-05", "charge", 10) for m in (1, 2, 3)])
    ids = [s["id"] for s in statements_of(live, "A")]
    data(enroll(live, ids[0], company["sa_campaign_id"]))
    response = live.post(
        "/statements/campaign/bulk",
        json={"campaign_id": company["sa_campaign_id"], "statement_ids": [*ids, MISSING]},
    )
    assert response.json()["message"] == "2 statements enrolled in campaign"
    result = data(response)
    assert (result["enrolled_count"], result["skipped_count"]) == (2, 2)
    assert {r["invoice_id"] for r in result["results"]} == set(ids[1:])
    skipped = {s["statement_id"]: s["error"] for s in result["skipped_errors"]}
    assert skipped[MISSING] == "Statement not found"
    assert "active execution" in skipped[ids[0]]


def test_bulk_enrollment_omits_skipped_errors_when_there_are_none(
    live: httpx.Client, company: dict[str, Any]
) -> None:
    statement = the_004_flow(live)
    result = data(
        live.post(
            "/statements/campaign/bulk",
            json={"campaign_id": company["sa_campaign_id"], "statement_ids": [statement["id"]]},
        )
    )
    assert "skipped_errors" not in result
    assert result["enrolled_count"] == 1


def test_bulk_enrollment_with_no_valid_statement_is_a_400(
    live: httpx.Client, company: dict[str, Any]
) -> None:
    body = error(
        live.post(
            "/statements/campaign/bulk",
            json={"campaign_id": company["sa_campaign_id"], "statement_ids": [MISSING]},
        ),
        400,
    )
    assert "No valid statements" in body["message"]


def test_bulk_enrollment_checks_the_campaign_category(
    live: httpx.Client, company: dict[str, Any]
) -> None:
    statement = the_004_flow(live)
    body = {
        "campaign_id": _campaign(company, "payment_reminder"),
        "statement_ids": [statement["id"]],
    }
    error(live.post("/statements/campaign/bulk", json=body), 400)


def test_bulk_enrollment_takes_at_most_100_statements(
    live: httpx.Client, company: dict[str, Any]
) -> None:
    body = {"campaign_id": company["sa_campaign_id"], "statement_ids": [MISSING] * 101}
    error(live.post("/statements/campaign/bulk", json=body), 422)
    error(
        live.post(
            "/statements/campaign/bulk",
            json={"campaign_id": company["sa_campaign_id"], "statement_ids": []},
        ),
        422,
    )


def test_a_statement_whose_customer_was_deleted_cannot_be_enrolled(
    live: httpx.Client, company: dict[str, Any]
) -> None:
    statement = the_004_flow(live)
    data(live.delete(f"/customers/{statement['customer_id']}"))
    response = enroll(live, statement["id"], company["sa_campaign_id"])
    assert error(response, 400)["message"] == "Statement has no customer"
