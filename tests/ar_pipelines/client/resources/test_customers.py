"""``ar.customers`` against the sandbox over real HTTP."""

from __future__ import annotations

import uuid

import pytest

from ar_pipelines.client import (
    ARClient,
    CustomerRecord,
    NotFoundError,
)
from tests.ar_pipelines.client.resources.helpers import (
    Recorder,
    customer,
)


def test_creating_a_customer_returns_it_with_a_server_id_and_the_fields_sent(
    ar: ARClient,
) -> None:
    created = ar.customers.create(
        CustomerRecord(
            external_id="PT-NEW",
            email="new@example.com",
            first_name="Nora",
            last_name="New",
            tags=["vip"],
        )
    )
    uuid.UUID(created.id)
    assert (created.external_id, created.first_name, created.last_name) == (
        "PT-NEW",
        "Nora",
        "New",
    )
    assert created.tags == ["vip"]
    assert ar.customers.get(created.id).email == "new@example.com"


def test_listing_customers_pages_through_every_one(
    recorded_ar: ARClient, recorder: Recorder
) -> None:
    recorded_ar.customers.bulk_upsert([customer(f"PG-{i}") for i in range(7)])
    recorder.requests.clear()
    listed = list(recorded_ar.customers.list(per_page=3))
    assert sorted(c.external_id or "" for c in listed) == [f"PG-{i}" for i in range(7)]
    assert len({c.id for c in listed}) == 7
    assert recorder.paths().count("/api/v1/external/customers") == 3


def test_listing_customers_filters_by_search_and_by_any_of_the_tags(ar: ARClient) -> None:
    ar.customers.bulk_upsert(
        [
            customer("TG-1", first_name="Zelda", tags=["vip"]),
            customer("TG-2", first_name="Yuri", tags=["new"]),
            customer("TG-3", first_name="Xavier", tags=["vip", "new"]),
            customer("TG-4", first_name="Wanda"),
        ]
    )
    assert [c.external_id for c in ar.customers.list(search="zeld")] == ["TG-1"]
    assert {c.external_id for c in ar.customers.list(tags="vip")} == {"TG-1", "TG-3"}
    assert {c.external_id for c in ar.customers.list(tags="new,vip")} == {"TG-1", "TG-2", "TG-3"}
    assert list(ar.customers.list(tags="nobody-has-this")) == []


def test_getting_a_customer_by_id_returns_that_customer(ar: ARClient) -> None:
    ar.customers.bulk_upsert([customer("GET-1", first_name="Gina"), customer("GET-2")])
    (wanted,) = (c for c in ar.customers.list() if c.external_id == "GET-1")
    got = ar.customers.get(wanted.id)
    assert (got.id, got.external_id, got.first_name) == (wanted.id, "GET-1", "Gina")


def test_updating_a_customer_changes_only_the_fields_given(ar: ARClient) -> None:
    created = ar.customers.create(customer("UPD-1", first_name="Old", last_name="Name"))
    updated = ar.customers.update(created.id, {"first_name": "New"})
    assert (updated.first_name, updated.last_name) == ("New", "Name")
    again = ar.customers.get(created.id)
    assert (again.first_name, again.last_name, again.email) == ("New", "Name", "upd-1@example.com")


def test_a_deleted_customer_is_not_found_and_no_longer_listed(ar: ARClient) -> None:
    kept = ar.customers.create(customer("DEL-KEEP"))
    gone = ar.customers.create(customer("DEL-GONE"))
    deleted = ar.customers.delete(gone.id)
    assert deleted.id == gone.id
    with pytest.raises(NotFoundError) as caught:
        ar.customers.get(gone.id)
    assert caught.value.status_code == 404
    assert [c.id for c in ar.customers.list()] == [kept.id]


def test_bulk_upserting_customers_creates_then_updates_by_external_id_in_batches_of_100(
    ar: ARClient,
) -> None:
    records = [customer(f"BULK-{i:03}") for i in range(150)]
    first = ar.customers.bulk_upsert(records)
    assert (first.created, first.updated, first.requests, first.complete) == (150, 0, 2, True)
    second = ar.customers.bulk_upsert([customer("BULK-000", first_name="Renamed")])
    assert (second.created, second.updated) == (0, 1)
    (renamed,) = ar.customers.list(search="BULK-000")
    assert renamed.first_name == "Renamed"
    assert sum(1 for _ in ar.customers.list()) == 150
