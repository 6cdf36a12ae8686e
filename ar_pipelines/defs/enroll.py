"""An optional job: enroll the practice's `not_assigned` statements with a balance into its
statement-acknowledgement (SA) campaign.

Live keys only (AR refuses test keys, which would send nothing real). Idempotent: only
statements still `not_assigned` are asked for, and one already enrolled is confirmed by
reading it back rather than enrolled twice.
"""

from decimal import Decimal

import dagster as dg

from ar_pipelines.defs.common import practice_of, retried_when_transient, tagged_by_ar_key
from ar_pipelines.defs.practices import PracticesConfig
from ar_pipelines.defs.resources import ArApi, Settings


def enroll_job(partitions: dg.PartitionsDefinition, config: PracticesConfig) -> dg.JobDefinition:
    @dg.op
    def enroll_outstanding_statements(
        context: dg.OpExecutionContext, ar: ArApi, settings: Settings
    ) -> dg.Output[int]:
        practice = practice_of(context, settings)
        campaign_id = practice.campaign_id()
        if not campaign_id:
            raise dg.Failure(
                description=(
                    f"practice {practice.id} has no SA campaign: set sa_campaign_id (or "
                    "sa_campaign_env) in the practices file"
                )
            )
        with retried_when_transient(context), ar.client(practice) as client:
            if client.mode != "live":
                raise dg.Failure(
                    description=(
                        "enrolling needs the practice's live key (sk_live_…): AR refuses "
                        "test keys for campaigns"
                    )
                )
            waiting = [
                statement.id
                for statement in client.statements.list(status="not_assigned", per_page=100)
                if statement.outstanding > Decimal("0")
            ]
            report = client.statements.enroll(waiting, campaign_id=campaign_id)
        summary = report.summary()
        if report.uncertain or report.unsent:
            raise dg.Failure(
                description="some enrollments could not be confirmed; run the job again",
                metadata={"enrollment": dg.MetadataValue.json(summary)},
            )
        return dg.Output(
            len(report.enrolled),
            metadata={
                "candidates": len(waiting),
                "enrolled": len(report.enrolled),
                "skipped": len(report.skipped),
                "enrollment": dg.MetadataValue.json(summary),
            },
        )

    @dg.job(
        name="enroll_statements",
        config=tagged_by_ar_key(partitions, config),
        description=__doc__,
    )
    def enroll_statements() -> None:
        enroll_outstanding_statements()

    return enroll_statements
