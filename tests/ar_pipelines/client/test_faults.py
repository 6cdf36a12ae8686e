"""Pushing through faults ends exactly where a fault-free push ends: nothing lost,
nothing duplicated, and every retry counted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from ar_pipelines.client import ARClient, PushIncompleteError, RetryPolicy
from ar_sandbox.models import LedgerEntry
from ar_sandbox.settings import FaultSettings, Settings
from tests.ar_pipelines.client import practice
from tests.ar_pipelines.client.faults import FlakyTransport
from tests.sandbox_server import RunningSandbox, running_sandbox

CUSTOMERS = 400
ENTRIES_PER_CUSTOMER = 50  # 20,000 entries
# Quick backoff keeps the test short; the default policy is tested on its own.
QUICK_RETRIES = RetryPolicy(max_retries=10, base=0.02, cap=0.2)
FAULTS = FaultSettings(
    error_500=0.05, error_503=0.05, error_429=0.05, slow=0.05, slow_seconds=2.5, seed=11
)


@pytest.fixture(scope="module")
def ledger() -> list[dict[str, Any]]:
    return practice.entries(CUSTOMERS, ENTRIES_PER_CUSTOMER)


@pytest.fixture(scope="module")
def faulty_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    path: Path = tmp_path_factory.mktemp("faulty") / "ar.db"
    with running_sandbox(Settings(database_url=f"sqlite:///{path}", faults=FAULTS)) as running:
        yield running


def stored_entries(sandbox: RunningSandbox, company_id: str) -> int:
    with sandbox.database.session() as session:
        query = select(func.count()).where(
            LedgerEntry.company_id == company_id,
            LedgerEntry.transaction_type != "payment_allocation",
        )
        return int(session.scalar(query) or 0)


def push_everything(ar: ARClient, ledger: list[dict[str, Any]]) -> Any:
    customers = ar.customers.bulk_upsert(practice.customers(CUSTOMERS))
    assert customers.complete
    assert customers.created + customers.updated == CUSTOMERS
    return ar.ledgers.bulk_upsert(ledger)


def test_a_push_through_faults_leaves_the_same_statements_as_a_fault_free_push(
    sandbox: RunningSandbox, faulty_sandbox: RunningSandbox, ledger: list[dict[str, Any]]
) -> None:
    clean_company = sandbox.bootstrap()
    with ARClient(base_url=sandbox.base_url, api_key=clean_company["live_key"]) as ar:
        clean = push_everything(ar, ledger)
        clean_statements = practice.statements_in_ar(ar)
    assert clean.retry_count == 0

    company = faulty_sandbox.bootstrap()
    flaky = FlakyTransport(reset_before=0.04, reset_after=0.04, timeout_after=0.04, seed=3)
    http = httpx.Client(transport=flaky, timeout=httpx.Timeout(1.5, connect=1.0))
    with ARClient(
        base_url=faulty_sandbox.base_url,
        api_key=company["live_key"],
        http_client=http,
        retry_policy=QUICK_RETRIES,
        seed=5,
    ) as ar:
        faulty = push_everything(ar, ledger)
        faulty_statements = practice.statements_in_ar(ar)
        client_retries = ar.retries
    http.close()

    # Nothing lost, nothing duplicated: every entry stored once, the same statements.
    assert faulty.complete
    assert faulty.accounted == faulty.total == len(ledger)
    assert not faulty.rejected
    assert not faulty.failed
    assert stored_entries(faulty_sandbox, company["company_id"]) == len(ledger)
    assert faulty_statements == clean_statements == practice.expected_statements(ledger)
    # Retries happened for every kind of fault, and were counted and reported.
    assert {"500", "503", "429", "read_timeout", "connection_reset", "connect_error"} <= set(
        client_retries
    )
    assert faulty.retry_count > 0
    assert set(faulty.retries) <= set(client_retries)
    assert sum(flaky.injected.values()) > 0


def test_a_push_that_cannot_get_through_stops_and_accounts_for_every_record(
    tmp_path: Path,
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/down.db", faults=FaultSettings(error_503=1.0)
    )
    with running_sandbox(settings) as down:
        company = down.bootstrap()
        policy = RetryPolicy(max_retries=2, base=0.01, cap=0.02)
        rows = practice.entries(30, 100)
        with (
            ARClient(
                base_url=down.base_url, api_key=company["live_key"], retry_policy=policy
            ) as ar,
            pytest.raises(PushIncompleteError) as raised,
        ):
            ar.ledgers.bulk_upsert(rows)
    report = raised.value.report
    assert report.total == len(rows) == len(report.unsent) == report.accounted
    assert report.created == report.updated == 0
    assert "503" in str(raised.value)
    assert report.retries == {"503": report.requests * 2}
    # It stopped early instead of hammering a server that is down.
    assert report.requests <= 4


def test_a_wrong_key_stops_the_push_at_once(sandbox: RunningSandbox) -> None:
    rows = practice.entries(10, 100)
    with (
        ARClient(base_url=sandbox.base_url, api_key="sk_live_wrong", concurrency=2) as ar,
        pytest.raises(PushIncompleteError, match="401") as raised,
    ):
        ar.ledgers.bulk_upsert(rows)
    report = raised.value.report
    assert len(report.unsent) == report.total == len(rows)
    assert report.requests <= 2
    assert report.retry_count == 0
