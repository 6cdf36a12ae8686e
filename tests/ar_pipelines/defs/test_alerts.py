"""The alerting sensors, evaluated as the daemon does, over the runs of the real graph, with
every channel pointed at a real local receiver: Slack's webhook and the generic one on an
HTTP server, email on an SMTP server. The generic webhook answers 500 throughout.

One story of runs and ticks, on a pipeline the module shares: P001 reconciles clean and a
tick follows; a statement is changed in AR and P001 runs again (its reconciliation is not
clean); P002 reconciles clean; a tick; one more tick; then P002 runs with its AR key's
variable unset, and the run-failure sensor sees both failed runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.definitions.sensor_definition import SensorExecutionData

from ar_pipelines.defs.notifications import ALERTS_FILE, Notifications
from tests.ar_pipelines.defs.conftest import Pipeline, change_a_statement_in_ar, materialized
from tests.ar_pipelines.defs.sensors import failure_tick, tick
from tests.ar_pipelines.notify.receivers import (
    SMTP_PASSWORD,
    SMTP_USER,
    TOKEN,
    HttpReceiver,
    SmtpServer,
    http_receiver,
    smtp_receiver,
)

SLACK_PATH = f"/services/T0001/B0001/{TOKEN}slack"
WEBHOOK_PATH = f"/hooks/alerts/{TOKEN}generic"
UI = "http://dagster.example:3000"
SENDER = "ar-pipelines@example.com"
RECIPIENT = "finance@example.com"


def _check_status(pipeline: Pipeline) -> dict[str, str]:
    """Per practice, the status of its latest ``reconciliation_clean``, as the UI reads it."""
    records = pipeline.instance.event_log_storage.get_asset_check_partition_info(
        [dg.AssetCheckKey(dg.AssetKey("reconciliation"), "reconciliation_clean")]
    )
    return {str(info.partition_key): info.latest_execution_status.value for info in records}


def alerts(pipeline: Pipeline) -> list[dict[str, Any]]:
    path: Path = pipeline.reports / ALERTS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@dataclass(frozen=True)
class Story:
    """What the tests look at, in the order it happened; ``sent_*`` is how many Slack
    messages had arrived then."""

    clean: dg.ExecuteInProcessResult
    quiet: SensorExecutionData
    sent_after_quiet: int
    failed: dg.ExecuteInProcessResult
    other_practice: dg.ExecuteInProcessResult
    alerted: SensorExecutionData
    alerts_after_alerted: list[dict[str, Any]]
    sent_after_alerted: int
    after: SensorExecutionData
    sent_after_after: int
    unclean_run_tick: dg.SkipReason | None
    broken: dg.ExecuteInProcessResult
    broken_run_tick: dg.SkipReason | None
    http: HttpReceiver
    smtp: SmtpServer
    check_status: dict[str, str]
    alerts_at_end: list[dict[str, Any]]
    keys: list[str]


@pytest.fixture(scope="module")
def story(shared_pipeline: Pipeline) -> Iterator[Story]:
    pipeline = shared_pipeline
    with http_receiver() as http, smtp_receiver() as smtp, pytest.MonkeyPatch.context() as env:
        http.fail(WEBHOOK_PATH, *[500] * 10)
        pipeline.resources["notifications"] = Notifications(
            slack_webhook_url=http.url(SLACK_PATH),
            webhook_url=http.url(WEBHOOK_PATH),
            smtp_url=smtp.url(SMTP_PASSWORD),
            email_from=SENDER,
            email_to=RECIPIENT,
            dagster_ui_url=UI,
            retry_delays=[0.0, 0.0],
        )

        def slack() -> int:
            return len(http.on(SLACK_PATH))

        clean = pipeline.run("P001")
        quiet = tick(pipeline, "reconciliation_failures")
        sent_after_quiet = slack()
        change_a_statement_in_ar(pipeline, "P001")
        # No push touched the statement's customer: a night asking for it reads every one.
        failed = pipeline.run(
            "P001",
            raise_on_error=False,
            run_config={"ops": {"ar__statements": {"config": {"full_reconciliation": True}}}},
        )
        other_practice = pipeline.run("P002")
        check_status = _check_status(pipeline)
        alerted = tick(pipeline, "reconciliation_failures", quiet.cursor)
        alerts_after_alerted = alerts(pipeline)
        sent_after_alerted = slack()
        after = tick(pipeline, "reconciliation_failures", alerted.cursor)
        sent_after_after = slack()
        unclean_run_tick = failure_tick(pipeline, failed.run_id)

        env.delenv("AR_API_KEY_P002")
        broken = pipeline.run("P002", raise_on_error=False)
        broken_run_tick = failure_tick(pipeline, broken.run_id)

        pipeline.resources.pop("notifications")
        yield Story(
            clean=clean,
            quiet=quiet,
            sent_after_quiet=sent_after_quiet,
            failed=failed,
            other_practice=other_practice,
            alerted=alerted,
            alerts_after_alerted=alerts_after_alerted,
            sent_after_alerted=sent_after_alerted,
            after=after,
            sent_after_after=sent_after_after,
            unclean_run_tick=unclean_run_tick,
            broken=broken,
            broken_run_tick=broken_run_tick,
            http=http,
            smtp=smtp,
            check_status=check_status,
            alerts_at_end=alerts(pipeline),
            keys=[str(company["live_key"]) for company in pipeline.companies.values()],
        )


def test_a_clean_reconciliation_sends_nothing_and_its_tick_is_skipped(story: Story) -> None:
    assert materialized(story.clean, "reconciliation")["clean"] is True
    assert story.quiet.run_requests == []
    assert story.quiet.skip_message == "practice P001: reconciliation clean"
    assert story.sent_after_quiet == 0


def test_an_unclean_reconciliation_fails_its_run_and_sends_one_message_for_its_practice(
    story: Story,
) -> None:
    assert story.clean.success
    assert materialized(story.failed, "reconciliation")["clean"] is False
    assert not story.failed.success  # the blocking check fails the run: red in the UI
    assert story.sent_after_alerted == 1
    [text] = [
        request.body["text"]
        for request in story.http.on(SLACK_PATH)
        if "reconciliation NOT clean" in request.body["text"]
    ]
    assert text.startswith("[ar-pipelines] P001: reconciliation NOT clean")
    assert "amount_mismatch: 1" in text
    assert f"Run: {UI}/runs/{story.failed.run_id}" in text
    assert "amount local" in text  # the first mismatch, both sides
    assert "/ AR" in text
    [alert] = story.alerts_after_alerted
    assert alert["kind"] == "reconciliation_not_clean"
    assert alert["practice_id"] == "P001"
    assert alert["run_id"] == story.failed.run_id
    assert alert["counts"]["amount_mismatch"] == 1
    assert alert["counts"]["matched"] == materialized(story.failed, "reconciliation")["matched"]
    assert Path(alert["report"]).is_absolute()
    assert Path(alert["report"]).exists()
    assert f"Report: {alert['report']}" in text
    assert datetime.fromisoformat(alert["at"]).utcoffset() == timedelta(0)
    subjects = [mail["Subject"] for mail in story.smtp.recorder.messages]
    assert subjects.count("[ar-pipelines] P001: reconciliation NOT clean") == 1
    assert set(story.smtp.recorder.logins) == {SMTP_USER}


def test_an_alerting_tick_is_not_a_skipped_one_it_records_the_alert_and_refreshes_the_health(
    story: Story,
) -> None:
    alerted = story.alerted
    assert alerted.skip_message is None
    [refresh] = alerted.run_requests
    assert refresh.job_name == "practices_health_job"
    assert refresh.tags["ar_pipelines/alerted"] == "P001"
    [observation] = alerted.asset_events
    assert isinstance(observation, dg.AssetObservation)
    assert observation.asset_key == dg.AssetKey("reconciliation")
    assert observation.partition == "P001"
    assert observation.metadata["amount_mismatch"].value == 1


def test_a_failure_is_reported_once_even_when_another_practice_reconciles_clean_before_the_tick(
    story: Story,
) -> None:
    assert materialized(story.other_practice, "reconciliation")["clean"] is True
    assert [
        (a["practice_id"], a["counts"]["amount_mismatch"]) for a in story.alerts_after_alerted
    ] == [("P001", 1)]
    after = story.after
    assert after.skip_message == "no reconciliation since the last tick"
    assert after.cursor == story.alerted.cursor
    assert story.sent_after_after == 1


def test_a_receiver_answering_500_is_retried_then_logged_and_the_sensor_still_advances(
    story: Story,
) -> None:
    assert len(story.http.on(WEBHOOK_PATH)) >= 3  # three attempts for the alert
    [alert] = story.alerts_after_alerted
    deliveries = {d["channel"]: d for d in alert["deliveries"]}
    webhook = next(d for name, d in deliveries.items() if "webhook" in name.lower())
    assert webhook["delivered"] is False
    assert webhook["attempts"] == 3
    assert "500" in webhook["error"]
    assert story.alerted.cursor is not None
    assert story.alerted.cursor != story.quiet.cursor


def test_each_practice_has_its_own_reconciliation_check_status(story: Story) -> None:
    # P002 passed, P001 failed its latest check; one does not hide the other.
    assert story.check_status == {"P001": "FAILED", "P002": "SUCCEEDED"}


def test_a_run_that_failed_only_on_its_unclean_reconciliation_is_not_alerted_twice(
    story: Story,
) -> None:
    assert isinstance(story.unclean_run_tick, dg.SkipReason)
    assert "reconciliation_failures reports" in (story.unclean_run_tick.skip_message or "")


def test_a_failed_nightly_run_sends_one_message_naming_the_step_and_its_error(
    story: Story,
) -> None:
    assert not story.broken.success
    assert story.broken_run_tick is None
    runs = [
        request.body
        for request in story.http.on(SLACK_PATH)
        if "nightly_sync run failed" in request.body["text"]
    ]
    [message] = runs
    assert message["text"].startswith("[ar-pipelines] P002: nightly_sync run failed")
    assert "AR_API_KEY_P002, which is not set" in message["text"]
    assert f"{UI}/runs/{story.broken.run_id}" in message["text"]
    failed = [a for a in story.alerts_at_end if a["kind"] == "run_failed"]
    assert [a["run_id"] for a in failed] == [story.broken.run_id]


def test_no_key_password_or_webhook_url_appears_in_what_is_sent_or_written(
    story: Story,
) -> None:
    sent = [json.dumps(request.body) for request in story.http.requests]
    sent += [mail.as_string() for mail in story.smtp.recorder.messages]
    sent += [json.dumps(alert) for alert in story.alerts_at_end]
    assert len(sent) >= 4
    for text in sent:
        assert TOKEN not in text
        assert SMTP_PASSWORD not in text
        for key in story.keys:
            assert key not in text
