"""``ARClient`` itself: ``/sync``, keys and modes, errors, configuration from the environment."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from ar_pipelines.client import (
    ARClient,
    AuthenticationError,
    LiveKeyRequiredError,
    NotFoundError,
)
from tests.ar_pipelines.client.resources.helpers import (
    Recorder,
    customer,
    entry,
    invoice,
)
from tests.sandbox_server import RunningSandbox


def test_syncing_customers_invoices_and_entries_reports_each_count(ar: ARClient) -> None:
    result = ar.sync(
        customers=[customer("SY-1"), {"external_id": "SY-2", "phone": "+15550001234"}],
        invoices=[invoice("SY-INV", "SY-1")],
        ledger_entries=[
            entry("SY-TX-1", "SY-2", "2026-05-03", "charge", "80.00"),
            entry("SY-TX-2", "SY-2", "2026-05-10", "insurance_payment", "-20.00"),
        ],
    )
    assert (result.customers.created, result.invoices.created) == (2, 1)
    assert (result.ledger_entries.created, result.ledger_entries.failed) == (2, 0)
    assert (result.statements.created, result.statements.allocations_created) == (1, 1)
    (statement,) = ar.statements.list(customer_external_id="SY-2")
    assert statement.outstanding == Decimal("60.00")


def test_syncing_more_than_500_ledger_entries_is_refused_before_sending(
    recorded_ar: ARClient, recorder: Recorder
) -> None:
    entries = [entry(f"BIG-{i}", "BIG", "2026-05-03", "charge", "1.00") for i in range(501)]
    with pytest.raises(ValueError, match="500"):
        recorded_ar.sync(customers=[customer("BIG")], ledger_entries=entries)
    assert recorder.requests == []
    assert list(recorded_ar.customers.list()) == []


LIST_CALLS: dict[str, Callable[[ARClient], object]] = {
    "accounts": lambda ar: ar.accounts.list(customer_idd="x"),  # type: ignore[call-arg]
    "campaigns": lambda ar: ar.campaigns.list(customer_idd="x"),  # type: ignore[call-arg]
    "customers": lambda ar: ar.customers.list(customer_idd="x"),  # type: ignore[call-arg]
    "ledgers": lambda ar: ar.ledgers.list(customer_idd="x"),  # type: ignore[call-arg]
    "statements": lambda ar: ar.statements.list(customer_idd="x"),  # type: ignore[call-arg]
}


@pytest.mark.parametrize("resource", sorted(LIST_CALLS))
def test_a_list_filter_the_endpoint_does_not_take_is_refused_at_the_call_before_sending(
    recorded_ar: ARClient, recorder: Recorder, resource: str
) -> None:
    with pytest.raises(TypeError, match="customer_idd"):
        LIST_CALLS[resource](recorded_ar)
    assert recorder.requests == []


REFUSED_WITH_A_TEST_KEY: dict[str, Callable[[ARClient, str], object]] = {
    "statements.enroll": lambda ar, c: ar.statements.enroll([str(uuid.uuid4())], campaign_id=c),
    "statements.enroll_one": lambda ar, c: ar.statements.enroll_one(
        str(uuid.uuid4()), campaign_id=c
    ),
    "accounts.assign_campaign": lambda ar, c: ar.accounts.assign_campaign(
        str(uuid.uuid4()), campaign_id=c
    ),
    "accounts.assign_campaign_bulk": lambda ar, c: ar.accounts.assign_campaign_bulk(
        [str(uuid.uuid4())], campaign_id=c
    ),
}


@pytest.mark.parametrize("call", list(REFUSED_WITH_A_TEST_KEY), ids=list(REFUSED_WITH_A_TEST_KEY))
def test_a_test_key_cannot_enroll_and_nothing_is_sent(
    sandbox: RunningSandbox, company: dict[str, Any], recorder: Recorder, call: str
) -> None:
    with ARClient(
        base_url=sandbox.base_url, api_key=company["test_key"], http_client=recorder.http
    ) as ar:
        assert ar.mode == "test"
        with pytest.raises(LiveKeyRequiredError, match="live key"):
            REFUSED_WITH_A_TEST_KEY[call](ar, company["sa_campaign_id"])
        assert recorder.requests == []
        # The same client does send other calls, so the recorder would have seen one.
        assert len(list(ar.campaigns.list())) == 3
        assert recorder.paths() == ["/api/v1/external/campaigns"]


def test_a_live_key_makes_a_live_client(ar: ARClient) -> None:
    assert ar.mode == "live"
    assert ar.base_url.endswith("/api/v1/external")


def test_a_wrong_key_is_an_authentication_error_with_status_401(sandbox: RunningSandbox) -> None:
    with (
        ARClient(base_url=sandbox.base_url, api_key="sk_live_not_a_real_key") as ar,
        pytest.raises(AuthenticationError) as caught,
    ):
        list(ar.customers.list())
    assert caught.value.status_code == 401
    assert "not_a_real_key" not in str(caught.value)


def test_a_missing_resource_is_a_not_found_error_naming_the_request(
    recorded_ar: ARClient, recorder: Recorder
) -> None:
    with pytest.raises(NotFoundError) as caught:
        recorded_ar.statements.get(str(uuid.uuid4()))
    error = caught.value
    assert error.status_code == 404
    (request,) = recorder.requests
    (response,) = recorder.responses
    assert error.request_id
    assert error.request_id == response.headers["x-request-id"] == request.headers["x-request-id"]
    assert error.request_id in str(error)


def test_the_client_reads_its_url_and_key_from_the_environment(
    sandbox: RunningSandbox, company: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AR_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("AR_API_KEY", company["live_key"])
    with ARClient() as ar:
        assert ar.mode == "live"
        assert ar.base_url == sandbox.api
        assert {c.id for c in ar.campaigns.list()} == {
            c["id"] for c in company["campaigns"] if c["mode"] == "live"
        }


def test_without_a_url_or_key_the_client_cannot_be_made(
    sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AR_BASE_URL", raising=False)
    monkeypatch.delenv("AR_API_KEY", raising=False)
    with pytest.raises(ValueError, match="AR_BASE_URL"):
        ARClient(api_key="sk_live_x")
    with pytest.raises(ValueError, match="AR_API_KEY"):
        ARClient(base_url=sandbox.base_url)
