"""An optional job: enroll the practice's `not_assigned` statements with a balance into its
statement-acknowledgement (SA) campaign.

Live keys only (AR refuses test keys, which would send nothing real). Idempotent
(``sync.enroll``): only statements still `not_assigned` are asked for, and one already
enrolled is confirmed by reading it back rather than enrolled twice.
"""

import dagster as dg

from ar_pipelines.client import LiveKeyRequiredError
from ar_pipelines.defs.common import practice_of, retried_when_transient, tagged_by_ar_key
from ar_pipelines.defs.practices import PracticesConfig
from ar_pipelines.defs.resources import ArApi, Settings
from ar_pipelines.sync.enroll import enroll_waiting_statements

ENROLL_JOB = "enroll_statements"


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
            try:
                outcome = enroll_waiting_statements(client, campaign_id=campaign_id)
            except LiveKeyRequiredError as err:
                raise dg.Failure(description=str(err)) from None
        summary = outcome.report.summary()
        if not outcome.settled:
            raise dg.Failure(
                description="some enrollments could not be confirmed; run the job again",
                metadata={"enrollment": dg.MetadataValue.json(summary)},
            )
        return dg.Output(
            len(outcome.report.enrolled),
            metadata={
                "candidates": outcome.candidates,
                "enrolled": len(outcome.report.enrolled),
                "skipped": len(outcome.report.skipped),
                "enrollment": dg.MetadataValue.json(summary),
            },
        )

    @dg.job(
        name=ENROLL_JOB,
        config=tagged_by_ar_key(partitions, config),
        description=__doc__,
    )
    def enroll_statements() -> None:
        enroll_outstanding_statements()

    return enroll_statements
