from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query

from ar_sandbox.access import CampaignsRead
from ar_sandbox.routes._shared import PagingQuery, router
from ar_sandbox.schemas.common import Envelope
from ar_sandbox.schemas.statements import CampaignOut, CampaignPage, CampaignQuery
from ar_sandbox.services import enrollment

api = router("campaigns")


@api.get("/campaigns", summary="List the company's campaigns")
def list_campaigns(
    caller: CampaignsRead, wanted: Annotated[CampaignQuery, Query()], paging: PagingQuery
) -> Envelope[CampaignPage]:
    return caller.listing("Campaigns retrieved", enrollment.list_campaigns, wanted, paging)


@api.get("/campaigns/{campaign_id}", summary="Get one campaign")
def get_campaign(caller: CampaignsRead, campaign_id: UUID) -> Envelope[CampaignOut]:
    return caller.fetch(
        "Campaign retrieved", enrollment.get_campaign, campaign_id, enrollment.campaign_out
    )
