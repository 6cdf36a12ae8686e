"""Enrolling many invoices into a campaign, safely under retries.

Enrollment is not idempotent, so its requests are resent only when they surely did
not reach the server or the server said it did not act (see ``_retry``). One active
execution per invoice is the server's rule, so when a resent request meets "already
has an active execution", the invoice is read back: enrolled in this very campaign
means the earlier attempt landed, and it counts as enrolled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ar_pipelines.client._constants import MAX_ENROLLMENTS_PER_REQUEST
from ar_pipelines.client._retry import RetryCounter
from ar_pipelines.client.errors import (
    ApiConnectionError,
    InternalServerError,
    RateLimitError,
    RequestTimeoutError,
)
from ar_pipelines.client.models import Enrollment
from ar_pipelines.client.reports import EnrollmentReport, NotEnrolled

ACTIVE_EXECUTION = "active execution"
# Failures after which the outcome of the request is unknown or the server unusable.
UNSETTLED = (ApiConnectionError, InternalServerError, RateLimitError, RequestTimeoutError)


@dataclass(frozen=True)
class ChunkAnswer:
    enrolled: list[Enrollment]
    refused: list[NotEnrolled]
    attempts: int


Send = Callable[[list[str], RetryCounter], ChunkAnswer]
Confirm = Callable[[str], bool]


def met_own_enrollment(reason: str, attempts: int) -> bool:
    """Whether a refusal may only be the echo of this call's own earlier attempt."""
    return attempts > 1 and ACTIVE_EXECUTION in reason.lower()


def enroll_in_chunks(
    ids: Iterable[object], campaign_id: str, *, send: Send, confirm: Confirm
) -> EnrollmentReport:
    """Enroll every id, 100 per request; account for each in the report."""
    wanted = list(dict.fromkeys(str(i) for i in ids))
    chunks = [
        wanted[i : i + MAX_ENROLLMENTS_PER_REQUEST]
        for i in range(0, len(wanted), MAX_ENROLLMENTS_PER_REQUEST)
    ]
    report = EnrollmentReport(campaign_id=campaign_id)
    counter = RetryCounter()
    for position, chunk in enumerate(chunks):
        report.requests += 1
        try:
            answer = send(chunk, counter)
        except UNSETTLED as err:
            report.uncertain.extend(NotEnrolled(i, str(err)) for i in chunk)
            reason = f"not sent: an earlier request failed: {err}"
            for rest in chunks[position + 1 :]:
                report.unsent.extend(NotEnrolled(i, reason) for i in rest)
            break
        report.enrolled.extend(answer.enrolled)
        for refusal in answer.refused:
            if met_own_enrollment(refusal.reason, answer.attempts) and confirm(refusal.id):
                report.enrolled.append(Enrollment(invoice_id=refusal.id))
                report.confirmed_after_retry += 1
            else:
                report.skipped.append(refusal)
    report.retries = counter.snapshot()
    return report
