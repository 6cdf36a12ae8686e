"""What the stale-source alert calls stale, and when it calls it again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ar_pipelines.defs.alerts import RECONCILIATION_STALE, SOURCE_NOT_REFRESHING, staleness
from ar_pipelines.health import PracticeHealth

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=26)


def test_a_source_sikka_reports_not_refreshing_is_stale_named_by_the_extraction_that_saw_it() -> (
    None
):
    extracted = NOW - timedelta(hours=1)
    row = PracticeHealth(
        "P001",
        source_stale=True,
        source_warning="the source reports data_sync_status 'not_refresh'",
        extracted_at=extracted,
        last_clean_at=NOW - timedelta(hours=2),
    )

    found = staleness(row, NOW, DAY)

    assert list(found) == [SOURCE_NOT_REFRESHING]
    occurrence, reason = found[SOURCE_NOT_REFRESHING]
    assert occurrence == extracted.isoformat()
    assert "not_refresh" in reason


def test_a_last_clean_reconciliation_older_than_the_age_is_stale_and_exactly_that_age_is_not() -> (
    None
):
    at_the_limit = PracticeHealth("P001", last_clean_at=NOW - DAY)
    past_it = PracticeHealth("P001", last_clean_at=NOW - DAY - timedelta(seconds=1))

    assert staleness(at_the_limit, NOW, DAY) == {}
    occurrence, reason = staleness(past_it, NOW, DAY)[RECONCILIATION_STALE]
    assert occurrence == past_it.last_clean_at.isoformat()  # type: ignore[union-attr]
    assert "more than 26 h" in reason


def test_the_age_is_configurable() -> None:
    row = PracticeHealth("P001", last_clean_at=NOW - timedelta(hours=5))

    assert staleness(row, NOW, timedelta(hours=4))
    assert staleness(row, NOW, timedelta(hours=6)) == {}


def test_a_practice_never_run_or_never_clean_is_left_to_the_other_alerts() -> None:
    assert staleness(PracticeHealth("P001"), NOW, DAY) == {}
    never_clean = PracticeHealth("P001", last_run_id="r1", reconciliation_clean=False)
    assert staleness(never_clean, NOW, DAY) == {}
