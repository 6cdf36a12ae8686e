from datetime import UTC, datetime, timedelta, timezone

from ar_pipelines.clock import naive_utc, utc_now


def test_now_is_aware_and_in_utc() -> None:
    now = utc_now()
    assert now.tzinfo is UTC
    assert abs(datetime.now(UTC) - now) < timedelta(minutes=1)


def test_an_aware_moment_leaves_as_the_same_moment_in_utc_without_its_zone() -> None:
    paris = timezone(timedelta(hours=2))
    moment = datetime(2026, 6, 30, 23, 30, tzinfo=paris)
    assert naive_utc(moment) == datetime(2026, 6, 30, 21, 30)  # noqa: DTZ001
    assert naive_utc(moment).tzinfo is None


def test_a_naive_moment_is_taken_to_be_utc_already() -> None:
    moment = datetime(2026, 1, 1, 8, 0)  # noqa: DTZ001
    assert naive_utc(moment) is moment
