"""``ar.accounts`` against the sandbox over real HTTP."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from ar_pipelines.client import (
    ARClient,
    BadRequestError,
    DisputeRecord,
)
from tests.ar_pipelines.client.resources.helpers import (
    accounts_of,
    customer,
    entry,
    invoice,
    reminder_campaign_id,
)


def test_bulk_upserting_accounts_creates_updates_and_reports_an_unknown_customer(
    ar: ARClient,
) -> None:
    ar.customers.bulk_upsert([customer("AC-1")])
    first = ar.accounts.bulk_upsert(
        [invoice("INV-1", "AC-1"), invoice("INV-2", "AC-1"), invoice("INV-X", "NO-SUCH")]
    )
    assert (first.created, first.updated) == (2, 0)
    assert [(f.index, f.external_id) for f in first.failed] == [(2, "INV-X")]
    second = ar.accounts.bulk_upsert([invoice("INV-1", "AC-1", amount="250.50")])
    assert (second.created, second.updated) == (0, 1)
    (changed,) = (a for a in ar.accounts.list() if a.external_id == "INV-1")
    assert changed.amount == Decimal("250.50")


def test_listing_accounts_filters_by_customer_status_and_billing_type(ar: ARClient) -> None:
    (a1, a2) = accounts_of(ar, "LA-1", "LA-1-A", "LA-1-B")
    (b1,) = accounts_of(ar, "LA-2", "LA-2-A")
    ar.ledgers.bulk_upsert([entry("LA-TX", "LA-2", "2026-05-03", "charge", "10.00")])
    ar.disputes.open(a2.id, DisputeRecord(reason="billing_error"))

    assert {a.id for a in ar.accounts.list(customer_external_id="LA-1")} == {a1.id, a2.id}
    by_customer_id = list(ar.accounts.list(customer_id=b1.customer_id, billing_type="standard"))
    assert [a.id for a in by_customer_id] == [b1.id]
    statements = list(ar.accounts.list(billing_type="statement"))
    assert [s.invoice_number for s in statements] == ["STMT-2026-05-LA-2"]
    assert [a.id for a in ar.accounts.list(status="disputed")] == [a2.id]
    assert len(list(ar.accounts.list(per_page=1))) == 4


def test_getting_an_account_returns_its_money_as_decimals(ar: ARClient) -> None:
    (account,) = accounts_of(ar, "GA-1", "GA-INV")
    got = ar.accounts.get(account.id)
    assert got.id == account.id
    assert (got.amount, got.paid_amount, got.outstanding) == (
        Decimal("100.00"),
        Decimal("0.00"),
        Decimal("100.00"),
    )
    assert isinstance(got.amount, Decimal)
    assert (got.billing_type, got.status) == ("standard", "not_assigned")


def test_assigning_an_account_to_the_payment_reminder_campaign_starts_it(
    ar: ARClient, company: dict[str, Any]
) -> None:
    campaign_id = reminder_campaign_id(company)
    (account,) = accounts_of(ar, "AS-1", "AS-INV")
    assigned = ar.accounts.assign_campaign(
        account.id, campaign_id=campaign_id, customer_id=account.customer_id
    )
    assert (assigned.campaign_id, assigned.enrolled_count) == (campaign_id, 1)
    assert [r.invoice_id for r in assigned.results] == [account.id]
    assert assigned.results[0].execution_id is not None
    after = ar.accounts.get(account.id)
    assert (after.campaign_id, after.status, after.enrollment_status) == (
        campaign_id,
        "in_progress",
        "enrolled",
    )


def test_assigning_an_account_of_another_customer_is_refused(
    ar: ARClient, company: dict[str, Any]
) -> None:
    (account,) = accounts_of(ar, "AS-2", "AS-2-INV")
    other = ar.customers.create(customer("AS-OTHER"))
    with pytest.raises(BadRequestError, match="does not belong"):
        ar.accounts.assign_campaign(
            account.id, campaign_id=reminder_campaign_id(company), customer_id=other.id
        )
    assert ar.accounts.get(account.id).campaign_id is None


def test_bulk_assigning_accounts_enrolls_the_known_and_skips_an_unknown_id(
    ar: ARClient, company: dict[str, Any]
) -> None:
    campaign_id = reminder_campaign_id(company)
    accounts = accounts_of(ar, "AB-1", "AB-INV-1", "AB-INV-2")
    unknown = str(uuid.uuid4())
    report = ar.accounts.assign_campaign_bulk(
        [accounts[0].id, unknown, accounts[1].id], campaign_id=campaign_id
    )
    assert sorted(e.invoice_id for e in report.enrolled) == sorted(a.id for a in accounts)
    assert [s.id for s in report.skipped] == [unknown]
    assert "not found" in report.skipped[0].reason.lower()
    assert (report.uncertain, report.unsent, report.requests) == ([], [], 1)
    assert all(ar.accounts.get(a.id).campaign_id == campaign_id for a in accounts)
