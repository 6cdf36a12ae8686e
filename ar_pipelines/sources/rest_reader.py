"""Read the Sikka ONE v4 API as the same frames of text a SQL source gives.

Every list call pages with ``offset`` (a page index: 0, 1, 2, ...) and ``limit``, and
pages until ``total_count`` items are read; ``pagination.next`` is not trusted. The
API filters loaded dates by day only (``loaded_startdate``), so an incremental read
asks for the day of ``since - lookback`` and keeps, here, exactly the rows a SQL
source would select (``frames.loaded_threshold``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
import pandas as pd

from ar_pipelines.sources import schema
from ar_pipelines.sources.base import DEFAULT_LOOKBACK, Source
from ar_pipelines.sources.frames import LOADED_DATE, LOADED_FORMAT, Extract, frame, loaded_threshold
from ar_pipelines.sources.sikka_http import SikkaAuthError, SikkaError, SikkaSession
from ar_pipelines.sources.sql_reader import table_columns

__all__ = ["MAX_PAGE_SIZE", "SikkaAuthError", "SikkaError", "SikkaRestSource"]

MAX_PAGE_SIZE = 5000

PRACTICES_PATH = "/v4/practices"
PAYMENT_TYPES_PATH = "/v4/payment_types"
PATIENTS_PATH = "/v4/patients"
TRANSACTIONS_PATH = "/v4/transactions"


class SikkaRestSource(Source):
    """The Sikka ONE REST API of one office, read as frames of text (see ``frames``)."""

    def __init__(
        self,
        *,
        base_url: str,
        office_id: str,
        secret_key: str,
        app_id: str,
        app_key: str,
        page_size: int = MAX_PAGE_SIZE,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self.page_size = page_size
        self._session = SikkaSession(
            base_url=base_url,
            office_id=office_id,
            secret_key=secret_key,
            app_id=app_id,
            app_key=app_key,
            http_client=http_client,
            sleep=sleep,
        )

    def practices(self, *, practice_id: str | None = None) -> pd.DataFrame:
        return self._read(PRACTICES_PATH, schema.practices.name, practice_id)

    def payment_types(self, *, practice_id: str | None = None) -> pd.DataFrame:
        return self._read(PAYMENT_TYPES_PATH, schema.payment_types.name, practice_id)

    def patients(self, *, practice_id: str | None = None) -> pd.DataFrame:
        return self._read(PATIENTS_PATH, schema.patients.name, practice_id)

    def transactions(
        self,
        *,
        practice_id: str | None = None,
        since: datetime | None = None,
        lookback: timedelta = DEFAULT_LOOKBACK,
    ) -> Extract:
        """Transactions loaded at or after ``since - lookback`` (all without ``since``),
        one frame per page."""
        params = _practice_filter(practice_id)
        threshold: str | None = None
        if since is not None:
            loaded_from = loaded_threshold(since, lookback)
            params["loaded_startdate"] = loaded_from.date().isoformat()
            threshold = loaded_from.strftime(LOADED_FORMAT)
        columns = schema.TRANSACTION_COLUMNS

        def chunks() -> Generator[pd.DataFrame]:
            for items in self._pages(TRANSACTIONS_PATH, params):
                chunk = _frame(items, columns)
                if threshold is not None:
                    dates = chunk[LOADED_DATE]
                    chunk = chunk[dates.isna() | (dates >= threshold)].reset_index(drop=True)
                yield chunk

        return Extract(chunks, since=since)

    def _read(self, path: str, table: str, practice_id: str | None) -> pd.DataFrame:
        columns = table_columns(schema.metadata.tables[table])
        items = [item for page in self._pages(path, _practice_filter(practice_id)) for item in page]
        return _frame(items, columns)

    def _pages(self, path: str, params: dict[str, str]) -> Generator[list[dict[str, Any]]]:
        """Each page's items, until ``total_count`` items are read."""
        read = 0
        page = 0
        while True:
            query = {**params, "offset": str(page), "limit": str(self.page_size)}
            body = self._session.get(path, query)
            items, total = body.get("items"), _count(body.get("total_count"))
            if not isinstance(items, list) or total is None:
                raise SikkaError(f"GET {path}: a page without items or a total_count")
            if not items:
                if read < total:
                    raise SikkaError(f"GET {path}: page {page} is empty after {read} of {total}")
                return
            yield items
            read += len(items)
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


def _practice_filter(practice_id: str | None) -> dict[str, str]:
    return {} if practice_id is None else {"practice_id": practice_id}


def _frame(items: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Items as rows of ``columns``: a field the API leaves out reads as ``None``."""
    return frame(([_field(item, column) for column in columns] for item in items), columns)


def _field(item: Any, column: str) -> Any:
    if not isinstance(item, dict):
        raise SikkaError("an item of a page is not a JSON object")
    return item.get(column)


def _count(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
