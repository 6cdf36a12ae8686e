"""Enrollment under retries: never enrolled twice, and an enrollment that landed
before its answer was lost is recognised as enrolled."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ar_pipelines.client import ARClient
from ar_sandbox.admin import create_campaign
from tests.ar_pipelines.client.faults import AnswerAfter, FailAfter, Refuse, ScriptedTransport, Step
from tests.ar_pipelines.client.resources.helpers import accounts_of
from tests.sandbox_server import RunningSandbox

MONTHS = 3


def enrolling(request: httpx.Request) -> bool:
    return request.method == "POST" and "/campaign" in request.url.path


@pytest.fixture
def make_client(sandbox: RunningSandbox, company: dict[str, Any]) -> Iterator[Any]:
    opened: list[tuple[ARClient, httpx.Client]] = []

    def make(*steps: Step) -> tuple[ARClient, ScriptedTransport]:
        transport = ScriptedTransport(*steps, when=enrolling)
        http = httpx.Client(transport=transport, timeout=30)
        ar = ARClient(
            base_url=sandbox.base_url,
            api_key=company["live_key"],
            http_client=http,
            sleep=lambda _: None,
        )
        opened.append((ar, http))
        return ar, transport

    yield make
    for ar, http in opened:
        ar.close()
        http.close()


def statements_of(ar: ARClient) -> list[str]:
    ar.customers.bulk_upsert([{"external_id": "PT-1", "email": "pt1@example.com"}])
    entries = [
        {
            "external_id": f"TX-{month}",
            "customer_external_id": "PT-1",
            "transaction_date": f"2026-0{month}-10",
            "transaction_type": "charge",
            "amount": "80.00",
        }
        for month in range(1, MONTHS + 1)
    ]
    assert ar.ledgers.bulk_upsert(entries).created == MONTHS
    return [s.id for s in ar.statements.list()]


def executions(sandbox: RunningSandbox, key: str, invoice_id: str) -> list[dict[str, Any]]:
    with sandbox.client(key) as raw:
        response = raw.get(
            f"{sandbox.base_url}/api/v1/sandbox/executions", params={"invoice_id": invoice_id}
        )
        response.raise_for_status()
        return list(response.json()["data"])


def test_a_bulk_enrollment_that_landed_before_a_503_counts_as_enrolled_once(
    make_client: Any, sandbox: RunningSandbox, company: dict[str, Any]
) -> None:
    ar, transport = make_client(AnswerAfter(503))
    ids = statements_of(ar)
    report = ar.statements.enroll(ids, campaign_id=company["sa_campaign_id"])

    sent = [r for r in transport.seen if enrolling(r)]
    assert len(sent) == 2  # sent twice: the first landed, its answer was lost
    assert sorted(e.invoice_id for e in report.enrolled) == sorted(ids)
    assert report.confirmed_after_retry == MONTHS
    assert report.skipped == report.uncertain == report.unsent == []
    assert report.retries == {"503": 1}
    for statement_id in ids:
        assert len(executions(sandbox, company["live_key"], statement_id)) == 1


def test_a_single_enrollment_that_landed_before_a_503_counts_as_enrolled(
    make_client: Any, sandbox: RunningSandbox, company: dict[str, Any]
) -> None:
    ar, _ = make_client(AnswerAfter(503))
    statement_id = statements_of(ar)[0]
    result = ar.statements.enroll_one(statement_id, campaign_id=company["sa_campaign_id"])
    assert result.enrolled_count == 1
    assert result.results[0].invoice_id == statement_id
    assert len(executions(sandbox, company["live_key"], statement_id)) == 1


def test_an_active_execution_in_another_campaign_is_not_mistaken_for_ours(
    make_client: Any, sandbox: RunningSandbox, company: dict[str, Any]
) -> None:
    with sandbox.database.session() as session:
        other = create_campaign(
            session,
            company_id=company["company_id"],
            mode="live",
            name="Second SA",
            type="statement_acknowledgement",
        )
        session.commit()
    ar, _ = make_client(Refuse(503))
    ids = statements_of(ar)
    ARClient(base_url=sandbox.base_url, api_key=company["live_key"]).statements.enroll(
        ids[:1], campaign_id=other.id
    )
    report = ar.statements.enroll(ids, campaign_id=company["sa_campaign_id"])
    assert report.confirmed_after_retry == 0
    assert [s.id for s in report.skipped] == ids[:1]
    assert "active execution" in report.skipped[0].reason
    assert len(report.enrolled) == MONTHS - 1


def test_a_bulk_enrollment_whose_answer_was_lost_is_reported_uncertain(
    make_client: Any, sandbox: RunningSandbox, company: dict[str, Any]
) -> None:
    ar, transport = make_client(FailAfter(httpx.ReadTimeout))
    ids = statements_of(ar)
    report = ar.statements.enroll(ids, campaign_id=company["sa_campaign_id"])
    assert len([r for r in transport.seen if enrolling(r)]) == 1  # not resent
    assert sorted(u.id for u in report.uncertain) == sorted(ids)
    assert all("ReadTimeout" in u.reason for u in report.uncertain)
    assert report.enrolled == []
    # The server did act, which is why the client must not guess.
    assert all(ar.statements.get(i, include_entries=False).campaign_id for i in ids)


def test_an_account_assignment_that_landed_before_a_503_counts_as_assigned(
    make_client: Any, company: dict[str, Any]
) -> None:
    ar, _ = make_client(AnswerAfter(503))
    (account,) = (a.id for a in accounts_of(ar, "PT-1", "INV-1"))
    reminder = next(c for c in company["campaigns"] if c["type"] == "payment_reminder")
    report = ar.accounts.assign_campaign_bulk([account], campaign_id=reminder["id"])
    assert [e.invoice_id for e in report.enrolled] == [account]
    assert report.confirmed_after_retry == 1
