"""``ar.campaigns`` against the sandbox over real HTTP."""

from __future__ import annotations

from typing import Any

from ar_pipelines.client import ARClient
from tests.ar_pipelines.client.resources.helpers import reminder_campaign_id


def test_listing_campaigns_filters_by_status_and_type(
    ar: ARClient, company: dict[str, Any]
) -> None:
    every = list(ar.campaigns.list(per_page=1))
    live = {c["id"] for c in company["campaigns"] if c["mode"] == "live"}
    assert {c.id for c in every} == live
    active = list(ar.campaigns.list(status="active"))
    assert {c.type for c in active} == {"statement_acknowledgement", "payment_reminder"}
    assert all(c.accepts_enrollments for c in active)
    (draft,) = ar.campaigns.list(status="draft")
    assert draft.accepts_enrollments is False
    (reminder,) = ar.campaigns.list(type="payment_reminder")
    assert reminder.id == reminder_campaign_id(company)
    assert [c.id for c in ar.campaigns.list(search="Statement")] == [company["sa_campaign_id"]]


def test_getting_a_campaign_by_id_returns_it(ar: ARClient, company: dict[str, Any]) -> None:
    campaign = ar.campaigns.get(company["sa_campaign_id"])
    assert (campaign.id, campaign.category, campaign.status) == (
        company["sa_campaign_id"],
        "statement_acknowledgement",
        "active",
    )
    reminder = ar.campaigns.get(reminder_campaign_id(company))
    assert reminder.next_campaign_id is not None
    assert ar.campaigns.get(reminder.next_campaign_id).status == "draft"
