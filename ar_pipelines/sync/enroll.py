"""A practice's statements enrolled into its statement-acknowledgement (SA) campaign.

Only statements still ``not_assigned`` with an outstanding balance are asked for, so a
run repeated enrolls nothing twice; the client confirms by reading back a statement a
retry found already enrolled. AR takes enrollments from live keys only, and this says
so before asking anything. No Dagster here: the job reports what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ar_pipelines.client import ARClient, EnrollmentReport, LiveKeyRequiredError


@dataclass(frozen=True)
class EnrollOutcome:
    """How many statements were waiting, and what became of each."""

    candidates: int
    report: EnrollmentReport

    @property
    def settled(self) -> bool:
        """Whether every enrollment asked for is known to have landed or been refused."""
        return not (self.report.uncertain or self.report.unsent)


def enroll_waiting_statements(client: ARClient, *, campaign_id: str) -> EnrollOutcome:
    """Enroll every ``not_assigned`` statement with a balance into ``campaign_id``; a
    client with a test key raises ``LiveKeyRequiredError`` before anything is read."""
    if client.mode != "live":
        raise LiveKeyRequiredError(
            "enrolling needs the practice's live key (sk_live_…): AR refuses test keys "
            "for campaigns"
        )
    waiting = [
        statement.id
        for statement in client.statements.list(status="not_assigned", per_page=100)
        if statement.outstanding > Decimal("0")
    ]
    return EnrollOutcome(len(waiting), client.statements.enroll(waiting, campaign_id=campaign_id))
