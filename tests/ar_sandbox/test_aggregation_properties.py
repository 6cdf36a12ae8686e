"""Statement aggregation over HTTP against the pure reference (``docs/contract.md``:
statement aggregation, payment waterfall, push counts and identities).

Random sequences of pushes and re-pushes go to ``POST /ledgers/bulk``; afterwards
every statement, every allocation row and every ledger link the server shows must
equal what ``compute_statements`` gives for the final ledger, and the accounting
identities must hold to the cent. Example-based tests name the tricky rules.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ar_pipelines.statements.reference import LedgerEntry
from tests.ar_sandbox.helpers import statement_counts, upsert_counts
from tests.ar_sandbox.ledger_api import (
    LedgerApi,
    assert_push_answer,
    assert_view_matches,
    entry,
    envelope_data,
    expected_push,
    read_view,
)
from tests.ledger_strategies import CUSTOMERS, crowded_sequences, push_sequences
from tests.sandbox_server import RunningSandbox


def replay_and_check(sandbox: RunningSandbox, pushes: list[list[LedgerEntry]]) -> None:
    """Push each batch to a new company, checking every answer and everything shown."""
    company = sandbox.bootstrap()
    with sandbox.client(company["live_key"]) as client:
        api = LedgerApi(client)
        api.create_customers(CUSTOMERS)
        state: dict[str, LedgerEntry] = {}
        for batch in pushes:
            expected = expected_push(state, batch)
            assert_push_answer(api.push(batch), expected)
            state = expected.state
            assert_view_matches(read_view(api, statements_per_page=4), state.values())


def replaying(
    pushes: st.SearchStrategy[list[list[LedgerEntry]]], *, examples: int
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The property test, run on ``examples`` sequences of batches drawn from ``pushes``."""

    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        return settings(max_examples=examples, deadline=None)(given(pushes=pushes)(test))

    return decorate


@replaying(push_sequences, examples=40)
def test_statements_after_any_sequence_of_pushes_equal_the_reference(
    sandbox: RunningSandbox, pushes: list[list[LedgerEntry]]
) -> None:
    replay_and_check(sandbox, pushes)


@replaying(crowded_sequences, examples=25)
def test_crowded_days_of_payments_split_exactly_as_the_reference(
    sandbox: RunningSandbox, pushes: list[list[LedgerEntry]]
) -> None:
    replay_and_check(sandbox, pushes)


# --- the rules one by one ------------------------------------------------------------


def pt1(external_id: str, day: str, kind: str, amount: str | int) -> LedgerEntry:
    """An entry of PT-1, the one customer of most of these examples."""
    return entry(external_id, "PT-1", day, kind, amount)


def pt1_ledger(table: str) -> list[LedgerEntry]:
    """PT-1's entries written as a table, one a line: external id, day, kind, amount."""
    return [pt1(*line.split()) for line in table.strip().splitlines()]


# January's 100.00 charge, 40.00 of it paid; then the charge voided, which leaves the month
# with nothing to bill.
PART_PAID = pt1_ledger(
    """
    C-1  2026-01-10  charge           100.00
    P-1  2026-01-20  patient_payment  -40.00
    """
)
VOIDED = pt1("C-1", "2026-01-10", "charge", 0)


def fresh_api(live: httpx.Client, *customers: str) -> LedgerApi:
    api = LedgerApi(live)
    api.create_customers(customers)
    return api


@pytest.fixture
def api(live: httpx.Client) -> LedgerApi:
    """The ledger endpoints of a new company with one customer, PT-1."""
    return fresh_api(live, "PT-1")


def statements_by_number(api: LedgerApi) -> dict[str, dict[str, Any]]:
    return {s["external_invoice_id"]: s for s in api.statements()}


def allocations_of(api: LedgerApi) -> dict[str, Decimal]:
    return {
        r["external_id"]: r["amount"] for r in api.ledger(transaction_type="payment_allocation")
    }


def rows_by_external_id(api: LedgerApi) -> dict[str, dict[str, Any]]:
    return {r["external_id"]: r for r in api.ledger()}


def balance(statement: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal]:
    """A statement's amount, paid amount and outstanding."""
    return statement["amount"], statement["paid_amount"], statement["outstanding"]


def paid(api: LedgerApi) -> dict[str, tuple[Decimal, Decimal]]:
    return {n: (s["amount"], s["paid_amount"]) for n, s in statements_by_number(api).items()}


