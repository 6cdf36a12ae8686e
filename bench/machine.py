"""How fast this machine runs Python right now, to tell a slow run from a slow machine.

Shared and virtual machines change speed from minute to minute; the same fixed loop,
timed next to a figure, says whether two figures can be compared.
"""

from __future__ import annotations

import time

REFERENCE_ITERATIONS = 5_000_000


def python_loop_ms() -> float:
    """Milliseconds for a fixed pure-Python loop (the best of three)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for number in range(REFERENCE_ITERATIONS):
            total += number
        best = min(best, time.perf_counter() - started)
    return best * 1000
