"""``ar.payments`` and ``ar.disputes`` against the sandbox over real HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ar_pipelines.client import (
    ARClient,
    DisputeRecord,
    PaymentRecord,
)
from tests.ar_pipelines.client.resources.helpers import accounts_of


def test_recording_a_payment_without_external_id_reduces_what_is_outstanding(
    ar: ARClient,
) -> None:
    (account,) = accounts_of(ar, "PAY-1", "PAY-INV")
    recorded = ar.payments.record(
        account.id, PaymentRecord(amount=Decimal("40.25"), payment_date=date(2026, 2, 1))
    )
    assert recorded.payment.amount == Decimal("40.25")
    assert (recorded.payment.account_id, recorded.payment.external_id) == (account.id, None)
    assert (recorded.account.paid_amount, recorded.account.outstanding) == (
        Decimal("40.25"),
        Decimal("59.75"),
    )
    assert ar.accounts.get(account.id).paid_amount == Decimal("40.25")


def test_recording_the_same_external_id_twice_records_the_payment_once(ar: ARClient) -> None:
    (account,) = accounts_of(ar, "PAY-2", "PAY-2-INV")
    payment = PaymentRecord(amount=Decimal("30.00"), external_id="PMT-ONCE")
    first = ar.payments.record(account.id, payment)
    second = ar.payments.record(account.id, payment)
    assert second.payment.id == first.payment.id
    assert second.account.paid_amount == Decimal("30.00")
    assert ar.accounts.get(account.id).paid_amount == Decimal("30.00")
    assert [p.id for p in ar.payments.list(account_id=account.id)] == [first.payment.id]


def test_listing_payments_covers_one_account_or_every_account(ar: ARClient) -> None:
    (a, b) = accounts_of(ar, "PAY-3", "PAY-3-A", "PAY-3-B")
    on_a = ar.payments.record(a.id, {"amount": "10.00", "payment_date": "2026-03-01"})
    on_b = ar.payments.record(b.id, {"amount": "20.00", "payment_date": "2026-03-02"})
    on_a_again = ar.payments.record(a.id, {"amount": "5.00", "payment_date": "2026-03-03"})
    assert {p.id for p in ar.payments.list(account_id=a.id)} == {
        on_a.payment.id,
        on_a_again.payment.id,
    }
    every = list(ar.payments.list(per_page=1))
    assert {p.id for p in every} == {on_a.payment.id, on_b.payment.id, on_a_again.payment.id}
    assert len(every) == 3


def test_getting_a_payment_by_id_returns_it(ar: ARClient) -> None:
    (account,) = accounts_of(ar, "PAY-4", "PAY-4-INV")
    recorded = ar.payments.record(
        account.id,
        PaymentRecord(
            amount=Decimal("12.34"),
            payment_date=date(2026, 4, 1),
            payment_method="card",
            reference="R-1",
            external_id="PMT-GET",
        ),
    )
    got = ar.payments.get(recorded.payment.id)
    assert (got.id, got.account_id, got.external_id) == (recorded.payment.id, account.id, "PMT-GET")
    assert (got.amount, got.payment_date, got.payment_method, got.reference) == (
        Decimal("12.34"),
        date(2026, 4, 1),
        "card",
        "R-1",
    )


def test_opening_a_dispute_marks_the_account_disputed_and_it_can_be_read_back(
    ar: ARClient,
) -> None:
    (account, other) = accounts_of(ar, "DSP-1", "DSP-INV", "DSP-OTHER")
    opened = ar.disputes.open(
        account.id,
        DisputeRecord(reason="incorrect_amount", description="billed twice", amount=Decimal("50")),
    )
    assert (opened.dispute.status, opened.dispute.amount) == ("open", Decimal("50.00"))
    assert opened.account.status == "disputed"
    on_other = ar.disputes.open(other.id, {"reason": "service_not_rendered"})

    assert [d.id for d in ar.disputes.list(account_id=account.id)] == [opened.dispute.id]
    assert {d.id for d in ar.disputes.list()} == {opened.dispute.id, on_other.dispute.id}
    got = ar.disputes.get(opened.dispute.id)
    assert (got.reason, got.description, got.account_id) == (
        "incorrect_amount",
        "billed twice",
        account.id,
    )
