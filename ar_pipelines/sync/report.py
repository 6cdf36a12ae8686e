"""What a push with change detection hands back, and the error it raises when it stopped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ar_pipelines.client import PushReport, RecordIssue
from ar_pipelines.client.models import StatementCounts

SAMPLE_ISSUES = 10  # issues named in a summary; the warehouse's dead letter has them all


@dataclass
class SyncCounts:
    """``considered`` = this run's records plus dead letters not among them;
    ``unchanged`` of them were not sent; ``sent`` = ``created`` + ``updated`` +
    ``failed`` + ``rejected`` + ``unsent`` (as the server counts created and updated);
    ``retried_from_dead_letter`` counts sent records that were in the dead letter."""

    considered: int = 0
    unchanged: int = 0
    sent: int = 0
    created: int = 0
    updated: int = 0
    failed: int = 0
    rejected: int = 0
    unsent: int = 0
    retried_from_dead_letter: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class SyncReport:
    """What one ``push_changes`` call did.

    ``push`` is the client's report of every request, its indexes counting the
    records sent (``None`` when nothing was sent); ``issues`` names every record that
    failed, was rejected or stayed unsent, with the reason; ``dead_letter_size`` is
    how many records of this practice and kind wait in the dead letter afterwards.
    """

    kind: str
    practice_id: str
    counts: SyncCounts = field(default_factory=SyncCounts)
    push: PushReport | None = None
    issues: list[RecordIssue] = field(default_factory=list)
    dead_letter_size: int = 0

    @property
    def clean(self) -> bool:
        """Every record sent landed: nothing failed, was rejected or stayed unsent."""
        counts = self.counts
        return not (counts.failed or counts.rejected or counts.unsent)

    def issue_samples(self, limit: int = SAMPLE_ISSUES) -> list[dict[str, Any]]:
        """The first ``limit`` issues as JSON-safe dicts (index, external_id, reason)."""
        return [issue.as_dict() for issue in self.issues[:limit]]

    def summary(self) -> dict[str, Any]:
        """Counts and a few named issues: JSON-safe, for logs and Dagster metadata."""
        return {
            "kind": self.kind,
            "practice_id": self.practice_id,
            **self.counts.as_dict(),
            "clean": self.clean,
            "dead_letter_size": self.dead_letter_size,
            "push": self.push.summary() if self.push is not None else None,
            "sample_issues": self.issue_samples(),
        }


class SyncIncompleteError(Exception):
    """A push stopped before every record was sent (the API refused or could not be
    reached, after the client's retries). What landed, failed and was not sent is
    recorded in the warehouse already; ``report`` counts it. Run again to converge."""

    def __init__(self, message: str, report: SyncReport) -> None:
        super().__init__(message)
        self.report = report


def merge_reports(merged: PushReport | None, part: PushReport, offset: int) -> PushReport:
    """``part`` (the report of records ``offset`` onwards) added to ``merged``."""
    if merged is None:
        merged = PushReport(kind=part.kind, total=0)
    merged.total += part.total
    merged.created += part.created
    merged.updated += part.updated
    merged.unidentified_skipped += part.unidentified_skipped
    for mine, theirs in (
        (merged.skipped, part.skipped),
        (merged.failed, part.failed),
        (merged.rejected, part.rejected),
        (merged.unsent, part.unsent),
    ):
        mine.extend(
            RecordIssue(issue.index + offset, issue.external_id, issue.reason) for issue in theirs
        )
    if part.statements is not None:
        merged.statements = (merged.statements or StatementCounts()) + part.statements
    merged.requests += part.requests
    for cause, count in part.retries.items():
        merged.retries[cause] = merged.retries.get(cause, 0) + count
    merged.elapsed_seconds += part.elapsed_seconds
    return merged