def test_the_documented_example_gives_240_paid_100_outstanding_140(live: httpx.Client) -> None:
    api = fresh_api(live, "PT-001")
    answer = api.push(
        [
            entry("TX-1", "PT-001", "2026-05-03", "charge", 240),
            entry("TX-2", "PT-001", "2026-05-15", "patient_payment", -100),
        ]
    )
    assert answer["ledger_entries"] == upsert_counts(total=2, created=2)
    assert answer["statements"] == statement_counts(total=1, created=1, allocations_created=1)
    [statement] = api.statements(customer_external_id="PT-001")
    assert statement["external_invoice_id"] == statement["invoice_number"] == "STMT-2026-05-PT-001"
    assert balance(statement) == (Decimal("240.00"), Decimal("100.00"), Decimal("140.00"))
    assert (statement["period_start"], statement["period_end"]) == ("2026-05-01", "2026-05-31")
    assert (statement["issue_date"], statement["due_date"]) == ("2026-05-01", "2026-10-28")
    assert (statement["status"], statement["enrollment_status"]) == ("not_assigned", "not_enrolled")
    assert allocations_of(api) == {f"ALLOC-TX-2-{statement['id']}": Decimal("-100.00")}
    detail = api.statement(statement["id"])
    assert [(e["external_id"], e["amount"]) for e in detail["entries"]] == [
        ("TX-1", Decimal("240.00")),
        (f"ALLOC-TX-2-{statement['id']}", Decimal("-100.00")),
    ]
    allocation = next(e for e in detail["entries"] if e["transaction_type"] == "payment_allocation")
    assert allocation["transaction_date"] == "2026-05-15"


def test_payments_pay_the_oldest_statement_first_whatever_their_own_date(api: LedgerApi) -> None:
    first = pt1_ledger(
        """
        C-JAN  2026-01-10  charge              100.00
        C-MAR  2026-03-05  charge               50.00
        P-MAR  2026-03-20  insurance_payment  -120.00
        C-MAY  2026-05-05  other_debit          10.00
        """
    )
    api.push(first)
    assert paid(api) == {
        "STMT-2026-01-PT-1": (Decimal("100.00"), Decimal("100.00")),
        "STMT-2026-03-PT-1": (Decimal("50.00"), Decimal("20.00")),
        "STMT-2026-05-PT-1": (Decimal("10.00"), Decimal("0.00")),
    }
    # A payment dated after every charge still fills the March gap before May.
    late = pt1("P-JUN", "2026-06-30", "patient_payment", "-35.00")
    api.push([late])
    assert paid(api) == {
        "STMT-2026-01-PT-1": (Decimal("100.00"), Decimal("100.00")),
        "STMT-2026-03-PT-1": (Decimal("50.00"), Decimal("50.00")),
        "STMT-2026-05-PT-1": (Decimal("10.00"), Decimal("5.00")),
    }
    assert_view_matches(read_view(api), [*first, late])


def test_a_prepayment_before_any_charge_waits_unapplied_then_pays_the_oldest_statement(
    api: LedgerApi,
) -> None:
    answer = api.push([pt1("PRE", "2026-01-02", "patient_payment", "-80.00")])
    assert answer["statements"]["total"] == 0
    assert answer["statements"]["allocations_created"] == 0
    assert api.statements() == []
    assert rows_by_external_id(api)["PRE"]["invoice_id"] is None

    api.push(
        pt1_ledger(
            """
            C-FEB  2026-02-10  charge  50.00
            C-MAR  2026-03-10  charge  50.00
            """
        )
    )
    statements = statements_by_number(api)
    assert paid(api) == {
        "STMT-2026-02-PT-1": (Decimal("50.00"), Decimal("50.00")),
        "STMT-2026-03-PT-1": (Decimal("50.00"), Decimal("30.00")),
    }
    feb, mar = statements["STMT-2026-02-PT-1"]["id"], statements["STMT-2026-03-PT-1"]["id"]
    assert allocations_of(api) == {
        f"ALLOC-PRE-{feb}": Decimal("-50.00"),
        f"ALLOC-PRE-{mar}": Decimal("-30.00"),
    }
    assert rows_by_external_id(api)["PRE"]["invoice_id"] == feb


def test_an_overpayment_fills_every_statement_and_leaves_unapplied_credit(api: LedgerApi) -> None:
    entries = pt1_ledger(
        """
        C-1  2026-01-10  charge            100.01
        P-1  2026-01-20  patient_payment  -150.00
        """
    )
    answer = api.push(entries)
    assert answer["statements"]["allocations_created"] == 1
    [statement] = api.statements()
    assert balance(statement) == (Decimal("100.01"), Decimal("100.01"), Decimal("0.00"))
    # 150.00 paid = 100.01 allocated + 49.99 left as unapplied credit.
    assert allocations_of(api) == {f"ALLOC-P-1-{statement['id']}": Decimal("-100.01")}
    assert_view_matches(read_view(api), entries)


