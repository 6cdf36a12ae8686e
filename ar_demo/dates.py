"""Days and seconds as integers since 1970-01-01, the demo generator's clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt

DAY = 86_400
EPOCH = date(1970, 1, 1)


def day_number(day: date) -> int:
    return (day - EPOCH).days


def day_text(day: int) -> str:
    """A day as Sikka writes dates: ``2020-09-30T00:00:00``."""
    return f"{(EPOCH + timedelta(days=day)).isoformat()}T00:00:00"


def moment_text(seconds: int) -> str:
    """A time to the second as Sikka writes ``loadeddate``: ``2020-09-30T13:45:00``."""
    return timestamp(seconds).isoformat()


def timestamp(seconds: int) -> datetime:
    """A naive datetime (the loader's ``_loaded_at``) to the second, the same on every database."""
    return datetime(1970, 1, 1) + timedelta(seconds=seconds)  # noqa: DTZ001


def day_texts(days: npt.NDArray[np.int64]) -> list[str]:
    return [f"{d}T00:00:00" for d in days.astype("datetime64[D]").tolist()]


def timestamps(seconds: npt.NDArray[np.int64]) -> list[datetime]:
    return list(seconds.astype("datetime64[s]").tolist())


def month_starts(days: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The first day of each day's month."""
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    return months.astype("datetime64[D]").astype(np.int64)


def history_start(end: date, months: int) -> date:
    """The first day of the ``months`` calendar months that end with ``end``'s month."""
    index = end.year * 12 + end.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def last_full_month_end(today: date) -> date:
    return today.replace(day=1) - timedelta(days=1)
