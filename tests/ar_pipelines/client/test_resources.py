"""Every public resource method of ``ARClient``, against the sandbox over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from ar_pipelines.client import (
    ARClient,
    AuthenticationError,
    BadRequestError,
    CustomerRecord,
    DisputeRecord,
    InvoiceRecord,
    LedgerEntryRecord,
    LiveKeyRequiredError,
    NotFoundError,
    PaymentRecord,
)
from ar_pipelines.client.models import Account, Statement
from tests.sandbox_server import RunningSandbox

ACTIVE_EXECUTION = "active execution"


@dataclass
class Recorder:
    """An ``httpx.Client`` that remembers every request it sends and every answer."""

    requests: list[httpx.Request] = field(default_factory=list)
    responses: list[httpx.Response] = field(default_factory=list)
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(
            timeout=30.0,
            event_hooks={"request": [self.requests.append], "response": [self.responses.append]},
        )

    def paths(self, method: str = "GET") -> list[str]:
        return [r.url.path for r in self.requests if r.method == method]


@pytest.fixture
def ar(sandbox: RunningSandbox, company: dict[str, Any]) -> Iterator[ARClient]:
    with ARClient(base_url=sandbox.base_url, api_key=company["live_key"]) as client:
        yield client


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recording = Recorder()
    yield recording
    recording.http.close()


@pytest.fixture
def recorded_ar(
    sandbox: RunningSandbox, company: dict[str, Any], recorder: Recorder
) -> Iterator[ARClient]:
    """A live client whose every request lands in ``recorder``."""
    with ARClient(
        base_url=sandbox.base_url, api_key=company["live_key"], http_client=recorder.http
    ) as client:
        yield client


def reminder_campaign_id(company: dict[str, Any]) -> str:
    (campaign,) = (
        c for c in company["campaigns"] if c["mode"] == "live" and c["type"] == "payment_reminder"
    )
    return str(campaign["id"])


def customer(external_id: str, **fields: Any) -> CustomerRecord:
    return CustomerRecord(
        external_id=external_id, email=f"{external_id.lower()}@example.com", **fields
    )


def entry(
    external_id: str, customer_external_id: str, day: str, kind: str, amount: str
) -> LedgerEntryRecord:
    return LedgerEntryRecord(
        external_id=external_id,
        customer_external_id=customer_external_id,
        transaction_date=date.fromisoformat(day),
        transaction_type=kind,
        amount=Decimal(amount),
    )


def invoice(external_id: str, customer_external_id: str, amount: str = "100.00") -> InvoiceRecord:
    return InvoiceRecord(
        external_id=external_id,
        customer_external_id=customer_external_id,
        amount=Decimal(amount),
        issue_date=date(2026, 1, 1),
        due_date=date(2099, 1, 31),
    )


def accounts_of(ar: ARClient, customer_external_id: str, *external_ids: str) -> list[Account]:
    """Push one customer with an account per external id; the accounts, in that order."""
    ar.customers.bulk_upsert([customer(customer_external_id)])
    report = ar.accounts.bulk_upsert([invoice(e, customer_external_id) for e in external_ids])
    assert report.created == len(external_ids)
    by_external_id = {
        a.external_id: a for a in ar.accounts.list(customer_external_id=customer_external_id)
    }
    return [by_external_id[e] for e in external_ids]


def three_months(ar: ARClient, customer_external_id: str = "PT-3M") -> list[Statement]:
    """A customer with Jan, Feb and Mar 2026 charges and one payment; statements oldest first."""
    ar.customers.bulk_upsert([customer(customer_external_id)])
    c = customer_external_id
    ar.ledgers.bulk_upsert(
        [
            entry(f"{c}-1", c, "2026-01-10", "charge", "100.00"),
            entry(f"{c}-2", c, "2026-02-10", "charge", "50.00"),
            entry(f"{c}-3", c, "2026-02-20", "patient_payment", "-30.00"),
            entry(f"{c}-4", c, "2026-03-05", "adjustment", "20.00"),
        ]
    )
    listed = list(ar.statements.list(customer_external_id=c))
    return sorted(listed, key=lambda s: s.period_start)


# Customers


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


# Accounts


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


# Payments


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


# Disputes


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


# Ledgers


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


# Statements


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


# Campaigns


def test_listing_campaigns_filters_by_status_and_type(
    ar: ARClient, company: dict[str, Any]
) -> None:
    every = list(ar.campaigns.list(per_page=1))
    live = {c["id"] for c in company["campaigns"] if c["mode"] == "live"}
    assert {c.id for c in every} == live
    active = list(ar.campaigns.list(status="active"))
    assert {c.type for c in active} == {"statement_acknowledgement", "payment_reminder"}
    assert all(c.accepts_enrollments for c in active)
    (draft,) = ar.campaigns.list(status="draft")
    assert draft.accepts_enrollments is False
    (reminder,) = ar.campaigns.list(type="payment_reminder")
    assert reminder.id == reminder_campaign_id(company)
    assert [c.id for c in ar.campaigns.list(search="Statement")] == [company["sa_campaign_id"]]


def test_getting_a_campaign_by_id_returns_it(ar: ARClient, company: dict[str, Any]) -> None:
    campaign = ar.campaigns.get(company["sa_campaign_id"])
    assert (campaign.id, campaign.category, campaign.status) == (
        company["sa_campaign_id"],
        "statement_acknowledgement",
        "active",
    )
    reminder = ar.campaigns.get(reminder_campaign_id(company))
    assert reminder.next_campaign_id is not None
    assert ar.campaigns.get(reminder.next_campaign_id).status == "draft"


# Sync


def test_syncing_customers_invoices_and_entries_reports_each_count(ar: ARClient) -> None:
    result = ar.sync(
        customers=[customer("SY-1"), {"external_id": "SY-2", "phone": "+15550001234"}],
        invoices=[invoice("SY-INV", "SY-1")],
        ledger_entries=[
            entry("SY-TX-1", "SY-2", "2026-05-03", "charge", "80.00"),
            entry("SY-TX-2", "SY-2", "2026-05-10", "insurance_payment", "-20.00"),
        ],
    )
    assert (result.customers.created, result.invoices.created) == (2, 1)
    assert (result.ledger_entries.created, result.ledger_entries.failed) == (2, 0)
    assert (result.statements.created, result.statements.allocations_created) == (1, 1)
    (statement,) = ar.statements.list(customer_external_id="SY-2")
    assert statement.outstanding == Decimal("60.00")


def test_syncing_more_than_500_ledger_entries_is_refused_before_sending(
    recorded_ar: ARClient, recorder: Recorder
) -> None:
    entries = [entry(f"BIG-{i}", "BIG", "2026-05-03", "charge", "1.00") for i in range(501)]
    with pytest.raises(ValueError, match="500"):
        recorded_ar.sync(customers=[customer("BIG")], ledger_entries=entries)
    assert recorder.requests == []
    assert list(recorded_ar.customers.list()) == []


# Keys, errors, configuration

REFUSED_WITH_A_TEST_KEY: dict[str, Callable[[ARClient, str], object]] = {
    "statements.enroll": lambda ar, c: ar.statements.enroll([str(uuid.uuid4())], campaign_id=c),
    "statements.enroll_one": lambda ar, c: ar.statements.enroll_one(
        str(uuid.uuid4()), campaign_id=c
    ),
    "accounts.assign_campaign": lambda ar, c: ar.accounts.assign_campaign(
        str(uuid.uuid4()), campaign_id=c
    ),
    "accounts.assign_campaign_bulk": lambda ar, c: ar.accounts.assign_campaign_bulk(
        [str(uuid.uuid4())], campaign_id=c
    ),
}


@pytest.mark.parametrize("call", list(REFUSED_WITH_A_TEST_KEY), ids=list(REFUSED_WITH_A_TEST_KEY))
def test_a_test_key_cannot_enroll_and_nothing_is_sent(
    sandbox: RunningSandbox, company: dict[str, Any], recorder: Recorder, call: str
) -> None:
    with ARClient(
        base_url=sandbox.base_url, api_key=company["test_key"], http_client=recorder.http
    ) as ar:
        assert ar.mode == "test"
        with pytest.raises(LiveKeyRequiredError, match="live key"):
            REFUSED_WITH_A_TEST_KEY[call](ar, company["sa_campaign_id"])
        assert recorder.requests == []
        # The same client does send other calls, so the recorder would have seen one.
        assert len(list(ar.campaigns.list())) == 3
        assert recorder.paths() == ["/api/v1/external/campaigns"]


def test_a_live_key_makes_a_live_client(ar: ARClient) -> None:
    assert ar.mode == "live"
    assert ar.base_url.endswith("/api/v1/external")


def test_a_wrong_key_is_an_authentication_error_with_status_401(sandbox: RunningSandbox) -> None:
    with (
        ARClient(base_url=sandbox.base_url, api_key="sk_live_not_a_real_key") as ar,
        pytest.raises(AuthenticationError) as caught,
    ):
        list(ar.customers.list())
    assert caught.value.status_code == 401
    assert "not_a_real_key" not in str(caught.value)


def test_a_missing_resource_is_a_not_found_error_naming_the_request(
    recorded_ar: ARClient, recorder: Recorder
) -> None:
    with pytest.raises(NotFoundError) as caught:
        recorded_ar.statements.get(str(uuid.uuid4()))
    error = caught.value
    assert error.status_code == 404
    (request,) = recorder.requests
    (response,) = recorder.responses
    assert error.request_id
    assert error.request_id == response.headers["x-request-id"] == request.headers["x-request-id"]
    assert error.request_id in str(error)


def test_the_client_reads_its_url_and_key_from_the_environment(
    sandbox: RunningSandbox, company: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AR_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("AR_API_KEY", company["live_key"])
    with ARClient() as ar:
        assert ar.mode == "live"
        assert ar.base_url == sandbox.api
        assert {c.id for c in ar.campaigns.list()} == {
            c["id"] for c in company["campaigns"] if c["mode"] == "live"
        }


def test_without_a_url_or_key_the_client_cannot_be_made(
    sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AR_BASE_URL", raising=False)
    monkeypatch.delenv("AR_API_KEY", raising=False)
    with pytest.raises(ValueError, match="AR_BASE_URL"):
        ARClient(api_key="sk_live_x")
    with pytest.raises(ValueError, match="AR_API_KEY"):
        ARClient(base_url=sandbox.base_url)
