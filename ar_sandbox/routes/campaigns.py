from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import Query
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ar_sandbox.access import CampaignsRead, DatabaseDep
from ar_sandbox.models import Campaign
from ar_sandbox.routes._shared import Page, QueryText, router
from ar_sandbox.schemas.common import Envelope
from ar_sandbox.schemas.statements import CampaignOut, CampaignPage
from ar_sandbox.services import enrollment
from ar_sandbox.services.common import in_scope, like_pattern, paginate

api = router("campaigns")

CampaignStatus = Literal[
    "draft", "scheduled", "active", "running", "paused", "completed", "cancelled", "archived"
]


def campaign_out(campaign: Campaign) -> CampaignOut:
    return CampaignOut(
        id=campaign.id,
        company_id=campaign.company_id,
        name=campaign.name,
        description=campaign.description,
        type=campaign.type,
        category=campaign.category,
        status=campaign.status,
        next_campaign_id=campaign.next_campaign_id,
        accepts_enrollments=enrollment.accepts_enrollments(campaign),
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
    )


@api.get("/campaigns", summary="List the company's campaigns")
def list_campaigns(
    database: DatabaseDep,
    principal: CampaignsRead,
    search: QueryText | None = None,
    status: Annotated[CampaignStatus | None, Query()] = None,
    type: Annotated[
        QueryText | None, Query(description="Campaign type, e.g. payment_reminder")
    ] = None,
    page: Page = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Envelope[CampaignPage]:
    def work(session: Session) -> CampaignPage:
        query = select(Campaign).where(*in_scope(Campaign, principal))
        if search:
            pattern = like_pattern(search)
            query = query.where(
                or_(
                    Campaign.name.ilike(pattern, escape="\\"),
                    Campaign.description.ilike(pattern, escape="\\"),
                )
            )
        if status is not None:
            query = query.where(Campaign.status == status)
        if type is not None:
            query = query.where(Campaign.type == type)
        rows, info = paginate(session, query.order_by(Campaign.name, Campaign.id), page, per_page)
        return CampaignPage(campaigns=[campaign_out(c) for c in rows], **info.model_dump())

    return Envelope(message="Campaigns retrieved", data=database.run(work))


@api.get("/campaigns/{campaign_id}", summary="Get one campaign")
def get_campaign(
    database: DatabaseDep, principal: CampaignsRead, campaign_id: UUID
) -> Envelope[CampaignOut]:
    data = database.run(
        lambda s: campaign_out(enrollment.get_campaign(s, principal, str(campaign_id)))
    )
    return Envelope(message="Campaign retrieved", data=data)
