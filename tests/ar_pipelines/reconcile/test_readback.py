"""AR's statements read a month at a time: the same statements as one listing, none
missed outside the months expected."""

from __future__ import annotations

from datetime import date

from ar_pipelines.client import ARClient
from ar_pipelines.reconcile.readback import Window, month_windows, read_statements
from tests.ar_pipelines.reconcile.test_against_sandbox import LEDGER
from tests.ar_pipelines.statements.ledgers import push_ledger


def test_windows_cover_each_month_the_gaps_between_and_everything_before_and_after() -> None:
    windows = month_windows([date(2026, 1, 15), date(2026, 3, 1), date(2026, 1, 2)])
    assert windows == [
        Window(None, date(2025, 12, 31)),
        Window(date(2026, 1, 1), date(2026, 1, 31)),
        Window(date(2026, 3, 1), date(2026, 3, 31)),
        Window(date(2026, 2, 1), date(2026, 2, 28)),
        Window(date(2026, 4, 1), None),
    ]


def test_no_month_is_one_window_for_everything() -> None:
    assert month_windows([]) == [Window(None, None)]


def test_reading_by_month_gives_every_statement_one_listing_gives(ar: ARClient) -> None:
    push_ledger(ar, LEDGER)
    everything = {s.id: s.amount for s in ar.statements.list()}
    assert len(everything) >= 4
    # Only February is expected: January and March come through the open windows.
    by_month = read_statements(ar, [date(2026, 2, 1)], concurrency=3)
    assert dict(zip(by_month["id"], by_month["amount"], strict=True)) == everything
    assert by_month["id"].is_unique
