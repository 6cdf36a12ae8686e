"""One practice's standing, as the page and the asset's table show it: a ``PracticeHealth``
row, the rules that call it stale (``stale_reasons``) and everything that makes it a
problem worth highlighting (``problems``).

A field is ``None`` when nothing has told it yet: a practice never run has every field
``None`` but its id (and ``source_stale`` False). Times are aware and in UTC; money is
``Decimal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

# A practice reconciled clean is stale once its last clean reconciliation is older than
# this: a nightly run missed (24 hours) and a couple of hours of slack.
DEFAULT_MAX_CLEAN_AGE = timedelta(hours=26)
# Run statuses that mean the last run did not do its work.
FAILED_STATUSES = frozenset({"FAILURE", "CANCELED"})
COUNT_NAMES = ("matched", "amount_mismatch", "paid_mismatch", "missing_in_ar", "unexpected_in_ar")

CLEAN = "clean"
NOT_CLEAN = "NOT clean"
NEVER = "never"


@dataclass(frozen=True)
class PracticeHealth:
    """How one practice stands, from what its latest runs recorded.

    - ``last_run_*``: the latest run of the nightly sync, the weekly reconciliation or
      the enrollment job for the practice (status as Dagster names it: ``SUCCESS``,
      ``FAILURE``, ``CANCELED``, ``STARTED``...; ``ended_at`` is None while it runs).
    - ``quarantine_*``: the last normalization: the share of the rows it read that it
      quarantined, how many, how many source rows wait in the quarantine after it, and
      the practice's threshold.
    - ``pushes_refused``: records AR refused in the last push of customers and of ledger
      entries together; ``in_dead_letter``: records of both waiting to be sent again.
    - ``reconciliation_clean``: the last reconciliation's verdict (None: never
      reconciled), its counts and time; ``last_clean_at``: the last clean one.
    - ``ar_outstanding``: what AR says is outstanding over every statement, as of the
      last reconciliation.
    - ``source_*``: what the source said at the last extraction of transactions
      (``extracted_at``): Sikka's ``data_sync_status``, when it last loaded the office's
      data (Sikka's own text), its warning; ``source_stale`` when Sikka reports the
      office is not refreshing.
    """

    practice_id: str
    name: str | None = None
    last_run_id: str | None = None
    last_run_job: str | None = None
    last_run_status: str | None = None
    last_run_ended_at: datetime | None = None
    normalized_at: datetime | None = None
    quarantine_share: float | None = None
    quarantined: int | None = None
    open_in_quarantine: int | None = None
    quarantine_threshold: float | None = None
    pushed_at: datetime | None = None
    pushes_refused: int | None = None
    in_dead_letter: int | None = None
    reconciled_at: datetime | None = None
    reconciliation_clean: bool | None = None
    matched: int | None = None
    amount_mismatch: int | None = None
    paid_mismatch: int | None = None
    missing_in_ar: int | None = None
    unexpected_in_ar: int | None = None
    last_clean_at: datetime | None = None
    ar_outstanding: Decimal | None = None
    extracted_at: datetime | None = None
    source_sync_status: str | None = None
    source_data_loaded: str | None = None
    source_warning: str | None = None
    source_stale: bool = False

    @property
    def reconciliation_status(self) -> str:
        """``clean``, ``NOT clean`` or ``never`` (never reconciled)."""
        if self.reconciliation_clean is None:
            return NEVER
        return CLEAN if self.reconciliation_clean else NOT_CLEAN

    @property
    def has_run(self) -> bool:
        """Whether anything says the practice has run: a run, or a reconciliation."""
        return self.last_run_id is not None or self.reconciled_at is not None

    @property
    def last_run_failed(self) -> bool:
        return self.last_run_status in FAILED_STATUSES

    @property
    def counts(self) -> dict[str, int | None]:
        """The last reconciliation's statements per status."""
        return {name: getattr(self, name) for name in COUNT_NAMES}

    @property
    def quarantine_over_threshold(self) -> bool:
        share, threshold = self.quarantine_share, self.quarantine_threshold
        return share is not None and threshold is not None and share > threshold


def stale_reasons(
    row: PracticeHealth,
    now: datetime,
    max_clean_age: timedelta = DEFAULT_MAX_CLEAN_AGE,
) -> list[str]:
    """Why the practice's source or reconciliation is stale at ``now`` (aware), in plain
    words; empty when it is not:

    - Sikka reports the office is not refreshing (``source_stale``);
    - the last clean reconciliation is older than ``max_clean_age`` (exactly that old is
      not stale yet);
    - the practice has run but never reconciled clean.
    """
    if now.tzinfo is None:
        raise ValueError("stale_reasons needs an aware time (UTC), not a naive one")
    reasons = []
    if row.source_stale:
        reasons.append(
            f"Sikka reports the office is not refreshing: {row.source_warning}"
            if row.source_warning
            else "Sikka reports the office is not refreshing"
        )
    if row.last_clean_at is not None:
        age = now - row.last_clean_at
        if age > max_clean_age:
            reasons.append(
                f"last clean reconciliation {describe_age(age)} ago, "
                f"more than {describe_age(max_clean_age)}"
            )
    elif row.has_run:
        reasons.append("never reconciled clean, though it has run")
    return reasons


def problems(
    row: PracticeHealth,
    now: datetime,
    max_clean_age: timedelta = DEFAULT_MAX_CLEAN_AGE,
) -> list[str]:
    """Everything wrong with the practice at ``now``, in plain words: a last run that
    failed, a reconciliation that is not clean, records AR refused, a quarantine over
    the practice's threshold, and the ``stale_reasons``."""
    found = []
    if row.last_run_failed:
        found.append(f"last run {row.last_run_status} ({row.last_run_job})")
    if row.reconciliation_clean is False:
        differing = ", ".join(
            f"{count} {name}" for name, count in row.counts.items() if name != "matched" and count
        )
        found.append(f"reconciliation NOT clean ({differing or 'see its report'})")
    if row.pushes_refused:
        found.append(f"AR refused {row.pushes_refused} record(s) in the last push")
    if row.quarantine_over_threshold:
        found.append(
            f"quarantined {percent(row.quarantine_share)} of the rows read, "
            f"over the threshold of {percent(row.quarantine_threshold)}"
        )
    return found + stale_reasons(row, now, max_clean_age)


def describe_age(age: timedelta) -> str:
    """``age`` in the largest whole unit that says it: ``45 min``, ``26 h``, ``3 d 4 h``."""
    seconds = int(age.total_seconds())
    if seconds < 0:
        return "0 min"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours < 1:
        return f"{minutes} min"
    if days < 2:
        rest = minutes - hours * 60
        return f"{hours} h" if rest == 0 else f"{hours} h {rest} min"
    rest = hours - days * 24
    return f"{days} d" if rest == 0 else f"{days} d {rest} h"


def percent(share: float | None) -> str:
    """A share as a percentage with two decimals (``3.25%``); empty when unknown."""
    return "" if share is None else f"{share * 100:.2f}%"
