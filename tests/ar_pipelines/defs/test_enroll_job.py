"""The `enroll_statements` job after a clean nightly run: a live key puts every waiting
statement with a balance into the practice's SA campaign, once; a test key is refused
before anything is sent."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg
import pytest

from ar_pipelines.client import ARClient
from ar_pipelines.client.models import Statement
from tests.ar_pipelines.defs.conftest import Pipeline

ENROLL_STEP = "enroll_outstanding_statements"


def statements(pipeline: Pipeline, practice: str = "P001") -> dict[str, Statement]:
    """Every statement AR holds for the practice, read back with its live key."""
    key = pipeline.companies[practice]["live_key"]
    with ARClient(base_url=pipeline.sandbox.base_url, api_key=key) as client:
        return {statement.id: statement for statement in client.statements.list(per_page=100)}


def enroll(pipeline: Pipeline, practice: str = "P001") -> dg.ExecuteInProcessResult:
    job = pipeline.definitions().resolve_job_def("enroll_statements")
    return job.execute_in_process(
        partition_key=practice, instance=pipeline.instance, raise_on_error=False
    )


def failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    messages = []
    for event in result.all_events:
        if event.is_step_failure:
            failure = event.step_failure_data
            user = failure.user_failure_data
            messages.append(user.description if user and user.description else "")
            messages.append(failure.error.message if failure.error else "")
    return messages


def test_enrolling_puts_every_waiting_statement_with_a_balance_into_the_sa_campaign_once(
    pipeline: Pipeline,
) -> None:
    assert pipeline.run("P001").success
    before = statements(pipeline)
    waiting = {
        sid
        for sid, s in before.items()
        if s.status == "not_assigned" and s.outstanding > Decimal("0")
    }
    paid_off = {sid for sid, s in before.items() if s.outstanding == Decimal("0")}
    assert waiting
    assert paid_off  # the source pays some statements in full: those must stay put

    first = enroll(pipeline)
    assert first.success
    assert first.output_for_node(ENROLL_STEP) == len(waiting)
    after = statements(pipeline)
    campaign = pipeline.companies["P001"]["sa_campaign_id"]
    for sid in waiting:
        assert after[sid].status == "in_progress", sid
        assert after[sid].campaign_id == campaign
        assert after[sid].enrollment_status != "not_enrolled"
    assert {sid for sid in paid_off if after[sid].status != "not_assigned"} == set()

    second = enroll(pipeline)
    assert second.success
    assert second.output_for_node(ENROLL_STEP) == 0
    assert statements(pipeline) == after


def test_a_test_key_fails_the_job_saying_a_live_key_is_needed_and_enrolls_nothing(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert pipeline.run("P001").success
    before = statements(pipeline)
    assert any(s.status == "not_assigned" and s.outstanding > 0 for s in before.values())

    monkeypatch.setenv("AR_API_KEY_P001", pipeline.companies["P001"]["test_key"])
    result = enroll(pipeline)

    assert not result.success
    assert any("live key" in message for message in failure_messages(result))
    assert statements(pipeline) == before
