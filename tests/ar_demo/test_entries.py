"""The plain ledger generator: AR ledger entries and customers drawn from the demo's
catalog, seeded, in the pipeline's types and signs."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import numpy as np

from ar_demo.catalog import PROCEDURES
from ar_demo.dates import day_number
from ar_demo.entries import (
    CREDITS,
    DEBITS,
    PRACTICE_MIX,
    SIGN,
    Kind,
    Mix,
    Period,
    customer_rows,
    draw_ledger,
    entry_rows,
)
from ar_pipelines.normalize.transactions import CREDIT_TYPES, LEDGER_TYPES

YEAR = Period(date(2025, 1, 1), 12)
VISIT: Mix = (
    (Kind("charge", 1, 100, 200),),
    (("insurance_payment", 3, 50, 80, 14, 28), ("patient_payment", 1, 10, 20, -7, -1)),
)


def test_the_types_and_their_signs_are_the_pipelines() -> None:
    assert set(SIGN) == set(LEDGER_TYPES) == set(DEBITS) | set(CREDITS)
    assert set(CREDITS) == set(CREDIT_TYPES)
    assert all(SIGN[kind] == 1 for kind in DEBITS)
    assert all(SIGN[kind] == -1 for kind in CREDITS)


def test_a_period_is_whole_calendar_months() -> None:
    period = Period(date(2025, 11, 1), 4)
    assert (period.last, period.days) == (date(2026, 2, 28), 30 + 31 + 31 + 28)
    assert Period(date(2026, 1, 1), 2).month_edges() == (
        date(2026, 1, 1),
        date(2026, 1, 31),
        date(2026, 2, 1),
        date(2026, 2, 28),
    )


def test_the_same_arguments_draw_the_same_ledger_and_another_seed_another() -> None:
    def rows(seed: int) -> list[object]:
        return list(entry_rows(draw_ledger(500, 20, seed=seed, period=YEAR, shuffle=True)))

    assert rows(1) == rows(1)
    assert rows(1) != rows(2)
    assert customer_rows(5, seed=1) == customer_rows(5, seed=1)


def test_entries_fall_in_the_period_with_their_types_sign_and_bounds() -> None:
    ledger = draw_ledger(3_000, 40, seed=3, period=YEAR)
    bounds = {kind: (low, high) for kind, _, low, high, *_ in PRACTICE_MIX[0]}
    assert len(ledger) == 3_000
    assert day_number(YEAR.first) <= ledger.day.min() <= ledger.day.max() <= day_number(YEAR.last)
    assert set(ledger.customer.tolist()) <= set(range(40))
    for kind, cents in zip(ledger.type.tolist(), ledger.cents.tolist(), strict=True):
        name = LEDGER_TYPES[kind]
        low, high = bounds[name]
        assert low <= SIGN[name] * cents <= high
    assert {LEDGER_TYPES[k] for k in ledger.type.tolist()} == set(bounds)


def test_only_charges_name_a_procedure_of_the_catalog() -> None:
    ledger = draw_ledger(2_000, 10, seed=4, period=YEAR)
    charge = ledger.type == LEDGER_TYPES.index("charge")
    assert (ledger.procedure[~charge] == -1).all()
    assert ((ledger.procedure[charge] >= 0) & (ledger.procedure[charge] < len(PROCEDURES))).all()


def test_a_visit_brings_one_entry_per_slot_on_the_days_after_it() -> None:
    ledger = draw_ledger(1_000, 30, seed=5, period=YEAR, mix=VISIT)
    first, second = ledger.take(np.arange(0, 1_000, 2)), ledger.take(np.arange(1, 1_000, 2))
    assert (first.customer == second.customer).all()
    assert (first.type == LEDGER_TYPES.index("charge")).all()
    lag = second.day - first.day
    insurance = second.type == LEDGER_TYPES.index("insurance_payment")
    assert ((lag[insurance] >= 14) & (lag[insurance] <= 28)).all()
    assert ((lag[~insurance] >= -7) & (lag[~insurance] <= -1)).all()
    assert 0 < insurance.sum() < len(insurance)


def test_even_customers_get_as_many_entries_each_and_shuffling_keeps_the_entries() -> None:
    ledger = draw_ledger(30 * 7, 30, seed=6, period=YEAR, even=True)
    assert set(Counter(ledger.customer.tolist()).values()) == {7}
    shuffled = draw_ledger(30 * 7, 30, seed=6, period=YEAR, even=True, shuffle=True)
    assert sorted(shuffled.number.tolist()) == list(range(30 * 7))
    assert shuffled.number.tolist() != sorted(shuffled.number.tolist())
    assert set(Counter(shuffled.customer.tolist()).values()) == {7}


def test_rows_carry_the_ids_amounts_to_the_cent_and_procedures_of_charges() -> None:
    ledger = draw_ledger(200, 5, seed=8, period=YEAR)
    rows = entry_rows(ledger, entry_ids="E-{:04d}", customer_ids="C-{:02d}")
    assert [row["external_id"] for row in rows] == [f"E-{n:04d}" for n in range(200)]
    assert {row["customer_external_id"] for row in rows} <= {f"C-{n:02d}" for n in range(5)}
    for row in rows:
        assert row["amount"] == row["amount"].quantize(Decimal("0.01"))
        assert row["amount"].as_tuple().exponent == -2
        assert isinstance(row["transaction_date"], date)
        assert ("procedure_code" in row) == (row["transaction_type"] == "charge")
    plain = entry_rows(ledger, procedures=False)
    assert all("procedure_code" not in row and "description" not in row for row in plain)


def test_customers_are_named_from_the_catalog_under_the_entries_ids() -> None:
    customers = customer_rows(3, seed=1, customer_ids="C-{:02d}")
    assert [c["external_id"] for c in customers] == ["C-00", "C-01", "C-02"]
    assert customers[0]["email"] == "c-00@example.com"
    assert all(c["first_name"] and c["last_name"] for c in customers)
