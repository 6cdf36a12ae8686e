"""``ar.statements``: list, get with entries, and SA-campaign enrollment (004)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Unpack

from ar_pipelines.client._retry import RetryCounter
from ar_pipelines.client.errors import BadRequestError
from ar_pipelines.client.models import Statement, StatementDetail, StatementEnrollment
from ar_pipelines.client.records import encode
from ar_pipelines.client.reports import EnrollmentReport, NotEnrolled
from ar_pipelines.client.resources._base import ByCustomer, ByDates, ListEndpoint, Resource
from ar_pipelines.client.resources._enroll import ChunkAnswer, enroll_in_chunks


class StatementFilters(ByCustomer, ByDates, total=False):
    status: str | None


STATEMENTS_LIST = ListEndpoint(
    "/statements", Statement, "statements", StatementFilters.__optional_keys__
)


class Statements(Resource):
    def list(
        self, *, per_page: int | None = None, **filters: Unpack[StatementFilters]
    ) -> Iterator[Statement]:
        """Statements newest first (``period_start``), every page."""
        return self._list(STATEMENTS_LIST, per_page, filters)

    def get(self, statement_id: str, *, include_entries: bool = True) -> StatementDetail:
        """One statement; with ``include_entries`` its billable rows and allocations."""
        params = {"include_entries": include_entries}
        return self._one("GET", f"/statements/{statement_id}", StatementDetail, params=params)

    def enroll(self, statement_ids: Iterable[object], *, campaign_id: str) -> EnrollmentReport:
        """Enroll any number of statements into an SA campaign, 100 per request."""
        self._require_live("Enrolling statements")
        campaign = str(campaign_id)

        def send(chunk: list[str], counter: RetryCounter) -> ChunkAnswer:
            body = encode({"campaign_id": campaign, "statement_ids": chunk})
            try:
                answer = self._transport.request(
                    "POST",
                    "/statements/campaign/bulk",
                    body=body,
                    idempotent=False,
                    counter=counter,
                )
            except BadRequestError as err:
                if "no valid statements" not in err.message.lower():
                    raise
                refused = [NotEnrolled(i, "Statement not found") for i in chunk]
                return ChunkAnswer([], refused, err.attempts)
            result = StatementEnrollment.model_validate(answer.data)
            refused = [NotEnrolled(s.statement_id, s.error) for s in result.skipped_errors or []]
            return ChunkAnswer(result.results, refused, answer.attempts)

        return enroll_in_chunks(
            statement_ids,
            campaign,
            send=send,
            confirm=lambda i: self._in_campaign(i, campaign) is not None,
        )

    def enroll_one(self, statement_id: str, *, campaign_id: str) -> StatementEnrollment:
        """Enroll one statement into an SA campaign."""
        self._require_live("Enrolling a statement")
        campaign = str(campaign_id)
        return self._enroll_one(
            f"/statements/{statement_id}/campaign",
            campaign,
            lambda: self._in_campaign(str(statement_id), campaign),
            params={"campaign_id": campaign},
        )

    def _in_campaign(self, statement_id: str, campaign_id: str) -> Statement | None:
        """The statement read back, when it is enrolled in the campaign."""
        statement = self.get(statement_id, include_entries=False)
        enrolled = (
            statement.campaign_id == campaign_id and statement.enrollment_status != "not_enrolled"
        )
        return statement if enrolled else None
