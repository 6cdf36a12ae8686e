"""Builders shared by the resource tests: records, a request recorder, small ledgers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from ar_pipelines.client import (
    ARClient,
    CustomerRecord,
    InvoiceRecord,
    LedgerEntryRecord,
)
from ar_pipelines.client.models import Account, Statement

ACTIVE_EXECUTION = "active execution"


@dataclass
class Recorder:
    """An ``httpx.Client`` that remembers every request it sends and every answer."""

    requests: list[httpx.Request] = field(default_factory=list)
    responses: list[httpx.Response] = field(default_factory=list)
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(
            timeout=30.0,
            event_hooks={"request": [self.requests.append], "response": [self.responses.append]},
        )

    def paths(self, method: str = "GET") -> list[str]:
        return [r.url.path for r in self.requests if r.method == method]


def reminder_campaign_id(company: dict[str, Any]) -> str:
    (campaign,) = (
        c for c in company["campaigns"] if c["mode"] == "live" and c["type"] == "payment_reminder"
    )
    return str(campaign["id"])


def customer(external_id: str, **fields: Any) -> CustomerRecord:
    return CustomerRecord(
        external_id=external_id, email=f"{external_id.lower()}@example.com", **fields
    )


def entry(
    external_id: str, customer_external_id: str, day: str, kind: str, amount: str
) -> LedgerEntryRecord:
    return LedgerEntryRecord(
        external_id=external_id,
        customer_external_id=customer_external_id,
        transaction_date=date.fromisoformat(day),
        transaction_type=kind,
        amount=Decimal(amount),
    )


def invoice(external_id: str, customer_external_id: str, amount: str = "100.00") -> InvoiceRecord:
    return InvoiceRecord(
        external_id=external_id,
        customer_external_id=customer_external_id,
        amount=Decimal(amount),
        issue_date=date(2026, 1, 1),
        due_date=date(2099, 1, 31),
    )


def accounts_of(ar: ARClient, customer_external_id: str, *external_ids: str) -> list[Account]:
    """Push one customer with an account per external id; the accounts, in that order."""
    ar.customers.bulk_upsert([customer(customer_external_id)])
    report = ar.accounts.bulk_upsert([invoice(e, customer_external_id) for e in external_ids])
    assert report.created == len(external_ids)
    by_external_id = {
        a.external_id: a for a in ar.accounts.list(customer_external_id=customer_external_id)
    }
    return [by_external_id[e] for e in external_ids]


def three_months(ar: ARClient, customer_external_id: str = "PT-3M") -> list[Statement]:
    """A customer with Jan, Feb and Mar 2026 charges and one payment; statements oldest first."""
    ar.customers.bulk_upsert([customer(customer_external_id)])
    c = customer_external_id
    ar.ledgers.bulk_upsert(
        [
            entry(f"{c}-1", c, "2026-01-10", "charge", "100.00"),
            entry(f"{c}-2", c, "2026-02-10", "charge", "50.00"),
            entry(f"{c}-3", c, "2026-02-20", "patient_payment", "-30.00"),
            entry(f"{c}-4", c, "2026-03-05", "adjustment", "20.00"),
        ]
    )
    listed = list(ar.statements.list(customer_external_id=c))
    return sorted(listed, key=lambda s: s.period_start)
