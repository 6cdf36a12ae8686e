"""Schemathesis against the served ``/openapi.json``, over real HTTP, on SQLite and Postgres.

The document is loaded from the running server and every operation in it is
tested, each request carrying the live key of a company seeded with one row of
each kind. Ids, customer references and campaign ids are drawn from those rows
half the time, so requests get past "not found" into the code that records
payments, opens disputes, enrolls statements, advances executions and aggregates
ledgers. Schemathesis runs its examples, coverage (boundary values), fuzzing and
stateful phases; every answer must have a documented status, content type and
body, and none may be a 5xx.

``AR_FUZZ_EXAMPLES`` (default 10 per operation and phase) and ``AR_FUZZ_SEED`` make a
longer or different run: ``AR_FUZZ_EXAMPLES=200 pytest tests/ar_sandbox/test_openapi_fuzz.py``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import Status, events, from_schema
from schemathesis.engine.recorder import CheckFailureInfo, ScenarioRecorder

from tests.conftest import data
from tests.sandbox_server import RunningSandbox

EXAMPLES = int(os.environ.get("AR_FUZZ_EXAMPLES", "10"))
SEED = int(os.environ.get("AR_FUZZ_SEED", "20260521"))
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
REAL_ID_PROBABILITY = 0.5


def _seed_company(sandbox: RunningSandbox) -> tuple[str, dict[str, list[str]]]:
    """A company with customers, accounts, statements, ledger rows, a payment, a dispute
    and a statement enrolled in a campaign; returns its live key and the ids of its rows."""
    company = sandbox.bootstrap("Fuzzed practice")
    with sandbox.client(company["live_key"]) as client:
        customers = [
            {"external_id": "PT-1", "email": "pt1@example.com"},
            {"external_id": "PT-2", "phone": "+15550001234"},
        ]
        data(client.post("/customers/bulk", json={"customers": customers}))
        invoices = [
            {
                "external_id": f"INV-{n}",
                "customer_external_id": f"PT-{n}",
                "amount": amount,
                "issue_date": "2026-01-01",
                "due_date": "2026-03-01",
            }
            for n, amount in ((1, 500), (2, 80.5))
        ]
        data(client.post("/accounts/bulk", json={"invoices": invoices}))
        entries = [
            ("TX-1", "PT-1", "2026-01-05", "charge", 240),
            ("TX-2", "PT-1", "2026-02-05", "charge", 100),
            ("TX-3", "PT-1", "2026-02-15", "patient_payment", -50),
            ("TX-4", "PT-2", "2026-02-15", "charge", 75),
        ]
        keys = ("external_id", "customer_external_id", "transaction_date", "transaction_type")
        body = [{**dict(zip(keys, e[:4], strict=True)), "amount": e[4]} for e in entries]
        data(client.post("/ledgers/bulk", json={"ledger_entries": body}))
        accounts = data(client.get("/accounts"))["accounts"]
        standard = [a["id"] for a in accounts if a["billing_type"] == "standard"]
        statements = [a["id"] for a in accounts if a["billing_type"] == "statement"]
        paid = data(client.post(f"/accounts/{standard[0]}/payments", json={"amount": 10}))
        disputed = data(client.post(f"/accounts/{standard[1]}/disputes", json={"reason": "x"}))
        enrolled = data(
            client.post(
                f"/statements/{statements[-1]}/campaign",
                params={"campaign_id": company["sa_campaign_id"]},
            )
        )
        ids = {
            "customers": [c["id"] for c in data(client.get("/customers"))["customers"]],
            "customer_external_ids": ["PT-1", "PT-2"],
            "accounts": standard + statements,
            "statements": statements,
            "ledger_entries": [e["id"] for e in data(client.get("/ledgers"))["entries"]],
            "payments": [paid["payment"]["id"]],
            "disputes": [disputed["dispute"]["id"]],
            "campaigns": [c["id"] for c in company["campaigns"] if c["mode"] == "live"],
            "executions": [enrolled["results"][0]["execution_id"]],
        }
    return company["live_key"], ids


def _config(sandbox: RunningSandbox, key: str, ids: dict[str, list[str]]) -> schemathesis.Config:
    def drawn_from(name: str) -> dict[str, Any]:
        return {"dictionary": name, "probability": REAL_ID_PROBABILITY}

    parameters = {
        "path.customer_id": drawn_from("customers"),
        "query.customer_id": drawn_from("customers"),
        "body.customer_id": drawn_from("customers"),
        "body.invoices[*].customer_id": drawn_from("customers"),
        "body.ledger_entries[*].customer_id": drawn_from("customers"),
        "query.customer_external_id": drawn_from("customer_external_ids"),
        "body.invoices[*].customer_external_id": drawn_from("customer_external_ids"),
        "body.ledger_entries[*].customer_external_id": drawn_from("customer_external_ids"),
        "path.account_id": drawn_from("accounts"),
        "query.account_id": drawn_from("accounts"),
        "body.account_ids[*]": drawn_from("accounts"),
        "path.statement_id": drawn_from("statements"),
        "body.statement_ids[*]": drawn_from("statements"),
        "path.ledger_id": drawn_from("ledger_entries"),
        "path.payment_id": drawn_from("payments"),
        "path.dispute_id": drawn_from("disputes"),
        "path.campaign_id": drawn_from("campaigns"),
        "query.campaign_id": drawn_from("campaigns"),
        "body.campaign_id": drawn_from("campaigns"),
        "path.execution_id": drawn_from("executions"),
        "query.invoice_id": drawn_from("accounts"),
    }
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "cache": {"enabled": False},  # what earlier runs learnt would change this one
            # Generation speed depends on the machine's load, not on the server.
            "suppress-health-check": ["too_slow"],
            "base-url": sandbox.base_url,
            "headers": {"X-Api-Key": key},
            "request-timeout": 30,
            "generation": {"max-examples": EXAMPLES, "database": "none"},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "dictionaries": {name: {"values": values} for name, values in ids.items()},
            "parameters": parameters,
            "phases": {
                # One unexpected method per path is enough to see the 405 envelope.
                "coverage": {"unexpected-methods": ["patch"]},
            },
            "operations": [
                {
                    # Aliases share their handler and body with /accounts/bulk and
                    # /ledgers/bulk, and /sync's body is those bulk bodies together:
                    # their boundary values are covered there, so these are only fuzzed.
                    "include-path-regex": "/(invoices/batch|ledgers/batch|sync)$",
                    "phases": {"coverage": {"enabled": False}},
                }
            ],
        }
    )


def _report(recorder: ScenarioRecorder, case_id: str, check: str, info: CheckFailureInfo) -> str:
    interaction = recorder.interactions.get(case_id)
    answer = ""
    if interaction is not None and interaction.response is not None:
        response = interaction.response
        body = response.content[:500].decode("utf-8", "replace")
        answer = f"\nAnswered {response.status_code}: {body}"
    failure = info.failure
    return (
        f"{recorder.label}: {check}: {failure.title}\n{failure.message}{answer}\n{info.code_sample}"
    )


def _fuzz(sandbox: RunningSandbox) -> tuple[set[str], set[str], list[str]]:
    """(operations in the document, operations that were sent requests, problems found)."""
    key, ids = _seed_company(sandbox)
    schema = schemathesis.openapi.from_url(
        f"{sandbox.base_url}/openapi.json", config=_config(sandbox, key, ids)
    )
    documented = {
        f"{method.upper()} {path}"
        for path, operations in schema.raw_schema["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }
    sent: set[str] = set()
    problems: dict[str, None] = {}  # ordered and without the replays of the same failure
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            if recorder.interactions:
                sent.add(recorder.label)
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.status is Status.FAILURE and check.failure_info is not None:
                        report = _report(recorder, case_id, check.name, check.failure_info)
                        problems[report] = None
        elif isinstance(event, events.NonFatalError):
            problems[f"{event.label}: {event.info.title}\n{event.info.message}"] = None
        elif isinstance(event, events.FatalError):
            raise event.exception
        elif isinstance(event, events.EngineFinished):
            problems.update(
                {f"{f.operation}: {f.title}\n{f.message}": None for f in event.failures}
            )
    return documented, sent, list(problems)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_no_generated_request_makes_the_server_fail_or_answer_off_its_schema(
    request: pytest.FixtureRequest, backend: str
) -> None:
    sandbox: RunningSandbox = request.getfixturevalue(
        "sandbox" if backend == "sqlite" else "pg_sandbox"
    )
    documented, sent, problems = _fuzz(sandbox)
    assert not problems, f"{len(problems)} problem(s):\n\n" + "\n\n".join(problems)
    assert documented, "the document lists no operation"
    assert sent >= documented, f"never sent a request: {sorted(documented - sent)}"
