"""``ar.statements`` against the sandbox over real HTTP."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ar_pipelines.client import (
    ARClient,
    BadRequestError,
)
from tests.ar_pipelines.client.resources.helpers import (
    ACTIVE_EXECUTION,
    customer,
    entry,
    three_months,
)


def test_the_documented_004_flow_gives_the_documented_statement(ar: ARClient) -> None:
    customers = ar.customers.bulk_upsert([customer("PT-001", first_name="Alice")])
    assert customers.created == 1
    pushed = ar.ledgers.bulk_upsert(
        [
            entry("TX-1", "PT-001", "2026-05-03", "charge", "240"),
            entry("TX-2", "PT-001", "2026-05-15", "patient_payment", "-100"),
        ]
    )
    assert pushed.statements is not None
    assert pushed.statements.created == 1

    (statement,) = ar.statements.list(customer_external_id="PT-001")
    assert statement.external_invoice_id == statement.invoice_number == "STMT-2026-05-PT-001"
    money = (statement.amount, statement.paid_amount, statement.outstanding)
    assert money == (Decimal("240.00"), Decimal("100.00"), Decimal("140.00"))
    assert all(isinstance(m, Decimal) for m in money)
    assert (statement.period_start, statement.period_end, statement.due_date) == (
        date(2026, 5, 1),
        date(2026, 5, 31),
        date(2026, 10, 28),
    )
    assert (statement.status, statement.enrollment_status) == ("not_assigned", "not_enrolled")


def test_listing_statements_filters_by_customer_status_and_dates_newest_first(
    ar: ARClient, company: dict[str, Any]
) -> None:
    (january, february, march) = three_months(ar, "SL-1")
    three_months(ar, "SL-2")
    listed = list(ar.statements.list(customer_external_id="SL-1", per_page=1))
    assert [s.id for s in listed] == [march.id, february.id, january.id]
    assert {s.id for s in ar.statements.list(customer_id=january.customer_id)} == {
        january.id,
        february.id,
        march.id,
    }
    assert len(list(ar.statements.list())) == 6

    in_february = ar.statements.list(
        customer_external_id="SL-1", from_date=date(2026, 2, 1), to_date=date(2026, 2, 28)
    )
    assert [s.id for s in in_february] == [february.id]
    from_february = ar.statements.list(customer_external_id="SL-1", from_date=date(2026, 2, 1))
    assert [s.id for s in from_february] == [march.id, february.id]

    ar.statements.enroll_one(february.id, campaign_id=company["sa_campaign_id"])
    assert [s.id for s in ar.statements.list(status="in_progress")] == [february.id]
    assert len(list(ar.statements.list(status="not_assigned"))) == 5


def test_a_statements_entries_sum_to_its_outstanding(ar: ARClient) -> None:
    (january, february, _) = three_months(ar, "SE-1")
    detail = ar.statements.get(january.id)
    assert detail.entries is not None
    assert {e.transaction_type for e in detail.entries} == {"charge", "payment_allocation"}
    assert sum(e.amount for e in detail.entries) == detail.outstanding == Decimal("70.00")
    feb_detail = ar.statements.get(february.id, include_entries=True)
    assert feb_detail.entries is not None
    assert [e.external_id for e in feb_detail.entries] == ["SE-1-2"]
    assert sum(e.amount for e in feb_detail.entries) == feb_detail.outstanding


def test_getting_a_statement_without_entries_leaves_them_out(ar: ARClient) -> None:
    (january, *_) = three_months(ar, "SE-2")
    bare = ar.statements.get(january.id, include_entries=False)
    assert bare.entries is None
    assert (bare.id, bare.amount, bare.paid_amount) == (
        january.id,
        Decimal("100.00"),
        Decimal("30.00"),
    )


def test_enrolling_statements_in_bulk_enrolls_them_and_skips_an_unknown_id(
    ar: ARClient, company: dict[str, Any]
) -> None:
    (january, february, _) = three_months(ar, "EN-1")
    unknown = str(uuid.uuid4())
    report = ar.statements.enroll(
        [january.id, unknown, february.id], campaign_id=company["sa_campaign_id"]
    )
    assert sorted(e.invoice_id for e in report.enrolled) == sorted([january.id, february.id])
    assert all(e.execution_id for e in report.enrolled)
    assert [(s.id, s.reason) for s in report.skipped] == [(unknown, "Statement not found")]
    assert (report.uncertain, report.unsent, report.confirmed_after_retry) == ([], [], 0)
    after = ar.statements.get(january.id, include_entries=False)
    assert (after.status, after.campaign_id) == ("in_progress", company["sa_campaign_id"])


def test_enrolling_only_unknown_statement_ids_skips_each_of_them(
    ar: ARClient, company: dict[str, Any]
) -> None:
    unknown = [str(uuid.uuid4()), str(uuid.uuid4())]
    report = ar.statements.enroll(unknown, campaign_id=company["sa_campaign_id"])
    assert report.enrolled == []
    assert [s.id for s in report.skipped] == unknown


def test_enrolling_one_statement_moves_it_in_progress(
    ar: ARClient, company: dict[str, Any]
) -> None:
    (january, *_) = three_months(ar, "EO-1")
    enrolled = ar.statements.enroll_one(january.id, campaign_id=company["sa_campaign_id"])
    assert (enrolled.campaign_id, enrolled.enrolled_count) == (company["sa_campaign_id"], 1)
    assert [r.invoice_id for r in enrolled.results] == [january.id]
    after = ar.statements.get(january.id, include_entries=False)
    assert (after.status, after.enrollment_status) == ("in_progress", "enrolled")


def test_re_enrolling_an_enrolled_statement_is_skipped_as_an_active_execution(
    ar: ARClient, company: dict[str, Any]
) -> None:
    (january, *_) = three_months(ar, "RE-1")
    sa = company["sa_campaign_id"]
    first = ar.statements.enroll([january.id], campaign_id=sa)
    assert [e.invoice_id for e in first.enrolled] == [january.id]

    again = ar.statements.enroll([january.id], campaign_id=sa)
    assert again.enrolled == []
    assert [s.id for s in again.skipped] == [january.id]
    assert ACTIVE_EXECUTION in again.skipped[0].reason.lower()
    assert again.confirmed_after_retry == 0
    with pytest.raises(BadRequestError, match=ACTIVE_EXECUTION):
        ar.statements.enroll_one(january.id, campaign_id=sa)
