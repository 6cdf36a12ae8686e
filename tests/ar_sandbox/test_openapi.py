"""``/openapi.json`` describes every route and the envelopes."""

from __future__ import annotations

import httpx

from tests.sandbox_server import RunningSandbox

DOCUMENTED_ROUTES = {
    ("post", "/customers"),
    ("get", "/customers"),
    ("get", "/customers/{customer_id}"),
    ("put", "/customers/{customer_id}"),
    ("delete", "/customers/{customer_id}"),
    ("post", "/customers/bulk"),
    ("post", "/accounts/bulk"),
    ("post", "/invoices/batch"),
    ("get", "/accounts"),
    ("get", "/accounts/{account_id}"),
    ("post", "/accounts/{account_id}/campaign"),
    ("post", "/accounts/campaign/bulk"),
    ("post", "/accounts/{account_id}/payments"),
    ("get", "/accounts/{account_id}/payments"),
    ("post", "/accounts/{account_id}/disputes"),
    ("get", "/accounts/{account_id}/disputes"),
    ("post", "/ledgers/bulk"),
    ("post", "/ledgers/batch"),
    ("get", "/ledgers"),
    ("get", "/ledgers/{ledger_id}"),
    ("get", "/statements"),
    ("get", "/statements/{statement_id}"),
    ("post", "/statements/{statement_id}/campaign"),
    ("post", "/statements/campaign/bulk"),
    ("get", "/campaigns"),
    ("get", "/campaigns/{campaign_id}"),
    ("post", "/sync"),
}


def test_the_openapi_document_lists_every_documented_route(sandbox: RunningSandbox) -> None:
    document = httpx.get(f"{sandbox.base_url}/openapi.json").json()
    prefix = "/api/v1/external"
    present = {
        (method, path.removeprefix(prefix))
        for path, operations in document["paths"].items()
        if path.startswith(prefix)
        for method in operations
    }
    assert present >= DOCUMENTED_ROUTES


def test_every_operation_documents_its_success_and_error_envelopes(sandbox: RunningSandbox) -> None:
    document = httpx.get(f"{sandbox.base_url}/openapi.json").json()
    for path, operations in document["paths"].items():
        if not path.startswith("/api/v1/external"):
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "200" in responses, (method, path)
            assert {"401", "403", "404", "422"} <= set(responses), (method, path)
    schemas = document["components"]["schemas"]
    assert {"ErrorEnvelope", "LedgerEntryRecord", "StatementOut"} <= set(schemas)
