from __future__ import annotations

from ar_sandbox.access import CampaignsRead
from ar_sandbox.routes._shared import router
from ar_sandbox.schemas.statements import CampaignOut, CampaignPage, CampaignQuery
from ar_sandbox.services import enrollment

api = router("campaigns")
reads = api.reads(CampaignsRead, "Campaign", "Campaigns")
reads.list_route(
    "/campaigns",
    "List the company's campaigns",
    CampaignQuery,
    CampaignPage,
    enrollment.list_campaigns,
)
reads.get_route(
    "/campaigns/{campaign_id}",
    "Get one campaign",
    CampaignOut,
    enrollment.get_campaign,
    enrollment.campaign_out,
)
