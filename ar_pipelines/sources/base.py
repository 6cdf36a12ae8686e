"""What every source reader offers, so that callers (the normalizer's CLI, the Dagster
assets) take any of them: the small tables as frames, and transactions as an
incremental, streamed ``Extract``. A source is a context manager that closes itself.

A source reads one office. ``practice_id`` arguments are Sikka's ``practice_id`` (a
location inside the office, usually ``"1"``), not the project's id for the practice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from ar_pipelines.closing import Closing
from ar_pipelines.sources.frames import Extract, loaded_threshold
from ar_pipelines.sources.schema import KEY_SCAN_COLUMNS

DEFAULT_LOOKBACK = timedelta(days=1)
REFRESHING = "refresh"


class SourceError(RuntimeError):
    """A source did not give what was asked (after any retries)."""


class SourceNotReady(SourceError):  # noqa: N818 - a state, read as "the source is not ready"
    """The source cannot be read now, and reading later can succeed: Sikka is loading the
    office, or the practice's daily quota is spent. Nothing read may be used."""


class DailyQuotaSpent(SourceNotReady):
    """Sikka's daily quota for the practice (requests or data size) is spent: reading
    again the same day fails the same way, so a caller stops instead of retrying."""


class SourceUnavailable(SourceError):  # noqa: N818 - a state
    """The source kept failing (connection refused, time-outs, 5xx) after every retry:
    transient, a later run may succeed."""


@dataclass(frozen=True)
class SourceStatus:
    """Whether the source's link to the practice's PMS is current, as the source says.

    ``sync_status`` is Sikka's ``data_sync_status`` (``refresh`` when current);
    ``data_insert_date`` when the office's data was last loaded. Both may be unknown."""

    sync_status: str | None = None
    data_insert_date: str | None = None

    @property
    def stale(self) -> bool:
        return self.sync_status is not None and self.sync_status.lower() != REFRESHING

    def warning(self) -> str | None:
        if not self.stale:
            return None
        loaded = f", data last loaded {self.data_insert_date}" if self.data_insert_date else ""
        return f"the source reports data_sync_status {self.sync_status!r}{loaded}"


class Source(Closing, ABC):
    # Whether ``transaction_keys`` reads a few columns (a database) rather than every row
    # (an API): a nightly run scans keys for silent deletions only when it is cheap.
    scans_keys_cheaply: bool = False

    @property
    def reports_deletions(self) -> bool:
        """Whether the source says which transactions were deleted (deletion events, a
        soft-delete flag). Where it does, a nightly run can leave the full key scan, which
        finds rows that vanished without a trace, to the weekly one."""
        return False

    @abstractmethod
    def practices(self, *, practice_id: str | None = None) -> pd.DataFrame: ...

    @abstractmethod
    def payment_types(self, *, practice_id: str | None = None) -> pd.DataFrame:
        """``PAYMENT_TYPE_COLUMNS``: each class flag ``"true"`` when the type is in it."""

    @abstractmethod
    def patients(self, *, practice_id: str | None = None) -> pd.DataFrame: ...

    @abstractmethod
    def guarantors(self, *, practice_id: str | None = None) -> pd.DataFrame: ...

    def transactions(
        self,
        *,
        practice_id: str | None = None,
        since: datetime | None = None,
        lookback: timedelta = DEFAULT_LOOKBACK,
    ) -> Extract:
        """Transactions changed since ``since - lookback`` (all without ``since``), then
        the deletions reported in that window as rows with ``is_deleted = "true"``.

        Every reader takes ``since`` and ``lookback`` alike; what it reads from the window
        is its own (``_read_transactions``)."""
        loaded_from = None if since is None else loaded_threshold(since, lookback)
        return self._read_transactions(practice_id, since, loaded_from)

    @abstractmethod
    def _read_transactions(
        self, practice_id: str | None, since: datetime | None, loaded_from: datetime | None
    ) -> Extract:
        """``transactions`` once its window is known: from ``loaded_from`` (``since -
        lookback``, checked), ``None`` exactly when ``since`` is."""

    def transaction_keys(self, *, practice_id: str | None = None) -> Iterator[pd.DataFrame]:
        """``practice_id``, ``transaction_sr_no`` and ``row_key`` of every transaction row
        there is now: the full key scan that finds rows deleted without a trace, and the
        rows that hold one number together.

        Readers that can select those columns do; this default reads every row."""
        for chunk in self.transactions(practice_id=practice_id):
            live = chunk[chunk["is_deleted"].isna()]
            yield live.loc[:, list(KEY_SCAN_COLUMNS)]

    def status(self) -> SourceStatus:
        """What the source says of its own freshness; unknown by default."""
        return SourceStatus()

    @abstractmethod
    def close(self) -> None: ...
