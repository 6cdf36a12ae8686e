"""How the benchmarks word a target: met or missed. Targets are shown, never asserted."""

from __future__ import annotations


def met(reached: bool) -> str:
    return "met" if reached else "MISSED"
