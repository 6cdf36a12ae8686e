"""``ar.campaigns``: list and get (003). Campaigns are made in the AR app, not here."""

from __future__ import annotations

from collections.abc import Iterator

from ar_pipelines.client.models import Campaign
from ar_pipelines.client.resources._base import Resource


class Campaigns(Resource):
    def list(
        self,
        *,
        search: str | None = None,
        status: str | None = None,
        type: str | None = None,
        per_page: int | None = None,
    ) -> Iterator[Campaign]:
        return self._list(
            "/campaigns",
            Campaign,
            items="campaigns",
            per_page=per_page,
            search=search,
            status=status,
            type=type,
        )

    def get(self, campaign_id: str) -> Campaign:
        return self._one("GET", f"/campaigns/{campaign_id}", Campaign)
