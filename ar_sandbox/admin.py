"""Set-up that AR does in its app, not its API: companies, keys, campaigns."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from ar_sandbox.access import SCOPES, generate_key, hash_key
from ar_sandbox.db import Database
from ar_sandbox.models import ApiKey, Campaign, Company, Organization, new_id, utcnow

SA_CATEGORY = "statement_acknowledgement"


@dataclass(frozen=True)
class CampaignInfo:
    id: str
    name: str
    type: str
    category: str
    status: str
    mode: str
    next_campaign_id: str | None


def create_organization(session: Session, name: str) -> str:
    organization = Organization(id=new_id(), name=name, created_at=utcnow())
    session.add(organization)
    session.flush()
    return organization.id


def create_company(session: Session, name: str, organization_id: str | None = None) -> str:
    company = Company(id=new_id(), name=name, organization_id=organization_id, created_at=utcnow())
    session.add(company)
    session.flush()
    return company.id


def create_api_key(
    session: Session,
    *,
    mode: str,
    company_id: str | None = None,
    organization_id: str | None = None,
    scopes: Sequence[str] = (),
    workspace_ids: Sequence[str] = (),
    name: str = "",
) -> str:
    """Store a new key (hashed) and return it: the only time it is ever shown."""
    if (company_id is None) == (organization_id is None):
        raise ValueError("a key belongs to exactly one company or one organization")
    if mode not in {"live", "test"}:
        raise ValueError("mode is live or test")
    unknown = set(scopes) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes: {sorted(unknown)}")
    key = generate_key(mode)
    session.add(
        ApiKey(
            id=new_id(),
            key_hash=hash_key(key),
            key_prefix=key[:12],
            name=name,
            mode=mode,
            company_id=company_id,
            organization_id=organization_id,
            scopes=json.dumps(sorted(set(scopes))),
            workspace_ids=json.dumps(sorted(set(workspace_ids))),
            created_at=utcnow(),
        )
    )
    session.flush()
    return key


def create_campaign(
    session: Session,
    *,
    company_id: str,
    mode: str,
    name: str,
    type: str,
    status: str = "active",
    next_campaign_id: str | None = None,
    description: str | None = None,
) -> CampaignInfo:
    category = SA_CATEGORY if type == SA_CATEGORY else "collection"
    now = utcnow()
    campaign = Campaign(
        id=new_id(),
        company_id=company_id,
        mode=mode,
        name=name,
        description=description,
        type=type,
        category=category,
        status=status,
        next_campaign_id=next_campaign_id,
        created_at=now,
        updated_at=now,
    )
    session.add(campaign)
    session.flush()
    return CampaignInfo(campaign.id, name, type, category, status, mode, next_campaign_id)


def _default_campaigns(session: Session, company_id: str, mode: str) -> list[CampaignInfo]:
    early = create_campaign(
        session,
        company_id=company_id,
        mode=mode,
        name="Early Stage Collections",
        type="early_stage",
        status="draft",
    )
    reminder = create_campaign(
        session,
        company_id=company_id,
        mode=mode,
        name="Payment Reminder",
        type="payment_reminder",
        next_campaign_id=early.id,
    )
    statements = create_campaign(
        session,
        company_id=company_id,
        mode=mode,
        name="Statement Acknowledgement",
        type=SA_CATEGORY,
    )
    return [statements, reminder, early]


def bootstrap(database: Database, *, name: str = "Sandbox Practice") -> dict[str, Any]:
    """A new company with full-access live and test keys and its campaigns."""

    def work(session: Session) -> dict[str, Any]:
        company_id = create_company(session, name)
        live_key = create_api_key(session, mode="live", company_id=company_id, name="live")
        test_key = create_api_key(session, mode="test", company_id=company_id, name="test")
        campaigns = _default_campaigns(session, company_id, "live")
        campaigns += _default_campaigns(session, company_id, "test")
        return {
            "company_id": company_id,
            "live_key": live_key,
            "test_key": test_key,
            "sa_campaign_id": campaigns[0].id,
            "campaigns": [asdict(c) for c in campaigns],
        }

    database.create_schema()
    return database.run(work)
