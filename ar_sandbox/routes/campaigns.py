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
    data = caller.run(lambda s, p: enrollment.list_campaigns(s, p, wanted, paging))
    return Envelope(message="Campaigns retrieved", data=data)


@api.get("/campaigns/{campaign_id}", summary="Get one campaign")
def get_campaign(caller: CampaignsRead, campaign_id: UUID) -> Envelope[CampaignOut]:
    data = caller.run(
        lambda s, p: enrollment.campaign_out(enrollment.get_campaign(s, p, str(campaign_id)))
    )
    return Envelope(message="Campaign retrieved", data=data)
