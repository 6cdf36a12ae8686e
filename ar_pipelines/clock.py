"""The project's one clock: now, aware, in UTC.

Every layer asks ``utc_now`` for the time of a write, a read or a window's end. Where a
time leaves the project without a zone (the warehouse's timestamp columns, Sikka's
``loaded_startdate``/``loaded_enddate``, its ``Request-Key-Expires`` compared with now),
it goes as UTC through ``naive_utc``.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


def naive_utc(moment: datetime) -> datetime:
    """``moment`` in UTC without its zone; a naive ``moment`` is taken to be UTC already."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)
