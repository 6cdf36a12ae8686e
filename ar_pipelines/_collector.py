"""Pausing Python's cyclic garbage collector around work that allocates without cycles.

Building many small objects (records, strings, decimals) sets off full collections that
walk everything the process holds, again and again, for nothing when the work makes no
cycles; on large inputs that can cost as much as the work itself. Garbage is still freed
by reference counting, and the collector resumes (if it was on) when the block ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
