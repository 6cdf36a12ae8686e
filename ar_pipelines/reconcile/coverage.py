"""What a reconciliation verified this run, and what the last full one found.

A nightly read-back reads AR's statements of the customers the night's push touched
and merges them into the practice's stored copy; the statements of the other
customers are as AR gave them at an earlier read. A full read-back (the first, the
weekly one, or one asked for) reads every statement. The report says which it was,
and when the last full reconciliation ran and what it found, so a reader knows how
old the oldest verification behind a "clean" is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LastFull:
    """A full reconciliation: when it ran, whether it was clean, its counts by status."""

    at: datetime
    clean: bool
    counts: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "clean": self.clean, "counts": self.counts}

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LastFull | None:
        """The record at ``path``; ``None`` when there is none (or it cannot be read)."""
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                at=datetime.fromisoformat(found["at"]),
                clean=bool(found["clean"]),
                counts={str(k): int(v) for k, v in found["counts"].items()},
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None


@dataclass(frozen=True)
class Coverage:
    """What this run verified: ``statements`` read back from AR, of ``customers``
    customers, out of ``held`` statements in the practice's copy of AR's; ``full`` when
    every statement was read back this run."""

    full: bool
    statements: int
    customers: int
    held: int
    last_full: LastFull | None

    def summary(self) -> dict[str, Any]:
        """JSON-safe, for run metadata."""
        return {
            "scope": "every statement" if self.full else "the customers the push touched",
            "statements_verified": self.statements,
            "customers_verified": self.customers,
            "statements_held": self.held,
            "last_full_reconciliation": None
            if self.last_full is None
            else self.last_full.as_dict(),
        }

    def sentence(self) -> str:
        """One line for the report's reader."""
        if self.full:
            verified = f"Every statement AR holds ({self.statements:,}) was read back this run."
        else:
            verified = (
                f"This run read back {self.statements:,} statements of the {self.customers:,} "
                f"customers its push touched; the other {self.held - self.statements:,} are "
                "as AR gave them at an earlier read."
            )
        if self.last_full is None:
            return f"{verified} No full reconciliation has run yet."
        found = "clean" if self.last_full.clean else _not_clean(self.last_full.counts)
        when = self.last_full.at.isoformat(timespec="seconds")
        return f"{verified} The last full reconciliation ran {when}: {found}."


def _not_clean(counts: dict[str, int]) -> str:
    differing = {k: v for k, v in counts.items() if k not in ("matched", "total", "zeroed_in_ar")}
    listed = ", ".join(f"{count:,} {status}" for status, count in differing.items() if count)
    return f"NOT clean ({listed})" if listed else "NOT clean"
