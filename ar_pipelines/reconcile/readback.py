"""AR's statements read back a month at a time, several months at once.

A list endpoint pages by offset: the server counts and sorts the whole filtered set for
every page, so reading N statements in one listing costs about N^2 / page size. Reading
one statement month at a time (``from_date`` on ``period_start``, ``to_date`` on
``period_end``; a statement spans exactly one month) keeps each listing small, and the
months are independent, so they are read side by side. Two open windows, before the
first month and after the last, catch statements AR holds outside the months expected,
so nothing AR has is missed.

A nightly read-back reads only the customers the night's push touched: a listing per
customer (``customer_external_id``), unless most of the practice was touched, when
reading every month costs fewer requests (``listing_requests``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from ar_pipelines.client import ARClient
from ar_pipelines.client.models import Statement
from ar_pipelines.reconcile.inputs import ar_statements_frame

PAGE = 100  # the most statements a page of AR's list holds


@dataclass(frozen=True)
class Window:
    """Statements with ``period_start >= from_date`` and ``period_end <= to_date``."""

    from_date: date | None
    to_date: date | None


def month_windows(months: Iterable[date]) -> list[Window]:
    """One window per month (each a month's first day), and the open ones around them;
    one window for everything when no month is given."""
    firsts = sorted({m.replace(day=1) for m in months})
    if not firsts:
        return [Window(None, None)]
    windows = [Window(None, firsts[0] - timedelta(days=1))]
    windows += [Window(first, _month_end(first)) for first in firsts]
    # Months between the expected ones (none expected there) are read too, so the open
    # windows and the months cover every period without a gap.
    gaps = _missing_months(firsts)
    windows += [Window(first, _month_end(first)) for first in gaps]
    windows.append(Window(_month_end(firsts[-1]) + timedelta(days=1), None))
    return windows


def read_statements(
    client: ARClient, months: Iterable[date], *, concurrency: int = 4
) -> pd.DataFrame:
    """Every statement AR holds for the client's company, as ``ar_statements_frame``."""
    windows = month_windows(months)
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        parts = list(pool.map(lambda window: _read(client, window), windows))
    statements = [statement for part in parts for statement in part]
    frame = ar_statements_frame(statements)
    return frame.drop_duplicates("id", keep="first").reset_index(drop=True)


def read_customers_statements(
    client: ARClient, customers: Sequence[str], *, concurrency: int = 4
) -> pd.DataFrame:
    """The statements AR holds for each of ``customers`` (external ids), a listing per
    customer, several at once; as ``ar_statements_frame`` with ``customer_external_id``."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        parts = list(pool.map(lambda customer: _read_customer(client, customer), customers))
    statements = [statement for part in parts for statement in part]
    owners = [customer for customer, part in zip(customers, parts, strict=True) for _ in part]
    frame = ar_statements_frame(statements).assign(
        customer_external_id=pd.Series(owners, dtype=object)
    )
    return frame.drop_duplicates("id", keep="first").reset_index(drop=True)


def listing_requests(*, customers: int, held: int, months: int) -> tuple[int, int]:
    """About how many requests reading ``customers`` customers' statements costs by
    customer (a page each: a customer has a statement a month) and by month (every
    month's pages, ``held`` statements in all, and the two open windows)."""
    by_customer = customers
    by_month = months + 2 + -(-held // PAGE)
    return by_customer, by_month


def _read_customer(client: ARClient, customer: str) -> list[Statement]:
    return list(client.statements.list(customer_external_id=customer, per_page=PAGE))


def _read(client: ARClient, window: Window) -> list[Statement]:
    listing: Iterator[Statement] = client.statements.list(
        from_date=window.from_date, to_date=window.to_date, per_page=PAGE
    )
    return list(listing)


def _month_end(first: date) -> date:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _missing_months(firsts: Sequence[date]) -> list[date]:
    present = set(firsts)
    missing = []
    month = firsts[0]
    while month < firsts[-1]:
        month = _month_end(month) + timedelta(days=1)
        if month not in present:
            missing.append(month)
    return missing
