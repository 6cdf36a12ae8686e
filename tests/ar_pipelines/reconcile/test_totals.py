"""Totals, months and samples: exact sums of the inputs, and views safe to put in JSON."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ar_pipelines.client.models import Statement
from ar_pipelines.reconcile import Status, reconcile
from tests.ar_pipelines.reconcile.statements import (
    ar_statement,
    both_sides,
    local_frame,
    local_row,
)

MONTHS = ["2025-11", "2025-12", "2026-01", "2026-02"]
FATES = ("same", "amount", "paid", "not_in_ar", "only_in_ar", "zeroed_in_ar")
EXPECTED_STATUS = {
    "same": Status.MATCHED,
    "amount": Status.AMOUNT_MISMATCH,
    "paid": Status.PAID_MISMATCH,
    "not_in_ar": Status.MISSING_IN_AR,
    "only_in_ar": Status.UNEXPECTED_IN_AR,
    "zeroed_in_ar": Status.MATCHED,
}

cents = st.integers(min_value=1, max_value=10**11)
statement_plans = st.dictionaries(
    keys=st.tuples(st.sampled_from(["PT-1", "PT-2", "PT-3", "P<4>"]), st.sampled_from(MONTHS)),
    values=st.tuples(cents, st.integers(0, 100), st.sampled_from(FATES), cents),
    max_size=16,
)


def money(cents: int) -> str:
    return str(Decimal(cents).scaleb(-2))


@settings(max_examples=60, deadline=None)
@given(plans=statement_plans, as_float=st.booleans())
def test_every_statement_gets_the_status_its_fate_calls_for_and_totals_are_the_input_sums(
    plans: dict[tuple[str, str], tuple[int, int, str, int]], as_float: bool
) -> None:
    local_rows, ar, expected = [], [], {}
    for (customer, month), (amount, paid_share, fate, other) in plans.items():
        paid = amount * paid_share // 100
        ar_amount, ar_paid = amount, paid
        if fate == "amount":
            ar_amount = amount + other if amount + other != amount else amount + 1
        if fate == "paid":
            ar_paid = paid + 1 if paid < amount else paid - 1
        if fate == "zeroed_in_ar":
            ar_amount = ar_paid = 0
        if fate not in ("only_in_ar", "zeroed_in_ar"):
            # Amounts within the contract (< 10^10) have at most 12 digits: a float's
            # shortest repr gives them back.
            typed = float if as_float else str
            local_rows.append(local_row(customer, month, typed(money(amount)), typed(money(paid))))
        if fate != "not_in_ar":
            ar.append(ar_statement(customer, month, money(ar_amount), money(ar_paid)))
        expected[f"STMT-{month}-{customer}"] = EXPECTED_STATUS[fate]

    result = reconcile("PR-1", local_frame(*local_rows), ar)

    assert dict(zip(result.rows["key"], result.rows["status"], strict=True)) == expected
    counts = result.counts()
    assert {s: counts[s] for s in Status} == {s: Counter(expected.values())[s] for s in Status}
    assert counts["total"] == len(plans)
    assert counts["zeroed_in_ar"] == sum(f == "zeroed_in_ar" for *_, f, _ in plans.values())
    assert result.clean == all(s == Status.MATCHED for s in expected.values())
    assert result.summary()["totals"] == expected_totals(local_rows, ar)


def expected_totals(local_rows: list[dict[str, object]], ar: list[Statement]) -> dict[str, str]:
    def total(values: list[object]) -> str:
        return str(
            sum((Decimal(str(v)).quantize(Decimal("0.01")) for v in values), Decimal("0.00"))
        )

    return {
        "local_billed": total([r["amount"] for r in local_rows]),
        "local_paid": total([r["paid_amount"] for r in local_rows]),
        "local_outstanding": total([r["outstanding"] for r in local_rows]),
        "ar_billed": total([s.amount for s in ar]),
        "ar_paid": total([s.paid_amount for s in ar]),
        "ar_outstanding": total([s.outstanding for s in ar]),
    }


def test_by_month_sums_each_side_per_statement_month() -> None:
    local, ar = both_sides(
        ("PT-1", "2026-01", ("100.00", "40.00"), ("100.00", "40.00")),
        ("PT-2", "2026-01", ("0.10", "0.00"), ("0.20", "0.10")),
        ("PT-1", "2026-02", ("50.00", "0.00"), None),
        ("PT-9", "2026-03", None, ("7.00", "0.00")),
    )

    by_month = reconcile("PR-1", local, ar).by_month

    assert by_month.to_dict("records") == [
        {
            "month": date(2026, 1, 1),
            "local_billed": Decimal("100.10"),
            "local_paid": Decimal("40.00"),
            "local_outstanding": Decimal("60.10"),
            "ar_billed": Decimal("100.20"),
            "ar_paid": Decimal("40.10"),
            "ar_outstanding": Decimal("60.10"),
        },
        {
            "month": date(2026, 2, 1),
            "local_billed": Decimal("50.00"),
            "local_paid": Decimal("0.00"),
            "local_outstanding": Decimal("50.00"),
            "ar_billed": Decimal("0.00"),
            "ar_paid": Decimal("0.00"),
            "ar_outstanding": Decimal("0.00"),
        },
        {
            "month": date(2026, 3, 1),
            "local_billed": Decimal("0.00"),
            "local_paid": Decimal("0.00"),
            "local_outstanding": Decimal("0.00"),
            "ar_billed": Decimal("7.00"),
            "ar_paid": Decimal("0.00"),
            "ar_outstanding": Decimal("7.00"),
        },
    ]


def test_outstanding_is_derived_from_amount_and_paid_when_a_side_does_not_state_it() -> None:
    local = local_frame(local_row("PT-1", "2026-01", "100.00", "40.00")).drop(
        columns=["outstanding"]
    )

    result = reconcile("PR-1", local, [ar_statement("PT-1", "2026-01", "100.00", "40.00")])

    assert result.rows["local_outstanding"].iloc[0] == Decimal("60.00")
    assert result.totals()["local_outstanding"] == Decimal("60.00")


def test_mismatch_samples_are_json_safe_largest_difference_first_and_limited() -> None:
    unpaid_ten = ("10.00", "0.00")  # every local statement: 10.00 billed, nothing paid
    local, ar = both_sides(
        ("PT-1", "2026-01", unpaid_ten, unpaid_ten),
        ("PT-2", "2026-01", unpaid_ten, ("10.50", "0.00")),
        ("PT-3", "2026-01", unpaid_ten, ("10.00", "3.00")),
        ("PT-4", "2026-01", unpaid_ten, None),
        ("PT-9", "2026-01", None, ("900.00", "0.00")),
    )
    result = reconcile("PR-1", local, ar)

    samples = result.mismatches(limit=3)

    assert json.loads(json.dumps(samples)) == samples
    assert [s["key"] for s in samples] == [
        "STMT-2026-01-PT-9",  # 900.00 unexpected
        "STMT-2026-01-PT-4",  # 10.00 missing
        "STMT-2026-01-PT-2",  # 0.50 amount
    ]
    assert samples[0] == {
        "key": "STMT-2026-01-PT-9",
        "customer_external_id": "PT-9",
        "period_start": "2026-01-01",
        "status": "unexpected_in_ar",
        "local_amount": None,
        "ar_amount": "900.00",
        "amount_difference": "900.00",
        "local_paid": None,
        "ar_paid": "0.00",
        "paid_difference": "0.00",
        "local_outstanding": None,
        "ar_outstanding": "900.00",
        "ar_statement_id": ar[3].id,
        "ar_status": "not_assigned",
        "enrollment_status": "not_enrolled",
        "zeroed_in_ar": False,
    }
    assert len(result.mismatches()) == 4


def test_the_summary_is_json_safe_and_says_whether_it_is_clean() -> None:
    local = local_frame(local_row("PT-1", "2026-01", 10.1, 0.0))
    result = reconcile("PR-1", local, [ar_statement("PT-1", "2026-01", "10.10", "0.00")])

    summary = result.summary()

    assert json.loads(json.dumps(summary)) == summary
    assert summary == {
        "practice_id": "PR-1",
        "clean": True,
        "counts": {
            "matched": 1,
            "amount_mismatch": 0,
            "paid_mismatch": 0,
            "missing_in_ar": 0,
            "unexpected_in_ar": 0,
            "total": 1,
            "zeroed_in_ar": 0,
        },
        "totals": {
            "local_billed": "10.10",
            "local_paid": "0.00",
            "local_outstanding": "10.10",
            "ar_billed": "10.10",
            "ar_paid": "0.00",
            "ar_outstanding": "10.10",
        },
    }
