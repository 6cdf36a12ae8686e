"""``ar.ledgers`` against the sandbox over real HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ar_pipelines.client import ARClient
from tests.ar_pipelines.client.resources.helpers import (
    Recorder,
    customer,
    entry,
    three_months,
)


def test_bulk_upserting_ledger_entries_reports_entries_and_statements(ar: ARClient) -> None:
    ar.customers.bulk_upsert([customer("LG-1")])
    entries = [
        entry("LG-1-A", "LG-1", "2026-01-10", "charge", "100.00"),
        entry("LG-1-B", "LG-1", "2026-01-20", "patient_payment", "-40.00"),
        entry("LG-1-X", "NO-SUCH", "2026-01-20", "charge", "5.00"),
    ]
    first = ar.ledgers.bulk_upsert(entries)
    assert (first.created, first.updated) == (2, 0)
    assert [(f.index, f.external_id) for f in first.failed] == [(2, "LG-1-X")]
    assert first.statements is not None
    assert (first.statements.created, first.statements.allocations_created) == (1, 1)

    again = ar.ledgers.bulk_upsert([entry("LG-1-A", "LG-1", "2026-01-10", "charge", "120.00")])
    assert (again.created, again.updated) == (0, 1)
    assert again.statements is not None
    assert again.statements.updated == 1
    (statement,) = ar.statements.list(customer_external_id="LG-1")
    assert (statement.amount, statement.outstanding) == (Decimal("120.00"), Decimal("80.00"))


def test_listing_ledger_entries_filters_by_customer_dates_and_type(ar: ARClient) -> None:
    three_months(ar, "LF-A")
    ar.customers.bulk_upsert([customer("LF-B")])
    ar.ledgers.bulk_upsert([entry("LF-B-1", "LF-B", "2026-02-15", "charge", "70.00")])

    of_a = list(ar.ledgers.list(customer_external_id="LF-A"))
    assert {e.external_id for e in of_a if e.transaction_type != "payment_allocation"} == {
        "LF-A-1",
        "LF-A-2",
        "LF-A-3",
        "LF-A-4",
    }
    assert len({e.customer_id for e in of_a}) == 1
    (b_id,) = {e.customer_id for e in ar.ledgers.list(customer_external_id="LF-B")}
    assert [e.external_id for e in ar.ledgers.list(customer_id=b_id)] == ["LF-B-1"]

    february = ar.ledgers.list(
        from_date=date(2026, 2, 1), to_date=date(2026, 2, 28), transaction_type="charge"
    )
    assert {e.external_id for e in february} == {"LF-A-2", "LF-B-1"}
    until_january = ar.ledgers.list(customer_external_id="LF-A", to_date=date(2026, 1, 31))
    assert [e.external_id for e in until_january] == ["LF-A-1"]
    from_march = ar.ledgers.list(from_date=date(2026, 3, 1))
    assert [e.external_id for e in from_march] == ["LF-A-4"]
    assert [e.external_id for e in ar.ledgers.list(transaction_type="patient_payment")] == [
        "LF-A-3"
    ]
    (allocation,) = ar.ledgers.list(transaction_type="payment_allocation")
    assert allocation.amount == Decimal("-30.00")
    assert allocation.external_id.startswith("ALLOC-LF-A-3-")


def test_listing_ledger_entries_pages_newest_first_with_a_small_per_page(
    recorded_ar: ARClient, recorder: Recorder
) -> None:
    recorded_ar.customers.bulk_upsert([customer("LP-1")])
    recorded_ar.ledgers.bulk_upsert(
        [entry(f"LP-{d}", "LP-1", f"2026-03-{d:02}", "charge", "1.00") for d in range(1, 6)]
    )
    recorder.requests.clear()
    listed = list(recorded_ar.ledgers.list(customer_external_id="LP-1", per_page=2))
    assert [e.external_id for e in listed] == ["LP-5", "LP-4", "LP-3", "LP-2", "LP-1"]
    assert recorder.paths().count("/api/v1/external/ledgers") == 3
    assert all(r.url.params["per_page"] == "2" for r in recorder.requests)


def test_getting_a_ledger_entry_by_id_returns_it_with_its_statement(ar: ARClient) -> None:
    (january, *_) = three_months(ar, "LG-GET")
    (listed,) = (
        e for e in ar.ledgers.list(customer_external_id="LG-GET") if e.external_id == "LG-GET-1"
    )
    got = ar.ledgers.get(listed.id)
    assert (got.external_id, got.transaction_type, got.transaction_date) == (
        "LG-GET-1",
        "charge",
        date(2026, 1, 10),
    )
    assert got.amount == Decimal("100.00")
    assert got.invoice_id == january.id
