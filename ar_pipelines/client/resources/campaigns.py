"""``ar.campaigns``: list and get (003). Campaigns are made in the AR app, not here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypedDict, Unpack

from ar_pipelines.client.models import Campaign
from ar_pipelines.client.resources._base import ListEndpoint, Resource


class CampaignFilters(TypedDict, total=False):
    search: str | None
    status: str | None
    type: str | None


CAMPAIGNS_LIST = ListEndpoint(
    "/campaigns", Campaign, "campaigns", CampaignFilters.__optional_keys__
)


class Campaigns(Resource):
    def list(
        self, *, per_page: int | None = None, **filters: Unpack[CampaignFilters]
    ) -> Iterator[Campaign]:
        return self._list(CAMPAIGNS_LIST, per_page, filters)

    def get(self, campaign_id: str) -> Campaign:
        return self._one("GET", f"/campaigns/{campaign_id}", Campaign)
