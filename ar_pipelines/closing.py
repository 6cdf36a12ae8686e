"""The ``with`` statement for objects that hold something until ``close()``: the client,
a source and a warehouse all release what they hold the same way on leaving the block."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Closing:
    """``with obj:`` returns ``obj`` and calls its ``close()`` on the way out, whether the
    block finished or raised (the error is never swallowed)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
