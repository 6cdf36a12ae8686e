"""Bulk upserts: chunk prepared records, send them concurrently, and isolate malformed
records when the server refuses a request with a 422.

Reverse-ETL tools retry at the batch level and split batches to find bad rows; this
does the same for AR's contract. The server's 422 names each bad record's index, so
exactly those records are set aside and the rest sent again; when it names none, the
batch is halved until the bad records stand alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from ar_pipelines.client._http import Transport
from ar_pipelines.client._prepare import Item, Prepared
from ar_pipelines.client._retry import RetryCounter
from ar_pipelines.client.errors import ApiError, ApiStatusError, PushIncompleteError
from ar_pipelines.client.models import StatementCounts, UpsertCounts
from ar_pipelines.client.reports import Progress, PushReport, RecordIssue

ProgressCallback = Callable[[Progress], None]
# Refusals of a request for its content: split it and send the parts.
SPLITTABLE_STATUSES = frozenset({413, 422})
CountsOf = Callable[[Any], tuple[UpsertCounts, StatementCounts | None]]


def upsert_counts(data: Any) -> tuple[UpsertCounts, StatementCounts | None]:
    """The counts of a bulk answer that re-aggregates nothing (customers, invoices)."""
    return UpsertCounts.model_validate(data), None


@dataclass(frozen=True)
class BulkEndpoint:
    """A bulk upsert route: where to send, under which key, how many per request."""

    kind: str
    path: str
    body_key: str
    batch_size: int
    counts_of: CountsOf = upsert_counts


@dataclass
class _Outcome:
    """What one chunk came to, including records it could not send."""

    created: int = 0
    updated: int = 0
    unidentified_skipped: int = 0
    failed: list[RecordIssue] = field(default_factory=list)
    rejected: list[RecordIssue] = field(default_factory=list)
    unsent: list[RecordIssue] = field(default_factory=list)
    statements: StatementCounts | None = None
    requests: int = 0
    stopped_by: ApiError | None = None


class BulkPusher:
    """Sends prepared items in chunks of ``batch_size``, ``concurrency`` at a time."""

    def __init__(self, transport: Transport, endpoint: BulkEndpoint, *, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.transport = transport
        self.endpoint = endpoint
        self.concurrency = concurrency

    def push(
        self, prepared: Prepared, *, on_progress: ProgressCallback | None = None
    ) -> PushReport:
        """Send everything; raise ``PushIncompleteError`` (with the report) if the push
        had to stop, so that an incomplete push is never mistaken for a finished one."""
        started = time.perf_counter()
        items = prepared.items
        total = len(items) + len(prepared.rejected) + len(prepared.skipped)
        report = PushReport(
            kind=self.endpoint.kind,
            total=total,
            rejected=list(prepared.rejected),
            skipped=list(prepared.skipped),
        )
        counter = RetryCounter()
        size = self.endpoint.batch_size
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        stop: ApiError | None = None
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="ar-push") as pool:
            queue = iter(chunks)
            running: dict[Future[_Outcome], list[Item]] = {}

            def submit_next() -> None:
                chunk = next(queue, None)
                if chunk is not None:
                    running[pool.submit(self._deliver, chunk, counter)] = chunk

            for _ in range(self.concurrency):
                submit_next()
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
                    outcome = future.result()
                    self._merge(report, outcome)
                    stop = stop or outcome.stopped_by
                    if stop is None:
                        submit_next()
                if on_progress is not None:
                    on_progress(Progress(report.settled, total, report.requests, counter.total))
            reason = f"not sent: the push stopped after an earlier request failed: {stop}"
            for chunk in queue:
                report.unsent.extend(
                    RecordIssue(i.input_index, i.external_id, reason) for i in chunk
                )
        report.retries = counter.snapshot()
        report.elapsed_seconds = time.perf_counter() - started
        for bucket in (report.skipped, report.failed, report.rejected, report.unsent):
            bucket.sort(key=lambda issue: issue.index)
        if report.unsent:
            raise PushIncompleteError(
                f"{len(report.unsent)} of {report.total} {self.endpoint.kind} were not sent "
                f"({report.created + report.updated} landed): {stop}",
                report,
            ) from stop
        return report

    @staticmethod
    def _merge(report: PushReport, outcome: _Outcome) -> None:
        report.created += outcome.created
        report.updated += outcome.updated
        report.unidentified_skipped += outcome.unidentified_skipped
        report.failed.extend(outcome.failed)
        report.rejected.extend(outcome.rejected)
        report.unsent.extend(outcome.unsent)
        report.requests += outcome.requests
        if outcome.statements is not None:
            report.statements = (report.statements or StatementCounts()) + outcome.statements

    def _deliver(self, chunk: list[Item], counter: RetryCounter) -> _Outcome:
        """Send one chunk; on a 422 set the named records aside and send the rest."""
        outcome = _Outcome()
        parts = [chunk]
        while parts:
            part = parts.pop()
            body = self._body(part)
            outcome.requests += 1
            try:
                answer = self.transport.request(
                    "POST", self.endpoint.path, body=body, counter=counter
                )
            except ApiStatusError as err:
                if err.status_code not in SPLITTABLE_STATUSES:
                    self._stop(outcome, err, part, parts)
                    break
                parts.extend(self._isolate(part, err, outcome))
                continue
            except ApiError as err:
                self._stop(outcome, err, part, parts)
                break
            self._count(part, answer.data, outcome)
        return outcome

    def _body(self, part: list[Item]) -> bytes:
        records = b",".join([item.body for item in part])
        return b'{"' + self.endpoint.body_key.encode() + b'":[' + records + b"]}"

    @staticmethod
    def _stop(outcome: _Outcome, err: ApiError, part: list[Item], parts: list[list[Item]]) -> None:
        for item in [*part, *(i for p in parts for i in p)]:
            outcome.unsent.append(RecordIssue(item.input_index, item.external_id, str(err)))
        outcome.stopped_by = err

    @staticmethod
    def _isolate(part: list[Item], err: ApiStatusError, outcome: _Outcome) -> list[list[Item]]:
        """The parts still to send after ``part`` was refused for its content (a 422, or
        a 413 from a gateway that finds the body too large)."""
        named: dict[int, list[str]] = {}
        for detail in err.errors:
            if detail.index is not None and 0 <= detail.index < len(part):
                named.setdefault(detail.index, []).append(detail.describe())
        if named:
            for position, reasons in sorted(named.items()):
                item = part[position]
                outcome.rejected.append(
                    RecordIssue(item.input_index, item.external_id, "; ".join(reasons))
                )
            rest = [item for position, item in enumerate(part) if position not in named]
            return [rest] if rest else []
        if len(part) == 1:
            item = part[0]
            outcome.rejected.append(RecordIssue(item.input_index, item.external_id, err.message))
            return []
        middle = len(part) // 2
        return [part[middle:], part[:middle]]

    def _count(self, part: list[Item], data: Any, outcome: _Outcome) -> None:
        counts, statements = self.endpoint.counts_of(data)
        outcome.created += counts.created
        outcome.updated += counts.updated
        outcome.unidentified_skipped += counts.skipped
        for error in counts.errors:
            item = part[error.index] if 0 <= error.index < len(part) else None
            if item is None:
                continue
            outcome.failed.append(RecordIssue(item.input_index, item.external_id, error.error))
        if statements is not None:
            outcome.statements = (outcome.statements or StatementCounts()) + statements