def test_a_month_whose_net_is_not_positive_has_no_statement(api: LedgerApi) -> None:
    entries = pt1_ledger(
        """
        C-JAN  2026-01-05  charge            50.00
        K-JAN  2026-01-25  other_credit     -50.00
        C-FEB  2026-02-05  adjustment        20.00
        K-FEB  2026-02-06  other_credit     -30.00
        C-MAR  2026-03-05  charge            40.00
        P-MAR  2026-03-06  patient_payment  -25.00
        """
    )
    answer = api.push(entries)
    assert answer["statements"]["created"] == 1
    [statement] = api.statements()
    # February's credit of 10.00 is not netted into March: it is unapplied credit.
    assert (statement["external_invoice_id"], statement["amount"], statement["paid_amount"]) == (
        "STMT-2026-03-PT-1",
        Decimal("40.00"),
        Decimal("25.00"),
    )
    rows = rows_by_external_id(api)
    assert [rows[x]["invoice_id"] for x in ("C-JAN", "K-JAN", "C-FEB", "K-FEB")] == [None] * 4
    assert rows["C-MAR"]["invoice_id"] == rows["P-MAR"]["invoice_id"] == statement["id"]
    assert_view_matches(read_view(api), entries)


def test_same_day_payments_are_applied_in_external_id_order(api: LedgerApi) -> None:
    # PAY-B is pushed first and created first; PAY-A still goes first.
    api.push(
        pt1_ledger(
            """
            C-JAN  2026-01-10  charge            100.00
            C-FEB  2026-02-10  charge            100.00
            PAY-B  2026-03-01  patient_payment  -150.00
            """
        )
    )
    api.push([pt1("PAY-A", "2026-03-01", "insurance_payment", "-30.00")])
    statements = statements_by_number(api)
    jan, feb = statements["STMT-2026-01-PT-1"]["id"], statements["STMT-2026-02-PT-1"]["id"]
    assert allocations_of(api) == {
        f"ALLOC-PAY-A-{jan}": Decimal("-30.00"),
        f"ALLOC-PAY-B-{jan}": Decimal("-70.00"),
        f"ALLOC-PAY-B-{feb}": Decimal("-80.00"),
    }
    rows = rows_by_external_id(api)
    assert rows["PAY-A"]["invoice_id"] == rows["PAY-B"]["invoice_id"] == jan


def test_a_month_that_stops_qualifying_loses_its_never_enrolled_statement_and_allocations(
    live: httpx.Client, api: LedgerApi
) -> None:
    api.push(PART_PAID)
    [statement] = api.statements()
    assert len(allocations_of(api)) == 1

    answer = api.push([VOIDED])
    assert answer["statements"] == statement_counts(total=1, updated=1)
    assert api.statements() == []
    response = live.get(f"/statements/{statement['id']}")
    assert response.status_code == 404, response.text
    assert allocations_of(api) == {}
    rows = rows_by_external_id(api)
    assert rows["C-1"]["invoice_id"] is None
    assert rows["P-1"]["invoice_id"] is None


def test_an_enrolled_statement_that_stops_qualifying_is_kept_at_zero(
    api: LedgerApi, company: dict[str, Any]
) -> None:
    api.push(PART_PAID)
    [statement] = api.statements()
    enrolled = api.enroll(statement["id"], company["sa_campaign_id"])
    assert enrolled["enrolled_count"] == 1

    answer = api.push([VOIDED])
    assert answer["statements"]["updated"] == 1
    [kept] = api.statements()
    assert kept["id"] == statement["id"]
    assert balance(kept) == (0, 0, 0)
    assert kept["status"] == "in_progress"
    assert kept["enrollment_status"] != "not_enrolled"
    assert allocations_of(api) == {}
    assert api.statement(kept["id"])["entries"] == []
    assert rows_by_external_id(api)["P-1"]["invoice_id"] is None

    # The month qualifies again: the same statement carries the new amount.
    api.push([pt1("C-1", "2026-01-10", "charge", "70.00")])
    [again] = api.statements()
    assert again["id"] == statement["id"]
    assert (again["amount"], again["paid_amount"]) == (Decimal("70.00"), Decimal("40.00"))
    assert again["status"] == "in_progress"


