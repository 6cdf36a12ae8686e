"""AR ledger entries and customers as the pipeline pushes them, drawn with the demo's
catalog and randomness: a plain ledger for benchmarks and tests that need no source.

A ledger is visits. Each visit is one customer on one day and brings one entry per slot
of a ``Mix``; a slot draws its entry's ``Kind`` by weight, then the amount in cents
between the kind's bounds, signed as the pipeline signs the type (credits negative),
and the date some days after the visit. A mix of one slot is a ledger of independent
entries. Charges name a procedure of the catalog. A kind may be written as a plain
tuple: ``("charge", 64, 2_000, 150_000)``, with the days after the visit last.

The types and their signs are the pipeline's own (``ar_pipelines.normalize``), so that
hypothesis strategies and every generated ledger speak of the same entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import NamedTuple, NotRequired, TypedDict

import numpy as np
import numpy.typing as npt

from ar_demo.catalog import EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, PROCEDURES
from ar_demo.dates import day_number
from ar_pipelines.normalize.transactions import CREDIT_TYPES, LEDGER_TYPES

Ints = npt.NDArray[np.int64]
NONE = -1
CENT = Decimal("0.01")
# +1 for a type whose amounts are >= 0, -1 for one whose amounts are <= 0.
SIGN = {kind: -1 if kind in CREDIT_TYPES else 1 for kind in LEDGER_TYPES}
DEBITS = tuple(kind for kind in LEDGER_TYPES if SIGN[kind] > 0)
CREDITS = tuple(kind for kind in LEDGER_TYPES if SIGN[kind] < 0)
CHARGE = LEDGER_TYPES.index("charge")


class Kind(NamedTuple):
    """An entry a slot may draw: its type, how often (weight), its amount in cents
    (both bounds included, before the type's sign) and its days after the visit (both
    bounds included)."""

    transaction_type: str
    weight: float
    low_cents: int
    high_cents: int
    first_day_after: int = 0
    last_day_after: int = 0


Slot = Sequence[tuple[str, float, int, int] | tuple[str, float, int, int, int, int]]
Mix = Sequence[Slot]  # one slot per entry of a visit

# A practice's ledger, as (type, weight, lowest cents, highest cents): three entries in
# four are debits up to $400 (four charges to one adjustment and one other debit), one in
# twenty a credit up to $50, the rest payments up to $200.
_PRACTICE_DEBITS = {"charge": 4, "adjustment": 1, "other_debit": 1}
PRACTICE_MIX: Mix = (
    (
        *((kind, 75 * share / 6, 0, 40_000) for kind, share in _PRACTICE_DEBITS.items()),
        ("other_credit", 5, 100, 5_000),
        ("patient_payment", 10, 100, 20_000),
        ("insurance_payment", 10, 100, 20_000),
    ),
)


class Period(NamedTuple):
    """``months`` whole calendar months from the month of ``first``."""

    first: date
    months: int

    @property
    def last(self) -> date:
        return self.month_start(self.months) - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def month_start(self, month: int) -> date:
        """The first day of the period's month ``month`` (0 is its first)."""
        index = self.first.year * 12 + self.first.month - 1 + month
        return date(index // 12, index % 12 + 1, 1)

    def month_edges(self) -> tuple[date, ...]:
        """The first and the last day of every month, in order."""
        starts = [self.month_start(month) for month in range(self.months + 1)]
        return tuple(
            day
            for start, following in pairwise(starts)
            for day in (start, following - timedelta(days=1))
        )


@dataclass(frozen=True)
class DrawnLedger:
    """One column per field; row i of every column is one entry, in visit order unless
    shuffled. ``number`` is the entry's place in visit order (its external id's number)."""

    number: Ints
    customer: Ints  # 0 to customers - 1
    day: Ints  # days since 1970-01-01
    type: Ints  # index into LEDGER_TYPES
    cents: Ints  # signed
    procedure: Ints  # index into PROCEDURES on charges, else -1

    def __len__(self) -> int:
        return len(self.number)

    def take(self, index: Ints) -> DrawnLedger:
        return DrawnLedger(*(getattr(self, f.name)[index] for f in fields(self)))


class EntryRow(TypedDict):
    external_id: str
    customer_external_id: str
    transaction_date: date
    transaction_type: str
    amount: Decimal
    procedure_code: NotRequired[str]
    description: NotRequired[str]


class CustomerRow(TypedDict):
    external_id: str
    email: str
    first_name: str
    last_name: str


def draw_ledger(
    entries: int,
    customers: int,
    *,
    seed: int,
    period: Period,
    mix: Mix = PRACTICE_MIX,
    even: bool = False,
    shuffle: bool = False,
) -> DrawnLedger:
    """``entries`` entries of ``customers`` customers, visits falling on the days of
    ``period``: the same for the same arguments, on every run and machine.

    Visits go to customers at random, or with ``even`` in equal runs (with as many
    visits as customers, each customer has one). ``shuffle`` puts the entries in no
    particular order, as an extract would come.
    """
    if entries < 0 or customers < 1 or not mix:
        raise ValueError("entries must be at least 0, customers at least 1, the mix not empty")
    rng = np.random.default_rng(seed)
    visits = -(-entries // len(mix))
    if even:
        customer = np.arange(visits, dtype=np.int64) * customers // max(visits, 1)
    else:
        customer = rng.integers(0, customers, visits)
    visit_day = day_number(period.first) + rng.integers(0, period.days, visits)
    drawn = [_draw_slot(rng, slot, visit_day) for slot in mix]
    kind = np.stack([d[0] for d in drawn], axis=1).ravel()[:entries]
    cents = np.stack([d[1] for d in drawn], axis=1).ravel()[:entries]
    day = np.stack([d[2] for d in drawn], axis=1).ravel()[:entries]
    sign = np.array([SIGN[k] for k in LEDGER_TYPES], dtype=np.int64)
    procedure = np.where(kind == CHARGE, rng.integers(0, len(PROCEDURES), entries), NONE)
    ledger = DrawnLedger(
        number=np.arange(entries, dtype=np.int64),
        customer=np.repeat(customer, len(mix))[:entries],
        day=day,
        type=kind,
        cents=cents * sign[kind],
        procedure=procedure,
    )
    return ledger.take(rng.permutation(entries)) if shuffle else ledger


def _draw_slot(rng: np.random.Generator, slot: Slot, visit_day: Ints) -> tuple[Ints, Ints, Ints]:
    """Each visit's entry of this slot: its type, cents (unsigned) and day."""
    kinds = [Kind(*row) for row in slot]
    weights = np.array([k.weight for k in kinds], dtype=np.float64)
    pick = rng.choice(len(kinds), len(visit_day), p=weights / weights.sum())

    def between(low: list[int], high: list[int]) -> Ints:
        return rng.integers(np.array(low)[pick], np.array(high)[pick] + 1)

    kind = np.array([LEDGER_TYPES.index(k.transaction_type) for k in kinds], dtype=np.int64)
    cents = between([k.low_cents for k in kinds], [k.high_cents for k in kinds])
    lag = between([k.first_day_after for k in kinds], [k.last_day_after for k in kinds])
    return kind[pick], cents, visit_day + lag


def entry_rows(
    ledger: DrawnLedger,
    *,
    entry_ids: str = "TX-{:07d}",
    customer_ids: str = "PT-{:05d}",
    procedures: bool = True,
) -> list[EntryRow]:
    """The entries as records to push: ids from ``number`` and ``customer`` by the two
    formats, amounts as Decimal to the cent, and on charges (with ``procedures``) the
    procedure's code and description."""
    days = ledger.day.astype("datetime64[D]").tolist()
    rows: list[EntryRow] = []
    for i in range(len(ledger)):
        row: EntryRow = {
            "external_id": entry_ids.format(int(ledger.number[i])),
            "customer_external_id": customer_ids.format(int(ledger.customer[i])),
            "transaction_date": days[i],
            "transaction_type": LEDGER_TYPES[ledger.type[i]],
            "amount": _amount(int(ledger.cents[i])),
        }
        if procedures and ledger.procedure[i] != NONE:
            procedure = PROCEDURES[ledger.procedure[i]]
            row["procedure_code"], row["description"] = procedure.code, procedure.description
        rows.append(row)
    return rows


def customer_rows(count: int, *, seed: int, customer_ids: str = "PT-{:05d}") -> list[CustomerRow]:
    """Customers 0 to ``count`` - 1 under the ids of ``entry_rows``, named from the catalog."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, len(FIRST_NAMES), count)
    last = rng.integers(0, len(LAST_NAMES), count)
    rows: list[CustomerRow] = []
    for number in range(count):
        external_id = customer_ids.format(number)
        rows.append(
            {
                "external_id": external_id,
                "email": f"{external_id.lower()}@{EMAIL_DOMAINS[0]}",
                "first_name": FIRST_NAMES[first[number]],
                "last_name": LAST_NAMES[last[number]],
            }
        )
    return rows


def _amount(cents: int) -> Decimal:
    """Cents as an amount to the cent: ``-61.50``, ``0.00``."""
    return Decimal(cents).scaleb(-2).quantize(CENT)
