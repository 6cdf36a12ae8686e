"""Read the Sikka ONE v4 API of one office as the frames of text every source gives.

Every list call pages with ``offset`` (a page index: 0, 1, 2, ...) and ``limit``, and
pages until ``total_count`` items are read; ``pagination.next`` is not trusted, and a
204 (no rows) ends the list. Fields Sikka leaves out by default are asked for with
``fields=``. Payment-type classes are query filters in Sikka, so the types are listed
once per filter.

Items carry no load time: an incremental read asks for the window
``[since - lookback, now]`` with ``loaded_startdate``/``loaded_enddate``, then the
window's deletions from ``practice_events``; the extract's cursor is the window's end.
See ``docs/sources.md``.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from datetime import datetime
from typing import Any, Unpack

import pandas as pd

from ar_pipelines.clock import naive_utc, utc_now
from ar_pipelines.sources import schema
from ar_pipelines.sources.base import Source, SourceStatus
from ar_pipelines.sources.frames import Extract, frame
from ar_pipelines.sources.sikka_http import (
    SIKKA_TIME,
    SessionOptions,
    SikkaAuthError,
    SikkaError,
    SikkaSession,
)

__all__ = ["MAX_PAGE_SIZE", "SikkaAuthError", "SikkaError", "SikkaRestSource"]

MAX_PAGE_SIZE = 5000

PRACTICES_PATH = "/v4/practices"
PAYMENT_TYPES_PATH = "/v4/payment_types"
PATIENTS_PATH = "/v4/patients"
GUARANTORS_PATH = "/v4/guarantors"
TRANSACTIONS_PATH = "/v4/transactions"
EVENTS_PATH = "/v4/practice_events"
SYNC_STATUS_PATH = "/v4/data_sync_status"
TRUE = "true"


class SikkaRestSource(Source):
    """The Sikka ONE REST API of one office, read as frames of text (see ``frames``)."""

    @property
    def reports_deletions(self) -> bool:
        """Sikka lists the window's deleted transactions in ``practice_events``."""
        return True

    def __init__(
        self, *, page_size: int = MAX_PAGE_SIZE, **session: Unpack[SessionOptions]
    ) -> None:
        """``session``: the office, the app's keys, and what the session is given to send,
        wait and tell the time with (``SikkaSession``)."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self.page_size = page_size
        self.office_id = session["office_id"]
        self._now = session.get("now", utc_now)
        self._session = SikkaSession(**session)

    def practices(self, *, practice_id: str | None = None) -> pd.DataFrame:
        return self._read(PRACTICES_PATH, schema.PRACTICE_COLUMNS, _practice(practice_id))

    def payment_types(self, *, practice_id: str | None = None) -> pd.DataFrame:
        """Every type, with ``"true"`` in each class whose filtered list names its code."""
        params = _practice(practice_id)
        items = self._items(PAYMENT_TYPES_PATH, params)
        for name in schema.PAYMENT_TYPE_CLASSES:
            listed = {
                (item.get("practice_id"), item.get("code"))
                for item in self._items(PAYMENT_TYPES_PATH, {**params, name: TRUE})
            }
            for item in items:
                if (item.get("practice_id"), item.get("code")) in listed:
                    item[name] = TRUE
        return _frame(items, schema.PAYMENT_TYPE_COLUMNS)

    def patients(self, *, practice_id: str | None = None) -> pd.DataFrame:
        params = {**_practice(practice_id), **_fields(schema.PATIENT_EXTRA_FIELDS)}
        return self._read(PATIENTS_PATH, schema.PATIENT_COLUMNS, params)

    def guarantors(self, *, practice_id: str | None = None) -> pd.DataFrame:
        params = {**_practice(practice_id), **_fields(schema.PATIENT_EXTRA_FIELDS)}
        return self._read(GUARANTORS_PATH, schema.GUARANTOR_COLUMNS, params)

    def _read_transactions(
        self, practice_id: str | None, since: datetime | None, loaded_from: datetime | None
    ) -> Extract:
        """Transactions loaded in ``[since - lookback, now]``, one frame per page, then the
        deletions ``practice_events`` reports in that window. Without ``since``, every
        transaction there is (no events: nothing was read before that could be voided).

        The window ends when this is called, and that end is the extract's cursor.
        Nothing is asked for until the extract is iterated, so an error (Sikka loading
        the office, a spent quota) surfaces while iterating, before any cursor exists."""
        params = {**_practice(practice_id), **_fields(schema.TRANSACTION_EXTRA_FIELDS)}
        end = naive_utc(self._now()).replace(microsecond=0)  # Sikka's times: UTC, no zone
        if loaded_from is None:
            return Extract(lambda: self._transaction_pages(params), since=None, window_end=end)
        window = {
            "loaded_startdate": loaded_from.strftime(SIKKA_TIME),
            "loaded_enddate": end.strftime(SIKKA_TIME),
        }
        changed = {**params, **window}
        events = {**params, **window, "events": "transactions"}

        def chunks() -> Generator[pd.DataFrame]:
            yield from self._transaction_pages(changed)
            for items in self._pages(EVENTS_PATH, events):
                deleted = [
                    {**item, schema.IS_DELETED: TRUE}
                    for item in items
                    if str(item.get("flag", "")).strip().lower() == schema.DELETED_FLAG
                ]
                yield _frame(deleted, schema.TRANSACTION_COLUMNS)

        return Extract(chunks, since=since, window_end=end)

    def transaction_keys(self, *, practice_id: str | None = None) -> Generator[pd.DataFrame]:
        """Every transaction's key: the API has no cheaper way than reading every page, so
        a caller runs this full key scan only on a full refresh. Items have no row key."""
        for chunk in self._transaction_pages(_practice(practice_id)):
            yield chunk.loc[:, list(schema.KEY_SCAN_COLUMNS)]

    def status(self) -> SourceStatus:
        """The office's ``data_sync_status``; a practice not in sync wins over the rest."""
        listed = self._session.app_items(
            SYNC_STATUS_PATH, {"office_id": self.office_id}, page_size=self.page_size
        )
        found = [item for item in listed if item.get("office_id") == self.office_id]
        if not found:
            return SourceStatus()
        found.sort(key=lambda item: str(item.get("status", "")).strip().lower() == "refresh")
        item = found[0]
        return SourceStatus(
            sync_status=_text(item.get("status")),
            data_insert_date=_text(item.get("data_insert_date")),
        )

    def _transaction_pages(self, params: dict[str, str]) -> Generator[pd.DataFrame]:
        for items in self._pages(TRANSACTIONS_PATH, params):
            yield _frame(items, schema.TRANSACTION_COLUMNS)

    def _read(self, path: str, columns: Sequence[str], params: dict[str, str]) -> pd.DataFrame:
        return _frame(self._items(path, params), columns)

    def _items(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        return [dict(item) for page in self._pages(path, params) for item in page]

    def _pages(self, path: str, params: dict[str, str]) -> Generator[list[dict[str, Any]]]:
        """Each page's items, until ``total_count`` items are read or Sikka answers 204."""
        read = 0
        page = 0
        expected = 0
        while True:
            query = {**params, "offset": str(page), "limit": str(self.page_size)}
            body = self._session.get(path, query).body
            if body is None:  # 204: no (more) rows
                if read < expected:
                    raise SikkaError(f"GET {path}: no content after {read} of {expected}")
                return
            items, total = body.get("items"), _count(body.get("total_count"))
            if not isinstance(items, list) or total is None:
                raise SikkaError(f"GET {path}: a page without items or a total_count")
            if not all(isinstance(item, dict) for item in items):
                raise SikkaError(f"GET {path}: an item of page {page} is not a JSON object")
            if not items:
                if read < total:
                    raise SikkaError(f"GET {path}: page {page} is empty after {read} of {total}")
                return
            yield items
            read += len(items)
            expected = total
            if read >= total:
                return
            page += 1

    def close(self) -> None:
        self._session.close()

    def __repr__(self) -> str:
        session = self._session
        return (
            f"SikkaRestSource(base_url={session.base_url!r}, office_id={session.office_id!r}, "
            f"page_size={self.page_size})"
        )


def _practice(practice_id: str | None) -> dict[str, str]:
    return {} if practice_id is None else {"practice_id": practice_id}


def _fields(names: Sequence[str]) -> dict[str, str]:
    """Sikka's ``fields=``: names, comma-separated, that Sikka adds to its default fields."""
    return {"fields": ",".join(names)}


def _frame(items: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Items as rows of ``columns``: a field the API leaves out reads as ``None``."""
    return frame(([item.get(column) for column in columns] for item in items), columns)


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _count(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
