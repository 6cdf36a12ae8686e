"""What every source reader offers, so that callers (the normalizer's CLI, the Dagster
assets) take any of them: the three small tables as frames, and transactions as an
incremental, streamed ``Extract``. A source is a context manager that closes itself."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

import pandas as pd

from ar_pipelines.sources.frames import Extract

DEFAULT_LOOKBACK = timedelta(days=1)


class Source(ABC):
    @abstractmethod
    def practices(self, *, practice_id: str | None = None) -> pd.DataFrame: ...

    @abstractmethod
    def payment_types(self, *, practice_id: str | None = None) -> pd.DataFrame: ...

    @abstractmethod
    def patients(self, *, practice_id: str | None = None) -> pd.DataFrame: ...

    @abstractmethod
    def transactions(
        self,
        *,
        practice_id: str | None = None,
        since: datetime | None = None,
        lookback: timedelta = DEFAULT_LOOKBACK,
    ) -> Extract: ...

    def transaction_keys(self, *, practice_id: str | None = None) -> Iterator[pd.DataFrame]:
        """``practice_id`` and ``transaction_sr_no`` of every transaction row there is now.

        Readers that can select two columns do; this default reads every row."""
        for chunk in self.transactions(practice_id=practice_id):
            yield chunk.loc[:, ["practice_id", "transaction_sr_no"]]

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
