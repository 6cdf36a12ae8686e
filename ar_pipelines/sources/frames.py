"""What every source reader hands the normalizer, whichever source it reads.

Frames of ``object`` dtype whose values are ``str`` or ``None`` (SQL NULL and the empty
string alike), ``loaded_date`` as ``"YYYY-MM-DD HH:MM:SS"``. The same rows give the
same frames from SQLite, Postgres, MariaDB or the REST API.

Incremental reads select rows loaded at or after ``since - lookback``, the threshold
floored to the second, as the REST API's ``loaded_startdate`` takes it. A SQL source's
cursor is the latest ``loaded_date`` read (to the second); the REST API's items carry no
load time, so its cursor is the end of the window it asked for. Neither is ever earlier
than ``since``: re-reading a moment is harmless (records are upserted), missing one is
not.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from ar_pipelines.clock import naive_utc

LOADED_DATE = "loaded_date"
LOADED_FORMAT = "%Y-%m-%d %H:%M:%S"


def as_text(value: Any) -> str | None:
    """A source value as the frames carry it: ``str``, or ``None`` for NULL and ``""``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return naive_utc(value).isoformat(sep=" ", timespec="seconds")
    return str(value)


def frame(rows: Iterable[Sequence[Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Rows (in ``columns`` order) as an object-dtype frame of text.

    Built a column at a time, and within a frame equal values share one ``str``.
    Columns repeat their values (practices, types, codes, dates, amounts, patients), and
    a column whose rows point at a few objects is read from the processor's cache: one
    object per row, laid out row after row as the driver made them, would send every
    later pass over a column all over memory.
    """
    names = list(columns)
    values = list(zip(*rows, strict=True)) or [() for _ in names]
    return pd.DataFrame(
        {
            name: pd.Series(column_texts(column), dtype=object)
            for name, column in zip(names, values, strict=True)
        }
    )


def column_texts(values: Sequence[Any]) -> list[str | None]:
    """One column's values as ``as_text`` gives them, each distinct text one object."""
    # Most drivers give text columns as str or None: share them as they are, then make
    # sure, from the distinct values alone, that nothing else was there.
    shared: dict[Any, Any] = {"": None, None: None}
    share = shared.setdefault
    try:
        texts: list[str | None] = [share(value, value) for value in values]
    except TypeError:  # an unhashable value
        return [as_text(value) for value in values]
    if set(map(type, shared)) <= _PLAIN_TYPES:
        return texts
    # Other types are converted once per distinct value; the type is part of the key
    # because 1, 1.0 and True are equal but do not read the same.
    converted: dict[tuple[type, Any], str | None] = {}
    texts = []
    for value in values:
        key = (type(value), value)
        text = converted.get(key, _UNSEEN)
        if text is _UNSEEN:
            text = converted[key] = as_text(value)
        texts.append(text)  # type: ignore[arg-type]
    return texts


_PLAIN_TYPES = frozenset({str, type(None)})
_UNSEEN = object()


def loaded_threshold(since: datetime, lookback: timedelta) -> datetime:
    """The earliest ``loaded_date`` an incremental read selects."""
    if since.tzinfo is not None:
        raise ValueError("since must be naive, in the source's own time, like loaded_date")
    if lookback < timedelta(0):
        raise ValueError("lookback must not be negative")
    return (since - lookback).replace(microsecond=0)


def parse_loaded(text: str) -> datetime:
    return datetime.strptime(text, LOADED_FORMAT)  # noqa: DTZ007 - loaded dates are naive


class Extract:
    """The transactions an incremental read selected, as frames one chunk at a time.

    Iterate it once; afterwards ``rows`` counts the rows read and ``cursor`` is the
    ``since`` to pass next time. Reading either before the last chunk raises, so a
    half-read extract cannot move a cursor past rows nobody saw.
    """

    def __init__(
        self,
        chunks: Callable[[], Generator[pd.DataFrame]],
        *,
        since: datetime | None,
        window_end: datetime | None = None,
    ) -> None:
        self._chunks = chunks
        self._since = since
        self._window_end = window_end
        self._latest: str | None = None
        self._rows = 0
        self._started = False
        self._done = False
        self._reader: Generator[pd.DataFrame] | None = None

    def __iter__(self) -> Iterator[pd.DataFrame]:
        if self._started:
            raise RuntimeError("an extract can be read once; ask the source for a new one")
        self._started = True
        self._reader = self._read()
        return self._reader

    def _read(self) -> Generator[pd.DataFrame]:
        with closing(self._chunks()) as chunks:
            for chunk in chunks:
                if chunk.empty:
                    continue
                self._rows += len(chunk)
                dates = [date for date in chunk[LOADED_DATE] if date is not None]
                if dates and (self._latest is None or max(dates) > self._latest):
                    self._latest = max(dates)
                yield chunk
        self._done = True

    @property
    def rows(self) -> int:
        self._require_done()
        return self._rows

    @property
    def cursor(self) -> datetime | None:
        self._require_done()
        if self._window_end is not None:
            end = self._window_end.replace(microsecond=0)
            return end if self._since is None else max(end, self._since)
        if self._latest is None:
            return self._since
        latest = parse_loaded(self._latest)
        return latest if self._since is None else max(latest, self._since)

    def _require_done(self) -> None:
        if not self._done:
            raise RuntimeError("read the extract to the end before asking for its cursor")

    def close(self) -> None:
        """Stop reading early, releasing the source's cursor or connection."""
        if self._reader is not None:
            self._reader.close()

    def __repr__(self) -> str:
        state = f"rows={self._rows}" if self._done else "unread"
        return f"Extract(since={self._since!r}, {state})"


def as_practice(table: pd.DataFrame, practice_id: str) -> pd.DataFrame:
    """``table`` with its ``practice_id`` set to the project's id for the practice.

    Sikka's ``practice_id`` names a location inside one office (usually ``"1"``), so it
    is not unique across offices; external ids, the warehouse and the quarantine use the
    project's id instead."""
    return table.assign(practice_id=practice_id)