def test_repushing_an_entry_under_another_customer_reaggregates_both(live: httpx.Client) -> None:
    api = fresh_api(live, "PT-A", "PT-B")
    pushed = [
        entry("X", "PT-A", "2026-01-10", "charge", "100.00"),
        entry("PA", "PT-A", "2026-01-11", "patient_payment", "-30.00"),
        entry("Y", "PT-B", "2026-01-12", "charge", "50.00"),
    ]
    api.push(pushed)
    moved = entry("X", "PT-B", "2026-01-10", "charge", "100.00")
    answer = api.push([moved])
    assert answer["ledger_entries"]["updated"] == 1
    # PT-A's January statement is deleted and PT-B's changes: both count as updated.
    assert answer["statements"] == statement_counts(total=2, updated=2)
    assert paid(api) == {"STMT-2026-01-PT-B": (Decimal("150.00"), Decimal("0.00"))}
    assert rows_by_external_id(api)["PA"]["invoice_id"] is None
    assert_view_matches(read_view(api), [moved, *pushed[1:]])


def test_invoice_links_point_billable_rows_at_their_month_and_payments_at_the_oldest_paid(
    api: LedgerApi,
) -> None:
    entries = pt1_ledger(
        """
        C-JAN  2026-01-10  charge               60.00
        K-FEB  2026-02-10  other_credit         -5.00
        C-MAR  2026-03-10  charge               60.00
        P-1    2026-01-15  patient_payment    -100.00
        P-2    2026-01-16  insurance_payment   -20.00
        P-3    2026-01-17  patient_payment      -7.00
        P-0    2026-01-18  patient_payment       0.00
        """
    )
    api.push(entries)
    statements = statements_by_number(api)
    jan, mar = statements["STMT-2026-01-PT-1"]["id"], statements["STMT-2026-03-PT-1"]["id"]
    rows = rows_by_external_id(api)
    assert {e.external_id: rows[e.external_id]["invoice_id"] for e in entries} == {
        "C-JAN": jan,
        "K-FEB": None,  # February has no statement
        "C-MAR": mar,
        "P-1": jan,  # paid January and March: the oldest
        "P-2": mar,  # paid March only
        "P-3": None,  # nothing left to pay: unallocated
        "P-0": None,  # a void pays nothing
    }
    assert_view_matches(read_view(api), entries)


def test_a_repeated_external_id_in_one_request_keeps_the_last_and_skips_the_earlier(
    live: httpx.Client,
) -> None:
    api = fresh_api(live, "PT-A", "PT-B")
    answer = api.push(
        [
            entry("X", "PT-A", "2026-01-10", "charge", "100.00"),
            entry("X", "PT-A", "2026-02-10", "charge", "70.00"),
            entry("Y", "PT-A", "2026-01-10", "charge", "5.00"),
            entry("X", "PT-B", "2026-01-31", "charge", "30.00"),
        ]
    )
    assert {k: v for k, v in answer["ledger_entries"].items() if k != "errors"} == {
        "total": 4,
        "created": 2,
        "updated": 0,
        "skipped": 2,
        "failed": 0,
    }
    assert paid(api) == {
        "STMT-2026-01-PT-A": (Decimal("5.00"), Decimal("0.00")),
        "STMT-2026-01-PT-B": (Decimal("30.00"), Decimal("0.00")),
    }


def test_repushing_identical_entries_counts_them_updated_and_the_statements_skipped(
    api: LedgerApi,
) -> None:
    entries = pt1_ledger(
        """
        C-1  2026-01-10  charge            10.00
        C-2  2026-02-10  charge            20.00
        P-1  2026-02-11  patient_payment  -15.00
        """
    )
    api.push(entries)
    answer = api.push(entries)
    assert (answer["ledger_entries"]["created"], answer["ledger_entries"]["updated"]) == (0, 3)
    assert answer["statements"] == statement_counts(total=2, skipped=2, allocations_created=2)


def test_amounts_travel_as_exact_decimals(live: httpx.Client, api: LedgerApi) -> None:
    api.push(
        pt1_ledger(
            """
            C-1  2026-01-10  charge            0.10
            C-2  2026-01-11  charge            0.20
            P-1  2026-01-12  patient_payment  -0.30
            """
        )
    )
    [statement] = envelope_data(live.get("/statements"))["statements"]
    assert (statement["amount"], statement["outstanding"]) == (Decimal("0.30"), Decimal("0"))
