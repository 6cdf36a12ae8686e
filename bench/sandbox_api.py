"""The sandbox's HTTP API as the push benchmarks speak it without the client: request
bodies as JSON, and the counts its answers carry."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any


def plain_json(value: object) -> float | str:
    """``json.dumps``'s ``default``: an amount as a float (a 2-decimal amount below 1e10 is
    exact as one), a date as ISO text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def counts(section: dict[str, Any]) -> Counter[str]:
    """The counts of one section of a bulk answer (``ledger_entries``, ``statements``)."""
    return Counter({k: v for k, v in section.items() if isinstance(v, int)})
