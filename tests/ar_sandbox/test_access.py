"""Keys, scopes, workspaces and isolation (``docs/contract.md#access``)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from ar_sandbox.access import SCOPES
from ar_sandbox.admin import create_api_key, create_company, create_organization
from tests.ar_sandbox.helpers import invoice, push_customers, the_004_flow
from tests.conftest import data, error
from tests.sandbox_server import RunningSandbox


def _key(sandbox: RunningSandbox, **kwargs: Any) -> str:
    key: str = sandbox.database.run(lambda s: create_api_key(s, **kwargs))
    return key


def _world(live: httpx.Client, company: dict[str, Any]) -> dict[str, str]:
    """One of every kind of row, to probe from other keys."""
    statement = the_004_flow(live)
    push_customers(live, "PT-002")
    data(live.post("/accounts/bulk", json={"accounts": [invoice("INV-1", "PT-002")]}))
    account = data(live.get("/accounts", params={"billing_type": "standard"}))["accounts"][0]
    payment = data(live.post(f"/accounts/{account['id']}/payments", json={"amount": 10}))["payment"]
    dispute = data(live.post(f"/accounts/{account['id']}/disputes", json={"reason": "wrong"}))[
        "dispute"
    ]
    entry = data(live.get("/ledgers"))["entries"][0]
    return {
        "statement": statement["id"],
        "customer": statement["customer_id"],
        "account": account["id"],
        "payment": payment["id"],
        "dispute": dispute["id"],
        "ledger": entry["id"],
        "campaign": company["sa_campaign_id"],
    }


def _probes(ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", f"/customers/{ids['customer']}", None),
        ("PUT", f"/customers/{ids['customer']}", {"first_name": "X"}),
        ("DELETE", f"/customers/{ids['customer']}", None),
        ("GET", f"/accounts/{ids['account']}", None),
        ("GET", f"/accounts/{ids['account']}/payments", None),
        ("POST", f"/accounts/{ids['account']}/payments", {"amount": 1}),
        ("GET", f"/payments/{ids['payment']}", None),
        ("GET", f"/accounts/{ids['account']}/disputes", None),
        ("POST", f"/accounts/{ids['account']}/disputes", {"reason": "x"}),
        ("GET", f"/disputes/{ids['dispute']}", None),
        ("GET", f"/ledgers/{ids['ledger']}", None),
        ("GET", f"/statements/{ids['statement']}", None),
        ("GET", f"/campaigns/{ids['campaign']}", None),
    ]


def test_a_request_without_a_key_is_refused_with_401(sandbox: RunningSandbox) -> None:
    response = httpx.get(f"{sandbox.api}/statements")
    assert "X-Api-Key" in error(response, 401)["message"]


@pytest.mark.parametrize("key", ["sk_live_unknown", "sk_test_nope", "pk_live_abc", "not-a-key"])
def test_an_unknown_or_malformed_key_is_refused_with_401(sandbox: RunningSandbox, key: str) -> None:
    error(httpx.get(f"{sandbox.api}/ledgers", headers={"X-Api-Key": key}), 401)


def test_a_live_key_used_with_a_test_prefix_is_unknown(
    sandbox: RunningSandbox, company: dict[str, Any]
) -> None:
    forged = "sk_test_" + company["live_key"].removeprefix("sk_live_")
    error(httpx.get(f"{sandbox.api}/ledgers", headers={"X-Api-Key": forged}), 401)


def test_another_companys_ids_answer_404_on_every_route(
    sandbox: RunningSandbox, live: httpx.Client, company: dict[str, Any]
) -> None:
    ids = _world(live, company)
    stranger = sandbox.bootstrap("Other practice")
    with sandbox.client(stranger["live_key"]) as other:
        for method, path, body in _probes(ids):
            error(other.request(method, path, json=body), 404)
        assert data(other.get("/statements"))["total"] == 0
        assert data(other.get("/ledgers"))["total"] == 0
        assert data(other.get("/customers"))["total"] == 0
    # nothing was changed by the refused writes
    unchanged = data(live.get(f"/customers/{ids['customer']}"))  # neither renamed nor deleted
    assert unchanged["first_name"] is None


def test_the_other_modes_ids_answer_404_on_every_route(
    live: httpx.Client, test_mode: httpx.Client, company: dict[str, Any]
) -> None:
    ids = _world(live, company)
    for method, path, body in _probes(ids):
        error(test_mode.request(method, path, json=body), 404)
    assert data(test_mode.get("/statements"))["total"] == 0


def test_test_mode_rows_are_invisible_to_the_live_key(
    live: httpx.Client, test_mode: httpx.Client
) -> None:
    statement = the_004_flow(test_mode)
    error(live.get(f"/statements/{statement['id']}"), 404)
    assert data(live.get("/customers"))["total"] == 0


def test_a_ledger_entry_naming_a_customer_of_the_other_mode_fails_per_record(
    live: httpx.Client, test_mode: httpx.Client
) -> None:
    push_customers(test_mode, "PT-T")
    customer_id = data(test_mode.get("/customers"))["customers"][0]["id"]
    body = {
        "ledger_entries": [
            {
                "external_id": "X-1",
                "customer_id": customer_id,
                "transaction_date": "2026-01-02",
                "transaction_type": "charge",
                "amount": 5,
            }
        ]
    }
    result = data(live.post("/ledgers/bulk", json=body))["ledger_entries"]
    assert (result["created"], result["failed"]) == (0, 1)
    assert result["errors"][0]["index"] == 0
    assert result["errors"][0]["external_id"] == "X-1"


ROUTES_BY_SCOPE = {
    "customers:read": ("GET", "/customers", None),
    "customers:write": (
        "POST",
        "/customers/bulk",
        {"customers": [{"external_id": "A", "email": "a@example.com"}]},
    ),
    "accounts:read": ("GET", "/accounts", None),
    "accounts:write": ("POST", "/accounts/bulk", {"accounts": [invoice("I-1", "A")]}),
    "ledgers:read": ("GET", "/ledgers", None),
    "ledgers:write": (
        "POST",
        "/ledgers/bulk",
        {
            "ledger_entries": [
                {
                    "external_id": "T",
                    "customer_external_id": "A",
                    "transaction_date": "2026-01-01",
                    "transaction_type": "charge",
                    "amount": 1,
                }
            ]
        },
    ),
    "statements:read": ("GET", "/statements", None),
    "statements:write": (
        "POST",
        "/statements/campaign/bulk",
        {"campaign_id": str(uuid.uuid4()), "statement_ids": [str(uuid.uuid4())]},
    ),
    "campaigns:read": ("GET", "/campaigns", None),
    "payments:read": ("GET", "/payments", None),
    "disputes:read": ("GET", "/disputes", None),
    "sync:write": (
        "POST",
        "/sync",
        {"customers": [{"external_id": "A", "email": "a@example.com"}]},
    ),
}


@pytest.mark.parametrize("scope", sorted(ROUTES_BY_SCOPE))
def test_a_key_without_the_scope_gets_403_naming_it(
    sandbox: RunningSandbox, company: dict[str, Any], scope: str
) -> None:
    others = [s for s in SCOPES if s != scope]
    key = _key(sandbox, mode="live", company_id=company["company_id"], scopes=others)
    method, path, body = ROUTES_BY_SCOPE[scope]
    with sandbox.client(key) as client:
        body_403 = error(client.request(method, path, json=body), 403)
    assert scope in body_403["message"]


@pytest.mark.parametrize("scope", sorted(ROUTES_BY_SCOPE))
def test_a_key_with_only_that_scope_passes_the_scope_check(
    sandbox: RunningSandbox, company: dict[str, Any], scope: str
) -> None:
    key = _key(sandbox, mode="live", company_id=company["company_id"], scopes=[scope])
    method, path, body = ROUTES_BY_SCOPE[scope]
    with sandbox.client(key) as client:
        response = client.request(method, path, json=body)
    assert response.status_code != 403, response.text


def test_an_empty_scope_list_means_full_access(
    sandbox: RunningSandbox, company: dict[str, Any]
) -> None:
    key = _key(sandbox, mode="live", company_id=company["company_id"], scopes=[])
    with sandbox.client(key) as client:
        for method, path, body in ROUTES_BY_SCOPE.values():
            assert client.request(method, path, json=body).status_code != 403


def test_an_organization_key_reaches_only_the_workspaces_its_filter_allows(
    sandbox: RunningSandbox,
) -> None:
    def setup(session: Any) -> tuple[str, str, str, str]:
        organization = create_organization(session, "Dental group")
        first = create_company(session, "North", organization)
        second = create_company(session, "South", organization)
        key = create_api_key(
            session, mode="live", organization_id=organization, workspace_ids=[first]
        )
        return organization, first, second, key

    _, first, second, key = sandbox.database.run(setup)
    with sandbox.client(key) as client:
        assert data(client.get("/customers"))["total"] == 0  # the one allowed workspace is implied
        push_customers(client, "PT-N")
    with sandbox.client(key, **{"X-Workspace-Id": first}) as client:
        assert data(client.get("/customers"))["total"] == 1
    with sandbox.client(key, **{"X-Workspace-Id": second}) as client:
        error(client.get("/customers"), 404)


def test_an_organization_key_reaching_several_workspaces_must_name_one(
    sandbox: RunningSandbox,
) -> None:
    def setup(session: Any) -> tuple[str, str, str]:
        organization = create_organization(session, "Group")
        first = create_company(session, "A", organization)
        second = create_company(session, "B", organization)
        return first, second, create_api_key(session, mode="live", organization_id=organization)

    first, second, key = sandbox.database.run(setup)
    with sandbox.client(key) as client:
        assert "X-Workspace-Id" in error(client.get("/customers"), 400)["message"]
    with sandbox.client(key, **{"X-Workspace-Id": first}) as client:
        push_customers(client, "ONLY-IN-A")
    with sandbox.client(key, **{"X-Workspace-Id": second}) as client:
        assert data(client.get("/customers"))["total"] == 0
    with sandbox.client(key, **{"X-Workspace-Id": first}) as client:
        assert data(client.get("/customers"))["total"] == 1


def test_a_workspace_key_cannot_switch_workspaces(
    sandbox: RunningSandbox, company: dict[str, Any]
) -> None:
    other = sandbox.bootstrap("Other")
    with sandbox.client(company["live_key"], **{"X-Workspace-Id": other["company_id"]}) as client:
        error(client.get("/customers"), 404)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/statements/campaign/bulk", "statements"),
        ("/accounts/campaign/bulk", "accounts"),
    ],
)
def test_test_keys_cannot_enroll_in_bulk(
    test_mode: httpx.Client, company: dict[str, Any], path: str, body: str
) -> None:
    statement = the_004_flow(test_mode)
    test_sa = next(
        c
        for c in company["campaigns"]
        if c["mode"] == "test" and c["type"] == "statement_acknowledgement"
    )
    payload: dict[str, Any] = {"campaign_id": test_sa["id"]}
    payload["statement_ids" if body == "statements" else "account_ids"] = [statement["id"]]
    assert "sk_test_" in error(test_mode.post(path, json=payload), 400)["message"]
    assert data(test_mode.get(f"/statements/{statement['id']}"))["status"] == "not_assigned"


def test_test_keys_cannot_enroll_one_statement_or_account(
    test_mode: httpx.Client, company: dict[str, Any]
) -> None:
    statement = the_004_flow(test_mode)
    test_sa = next(
        c
        for c in company["campaigns"]
        if c["mode"] == "test" and c["type"] == "statement_acknowledgement"
    )
    error(
        test_mode.post(
            f"/statements/{statement['id']}/campaign", params={"campaign_id": test_sa["id"]}
        ),
        400,
    )
    error(
        test_mode.post(
            f"/accounts/{statement['id']}/campaign", json={"campaign_id": test_sa["id"]}
        ),
        400,
    )
    assert (
        data(test_mode.get(f"/statements/{statement['id']}"))["enrollment_status"] == "not_enrolled"
    )


def test_keys_are_stored_hashed(sandbox: RunningSandbox, company: dict[str, Any]) -> None:
    from sqlalchemy import select

    from ar_sandbox.models import ApiKey

    with sandbox.database.session() as session:
        stored = session.scalars(
            select(ApiKey.key_hash).where(ApiKey.company_id == company["company_id"])
        ).all()
    assert stored
    assert company["live_key"] not in stored
    assert all(len(h) == 64 for h in stored)
