"""What a bulk call hands back: every input record accounted for, with its reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ar_pipelines.client.models import Enrollment, StatementCounts


@dataclass(frozen=True)
class RecordIssue:
    """One input record that did not land as sent: its place in the input, its
    ``external_id`` (when it has one) and why."""

    index: int
    external_id: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "external_id": self.external_id, "reason": self.reason}


@dataclass(frozen=True)
class Progress:
    """Handed to ``on_progress`` after each request settles: records settled so far."""

    done: int
    total: int
    requests: int
    retries: int


@dataclass
class PushReport:
    """The outcome of a bulk upsert, one bucket per record.

    - ``created`` / ``updated``: landed (counts from the server's answers);
    - ``skipped``: superseded by a later record with the same ``external_id`` in the
      input (the last occurrence wins, as within one request on the server);
    - ``failed``: refused one by one inside a 200 answer (``errors[]``), e.g. a
      customer that does not resolve;
    - ``rejected``: malformed, with the server's 422 message (or the client's own
      type check); never sent again;
    - ``unsent``: not sent because the push stopped (an error no retry could cure).

    ``statements`` sums the statement counts of every ledger request; a statement
    touched by two requests is counted in both.
    """

    kind: str
    total: int
    created: int = 0
    updated: int = 0
    skipped: list[RecordIssue] = field(default_factory=list)
    failed: list[RecordIssue] = field(default_factory=list)
    rejected: list[RecordIssue] = field(default_factory=list)
    unsent: list[RecordIssue] = field(default_factory=list)
    unidentified_skipped: int = 0
    statements: StatementCounts | None = None
    requests: int = 0
    retries: dict[str, int] = field(default_factory=dict)
    elapsed_seconds: float = 0.0

    @property
    def skipped_count(self) -> int:
        return len(self.skipped) + self.unidentified_skipped

    @property
    def settled(self) -> int:
        """Records answered for so far: all but those left unsent."""
        return (
            self.created + self.updated + self.skipped_count + len(self.failed) + len(self.rejected)
        )

    @property
    def accounted(self) -> int:
        return self.settled + len(self.unsent)

    @property
    def complete(self) -> bool:
        """Every record was sent and answered for."""
        return not self.unsent

    @property
    def retry_count(self) -> int:
        return sum(self.retries.values())

    def summary(self) -> dict[str, Any]:
        """Counts only: safe for logs and Dagster metadata."""
        summary: dict[str, Any] = {
            "kind": self.kind,
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped_count,
            "failed": len(self.failed),
            "rejected": len(self.rejected),
            "unsent": len(self.unsent),
            "requests": self.requests,
            "retries": self.retry_count,
            "retries_by_cause": dict(self.retries),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
        }
        if self.statements is not None:
            summary["statements"] = self.statements.model_dump()
        return summary


@dataclass(frozen=True)
class NotEnrolled:
    """A statement or account that is not (or not surely) enrolled, and why."""

    id: str
    reason: str


@dataclass
class EnrollmentReport:
    """The outcome of enrolling many statements (or assigning many accounts).

    - ``enrolled``: enrolled now, or confirmed enrolled by reading it back after a
      retry met "already has an active execution" (``confirmed_after_retry``);
    - ``skipped``: refused one by one, with the server's message;
    - ``uncertain``: the request failed in a way that leaves the outcome unknown (the
      server may have acted); read these back before enrolling them again;
    - ``unsent``: never sent, because an earlier request failed that way.
    """

    campaign_id: str
    enrolled: list[Enrollment] = field(default_factory=list)
    skipped: list[NotEnrolled] = field(default_factory=list)
    uncertain: list[NotEnrolled] = field(default_factory=list)
    unsent: list[NotEnrolled] = field(default_factory=list)
    confirmed_after_retry: int = 0
    requests: int = 0
    retries: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "enrolled": len(self.enrolled),
            "skipped": len(self.skipped),
            "uncertain": len(self.uncertain),
            "unsent": len(self.unsent),
            "confirmed_after_retry": self.confirmed_after_retry,
            "requests": self.requests,
            "retries": sum(self.retries.values()),
        }
