"""Which source failures a nightly step retries: the ones a later try can get past."""

from __future__ import annotations

import pytest

from ar_pipelines.defs.common import is_transient
from ar_pipelines.sources.base import (
    DailyQuotaSpent,
    SourceError,
    SourceNotReady,
    SourceUnavailable,
)
from ar_pipelines.sources.sikka_http import SikkaAuthError


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (SourceUnavailable("GET /v4/transactions: HTTP 503 API2002 after 5 tries"), True),
        (SourceNotReady("Sikka is loading office D1000"), True),
        (DailyQuotaSpent("the practice's daily quota is spent (API2012)"), False),
        (SikkaAuthError("HTTP 401 API2003: invalid app credentials"), False),
        (SourceError("practice_events has no column 'flag'"), False),
    ],
)
def test_a_source_failure_is_retried_only_when_a_later_try_can_get_past_it(
    error: BaseException, retried: bool
) -> None:
    assert is_transient(error) is retried


def test_a_quota_spent_under_a_transient_wrapper_is_still_not_retried() -> None:
    try:
        try:
            raise DailyQuotaSpent("the practice's daily quota is spent (API2011)")
        except DailyQuotaSpent as quota:
            raise SourceUnavailable("the read stopped") from quota
    except SourceUnavailable as outer:
        wrapped = outer
    assert not is_transient(wrapped)
