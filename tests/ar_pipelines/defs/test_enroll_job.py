"""The `enroll_statements` job after a clean nightly run: a live key puts every waiting
statement with a balance into the practice's SA campaign, once; a test key is refused
before anything is sent. Both tests follow one nightly run on a pipeline the module
shares: the job with the test key first, since it must change nothing, then twice with
the live key."""

from __future__ import annotations

from dataclasses import dataclass
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


@pytest.fixture(scope="module")
def nightly(shared_pipeline: Pipeline) -> dg.ExecuteInProcessResult:
    """A clean nightly run of P001, which the enrollments below follow."""
    return shared_pipeline.run("P001")


@dataclass(frozen=True)
class Enrollment:
    before: dict[str, Statement]
    result: dg.ExecuteInProcessResult
    after: dict[str, Statement]


def enrolled(pipeline: Pipeline) -> Enrollment:
    """The job run once for P001, with the statements AR held before and after it."""
    before = statements(pipeline)
    result = enroll(pipeline)
    return Enrollment(before, result, statements(pipeline))


@pytest.fixture(scope="module")
def with_a_test_key(shared_pipeline: Pipeline, nightly: dg.ExecuteInProcessResult) -> Enrollment:
    """The job run with the practice's test key: it must change nothing, so the
    enrollments with its live key come after it."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("AR_API_KEY_P001", shared_pipeline.companies["P001"]["test_key"])
        return enrolled(shared_pipeline)


@pytest.fixture(scope="module")
def with_the_live_key(
    shared_pipeline: Pipeline, with_a_test_key: Enrollment
) -> tuple[Enrollment, Enrollment]:
    """The job run twice with the practice's live key: the first run, then the second."""
    return enrolled(shared_pipeline), enrolled(shared_pipeline)


def test_enrolling_puts_every_waiting_statement_with_a_balance_into_the_sa_campaign_once(
    shared_pipeline: Pipeline,
    nightly: dg.ExecuteInProcessResult,
    with_the_live_key: tuple[Enrollment, Enrollment],
) -> None:
    assert nightly.success
    first_run, second_run = with_the_live_key
    before = first_run.before
    waiting = {
        sid
        for sid, s in before.items()
        if s.status == "not_assigned" and s.outstanding > Decimal("0")
    }
    paid_off = {sid for sid, s in before.items() if s.outstanding == Decimal("0")}
    assert waiting
    assert paid_off  # the source pays some statements in full: those must stay put

    first = first_run.result
    assert first.success
    assert first.output_for_node(ENROLL_STEP) == len(waiting)
    after = first_run.after
    campaign = shared_pipeline.companies["P001"]["sa_campaign_id"]
    for sid in waiting:
        assert after[sid].status == "in_progress", sid
        assert after[sid].campaign_id == campaign
        assert after[sid].enrollment_status != "not_enrolled"
    assert {sid for sid in paid_off if after[sid].status != "not_assigned"} == set()

    second = second_run.result
    assert second.success
    assert second.output_for_node(ENROLL_STEP) == 0
    assert second_run.after == after


def test_a_test_key_fails_the_job_saying_a_live_key_is_needed_and_enrolls_nothing(
    nightly: dg.ExecuteInProcessResult, with_a_test_key: Enrollment
) -> None:
    assert nightly.success
    before = with_a_test_key.before
    assert any(s.status == "not_assigned" and s.outstanding > 0 for s in before.values())

    result = with_a_test_key.result

    assert not result.success
    assert any("live key" in message for message in failure_messages(result))
    assert with_a_test_key.after == before
