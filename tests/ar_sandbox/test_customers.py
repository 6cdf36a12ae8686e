"""Customers API (002): create, list, get, update, soft-delete, bulk upsert."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.ar_sandbox.helpers import customer, push_customers, upsert_counts
from tests.conftest import data, error

JANE = {
    "email": "jane@example.com",
    "firstName": "Jane",
    "lastName": "Doe",
    "phone": "+15550001234",
    "companyName": "Acme Corp",
    "external_id": "cust-001",
    "tags": ["vip"],
    "custom_fields": {"account_type": "premium"},
    "communication_preferences": {"sms": True, "email": True, "voice": False},
}


def test_creating_the_documented_customer_returns_the_documented_fields(live: httpx.Client) -> None:
    response = live.post("/customers", json=JANE)
    body = response.json()
    assert body["message"] == "Customer created successfully"
    created = data(response)
    expected = {
        "email": "jane@example.com",
        "phone": "+15550001234",
        "first_name": "Jane",
        "last_name": "Doe",
        "company_name": "Acme Corp",
        "external_id": "cust-001",
        "tags": ["vip"],
        "custom_fields": {"account_type": "premium"},
    }
    assert {k: created[k] for k in expected} == expected
    assert data(live.get(f"/customers/{created['id']}")) == created


def test_snake_case_names_are_accepted_as_well_as_camel_case(live: httpx.Client) -> None:
    created = data(live.post("/customers", json={"first_name": "Al", "phone": "+14155550100"}))
    assert created["first_name"] == "Al"


def test_a_customer_needs_an_email_or_a_phone(live: httpx.Client) -> None:
    body = error(live.post("/customers", json={"firstName": "Nobody"}), 422)
    assert body["errors"][0]["field"] == "email"
    assert "email or phone" in body["errors"][0]["message"]


@pytest.mark.parametrize("phone", ["5550001234", "+0555", "+1 555 000 1234", "+1234567890123456"])
def test_a_phone_that_is_not_e164_is_refused(live: httpx.Client, phone: str) -> None:
    assert (
        error(live.post("/customers", json={"phone": phone}), 422)["errors"][0]["field"] == "phone"
    )


def test_a_malformed_email_is_refused(live: httpx.Client) -> None:
    assert (
        error(live.post("/customers", json={"email": "not-an-email"}), 422)["errors"][0]["field"]
        == "email"
    )


def test_a_second_customer_with_the_same_external_id_conflicts(live: httpx.Client) -> None:
    data(live.post("/customers", json=JANE))
    error(live.post("/customers", json=JANE), 409)


def test_updating_changes_only_the_fields_sent(live: httpx.Client) -> None:
    created = data(live.post("/customers", json=JANE))
    updated = data(live.put(f"/customers/{created['id']}", json={"lastName": "Smith"}))
    assert (updated["last_name"], updated["first_name"], updated["email"]) == (
        "Smith",
        "Jane",
        JANE["email"],
    )


def test_an_update_that_removes_every_contact_is_refused(live: httpx.Client) -> None:
    created = data(live.post("/customers", json={"email": "a@example.com"}))
    error(live.put(f"/customers/{created['id']}", json={"email": None}), 422)
    assert data(live.get(f"/customers/{created['id']}"))["email"] == "a@example.com"


def test_a_deleted_customer_is_gone_from_get_and_list_but_bulk_brings_it_back(
    live: httpx.Client,
) -> None:
    created = data(live.post("/customers", json=JANE))
    data(live.delete(f"/customers/{created['id']}"))
    error(live.get(f"/customers/{created['id']}"), 404)
    assert data(live.get("/customers"))["total"] == 0
    counts = data(live.post("/customers/bulk", json={"customers": [customer("cust-001")]}))
    assert (counts["created"], counts["updated"]) == (0, 1)
    assert data(live.get(f"/customers/{created['id']}"))["external_id"] == "cust-001"


def test_bulk_upsert_creates_then_updates_by_external_id(live: httpx.Client) -> None:
    first = push_customers(live, "A", "B")
    assert first == upsert_counts(total=2, created=2)
    again = data(
        live.post(
            "/customers/bulk", json={"customers": [customer("A", firstName="Ann"), customer("C")]}
        )
    )
    assert (again["created"], again["updated"]) == (1, 1)
    listed = data(live.get("/customers", params={"search": "ann"}))
    assert [c["external_id"] for c in listed["customers"]] == ["A"]


def test_a_repeated_external_id_in_one_bulk_request_keeps_the_last(live: httpx.Client) -> None:
    body = {"customers": [customer("A", firstName="First"), customer("A", firstName="Last")]}
    counts = data(live.post("/customers/bulk", json=body))
    assert (counts["total"], counts["created"], counts["skipped"]) == (2, 1, 1)
    assert data(live.get("/customers"))["customers"][0]["first_name"] == "Last"


def test_bulk_accepts_100_customers_and_refuses_101(live: httpx.Client) -> None:
    many = [customer(f"C-{i}") for i in range(101)]
    assert data(live.post("/customers/bulk", json={"customers": many[:100]}))["created"] == 100
    error(live.post("/customers/bulk", json={"customers": many}), 422)


def test_a_bad_record_in_bulk_names_its_index_and_field(live: httpx.Client) -> None:
    body = {"customers": [customer("A"), {"external_id": "B", "phone": "12"}]}
    first = error(live.post("/customers/bulk", json=body), 422)["errors"][0]
    assert (first["index"], first["field"]) == (1, "phone")
    assert data(live.get("/customers"))["total"] == 0  # the request landed not at all


def test_a_bad_tag_names_the_records_index_not_the_tags(live: httpx.Client) -> None:
    overlong_tag = {**customer("C"), "tags": ["ok", "x" * 101]}
    body = {"customers": [customer("A"), customer("B"), overlong_tag]}
    first = error(live.post("/customers/bulk", json=body), 422)["errors"][0]
    assert (first["index"], first["field"], first["loc"]) == (2, "tags", "customers[2].tags[1]")


def test_listing_pages_through_every_customer(live: httpx.Client) -> None:
    push_customers(live, *[f"P-{i:02}" for i in range(25)])
    seen: list[str] = []
    page = 1
    while True:
        listed = data(live.get("/customers", params={"page": page, "per_page": 10}))
        assert (listed["total"], listed["per_page"], listed["total_pages"]) == (25, 10, 3)
        seen += [c["external_id"] for c in listed["customers"]]
        if page == listed["total_pages"]:
            break
        page += 1
    assert sorted(seen) == [f"P-{i:02}" for i in range(25)]
    assert data(live.get("/customers", params={"page": 9}))["customers"] == []


@pytest.mark.parametrize("params", [{"per_page": 0}, {"per_page": 101}, {"page": 0}])
def test_paging_out_of_bounds_is_a_422(live: httpx.Client, params: dict[str, Any]) -> None:
    error(live.get("/customers", params=params), 422)


def test_tags_filter_matches_any_of_the_tags_given(live: httpx.Client) -> None:
    body = {
        "customers": [
            customer("V", tags=["vip"]),
            customer("N", tags=["new", "vip_like"]),
            customer("O", tags=["other"]),
        ]
    }
    data(live.post("/customers/bulk", json=body))
    vip = data(live.get("/customers", params={"tags": "vip"}))["customers"]
    assert [c["external_id"] for c in vip] == ["V"]
    either = data(live.get("/customers", params={"tags": "vip,other"}))["customers"]
    assert sorted(c["external_id"] for c in either) == ["O", "V"]


def test_search_treats_like_wildcards_literally(live: httpx.Client) -> None:
    push_customers(live, "A_1", "AB1")
    found = data(live.get("/customers", params={"search": "a_1"}))["customers"]
    assert [c["external_id"] for c in found] == ["A_1"]


@pytest.mark.parametrize(
    ("held", "page", "expected"),
    [
        (0, 1, (0, 0, 0)),  # nothing: total 0, no pages
        (1, 1, (1, 1, 1)),  # a short first page is its own total
        (2, 1, (2, 1, 2)),  # a full first page: counted, not assumed
        (3, 1, (3, 2, 2)),
        (3, 2, (3, 2, 1)),
        (3, 3, (3, 2, 0)),  # past the end: the total still, and no rows
    ],
)
def test_a_page_reports_the_whole_total_however_full_it_is(
    live: httpx.Client, held: int, page: int, expected: tuple[int, int, int]
) -> None:
    if held:
        push_customers(live, *(f"page-{n}" for n in range(held)))

    body = data(live.get("/customers", params={"page": page, "per_page": 2}))

    assert (body["total"], body["total_pages"], len(body["customers"])) == expected
