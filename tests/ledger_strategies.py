"""Random ledgers (hypothesis strategies) for the statement tests, local and in the
sandbox.

``ledger_entries``: one whole ledger of many independent customers, so one example
exercises many cases: months whose net is zero or negative, payments before any
statement, overpayments, payments of zero, several payments on one day whose external
ids differ only in case (byte order puts "B" before "a"), amounts in odd cents.

``push_sequences`` and ``crowded_sequences``: batches pushed one after another, drawn
from a small pool of ids, so that re-pushes (amount changes, moves between customers,
type changes, voids) and duplicates within one request are common.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from hypothesis import strategies as st

from ar_demo.entries import CREDITS, DEBITS, SIGN, Period
from ar_pipelines.statements.reference import LedgerEntry

# --- whole ledgers ---------------------------------------------------------------------

# Few days over a few months, so that entries share days and months.
DAYS = [date(2025, 11, 30), date(2025, 12, 1), date(2026, 1, 15), date(2026, 1, 31)]
DAYS += [date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 2)]
ID_PREFIXES = st.text(alphabet="aAbB9_-", min_size=1, max_size=2)


def ledger_entries() -> st.SearchStrategy[list[LedgerEntry]]:
    return st.integers(min_value=8, max_value=30).flatmap(_customers)


def _customers(count: int) -> st.SearchStrategy[list[LedgerEntry]]:
    names = [f"PT-{n:03}" if n % 3 else f"pt{n}" for n in range(count)]
    return st.tuples(*(_customer_entries(name) for name in names)).map(
        lambda groups: [entry for group in groups for entry in group]
    )


@st.composite
def _customer_entries(draw: st.DrawFn, customer: str) -> list[LedgerEntry]:
    size = draw(st.integers(min_value=1, max_value=12))
    entries = []
    for index in range(size):
        kind = draw(st.sampled_from(DEBITS + CREDITS))
        cents = draw(st.one_of(st.just(0), st.integers(min_value=1, max_value=40_000)))
        amount = Decimal(SIGN[kind] * cents) / 100
        # The prefix decides the order of same-day payments; the rest keeps ids unique.
        external_id = f"{draw(ID_PREFIXES)}~{customer}~{index}"
        day = draw(st.sampled_from(DAYS))
        entries.append(LedgerEntry(external_id, customer, day, kind, amount))
    return entries


# --- sequences of pushes ---------------------------------------------------------------

CUSTOMERS = ("PT-A", "PT-B", "PT-C")  # the customers the pushes name
# Cents that split unevenly across statements, and now and then a void (amount 0).
cents = st.one_of(
    st.integers(min_value=1, max_value=40_000),
    st.sampled_from([0, 1, 33, 10_001, 33_333]),
)
# A few fixed days (month edges) make same-day payments and shared months common.
PUSHED = Period(date(2026, 1, 1), 4)
FEW_DAYS = Period(PUSHED.first, 2).month_edges()
days = st.one_of(
    st.sampled_from(FEW_DAYS),
    st.dates(min_value=PUSHED.first, max_value=PUSHED.last),
)


@st.composite
def ledger_entry(
    draw: st.DrawFn,
    external_ids: Sequence[str],
    customers: Sequence[str],
    on: st.SearchStrategy[date],
) -> LedgerEntry:
    kind = draw(st.sampled_from(sorted(SIGN)))
    return LedgerEntry(
        external_id=draw(st.sampled_from(external_ids)),
        customer=draw(st.sampled_from(customers)),
        transaction_date=draw(on),
        transaction_type=kind,
        amount=(Decimal(SIGN[kind] * draw(cents)) / 100).quantize(Decimal("0.01")),
    )


# A small id pool makes re-pushes and duplicates within one request common.
push_sequences = st.lists(
    st.lists(
        ledger_entry([f"TX-{n}" for n in range(1, 11)], CUSTOMERS, days),
        min_size=1,
        max_size=10,
    ),
    min_size=1,
    max_size=5,
)
# Many entries of two customers on four days: same-day payments, splits across months.
crowded_sequences = st.lists(
    st.lists(
        ledger_entry([f"TX-{n}" for n in range(1, 17)], CUSTOMERS[:2], st.sampled_from(FEW_DAYS)),
        min_size=4,
        max_size=16,
    ),
    min_size=1,
    max_size=3,
)
