"""The `reconciliation_failures` sensor, evaluated as the daemon does, over the runs of
the real graph: quiet after clean reconciliations, one alert per reconciliation that is
not clean, each reported once, whatever ran after it. Both tests look at one story of
runs and ticks on a pipeline the module shares."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.definitions.sensor_definition import SensorExecutionData

from ar_pipelines.defs.automation import ALERTS_FILE
from tests.ar_pipelines.defs.conftest import Pipeline, change_a_statement_in_ar, materialized

SENSOR = "reconciliation_failures"


def tick(pipeline: Pipeline, cursor: str | None = None) -> SensorExecutionData:
    """One evaluation of the sensor against the pipeline's instance, from ``cursor``, with
    the code location's own resources, as the daemon evaluates it."""
    repository = pipeline.definitions().get_repository_def()
    sensor = repository.get_sensor_def(SENSOR)
    resources = {
        key: resource
        for key, resource in repository.get_top_level_resources().items()
        if key in sensor.required_resource_keys
    }
    with dg.build_sensor_context(
        instance=pipeline.instance,
        cursor=cursor,
        repository_def=repository,
        sensor_name=SENSOR,
        resources=resources,
    ) as context:
        return sensor.evaluate_tick(context)


def alerts(pipeline: Pipeline) -> list[dict[str, Any]]:
    path: Path = pipeline.reports / ALERTS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@dataclass(frozen=True)
class Story:
    """What the tests look at, in the order it happened: P001 reconciled clean and a tick;
    a statement changed in AR and P001 run again; P002 reconciled clean; then a tick from
    the first tick's cursor, and one more after it. The alerts file is read after each
    tick."""

    clean: dg.ExecuteInProcessResult
    quiet: SensorExecutionData
    alerts_after_quiet: list[dict[str, Any]]
    failed: dg.ExecuteInProcessResult
    other_practice: dg.ExecuteInProcessResult
    alerted: SensorExecutionData
    alerts_after_alerted: list[dict[str, Any]]
    after: SensorExecutionData
    alerts_after_after: list[dict[str, Any]]


@pytest.fixture(scope="module")
def story(shared_pipeline: Pipeline) -> Story:
    pipeline = shared_pipeline
    clean = pipeline.run("P001")
    quiet = tick(pipeline)
    alerts_after_quiet = alerts(pipeline)
    change_a_statement_in_ar(pipeline, "P001")
    # No push touched the statement's customer: a night asking for it reads every one.
    failed = pipeline.run(
        "P001",
        raise_on_error=False,
        run_config={"ops": {"ar__statements": {"config": {"full_reconciliation": True}}}},
    )
    other_practice = pipeline.run("P002")
    alerted = tick(pipeline, quiet.cursor)
    alerts_after_alerted = alerts(pipeline)
    after = tick(pipeline, alerted.cursor)
    return Story(
        clean=clean,
        quiet=quiet,
        alerts_after_quiet=alerts_after_quiet,
        failed=failed,
        other_practice=other_practice,
        alerted=alerted,
        alerts_after_alerted=alerts_after_alerted,
        after=after,
        alerts_after_after=alerts(pipeline),
    )


def test_a_reconciliation_that_is_not_clean_writes_one_alert_and_says_so(story: Story) -> None:
    assert materialized(story.clean, "reconciliation")["clean"] is True
    quiet = story.quiet
    assert quiet.run_requests == []
    assert quiet.skip_message == "practice P001: reconciliation clean"
    assert story.alerts_after_quiet == []

    failed = story.failed
    assert materialized(failed, "reconciliation")["clean"] is False
    alerted = story.alerted

    assert alerted.run_requests == []
    assert alerted.skip_message is not None
    assert alerted.skip_message.startswith("practice P001: reconciliation NOT clean")
    assert "'amount_mismatch': 1" in alerted.skip_message
    [alert] = story.alerts_after_alerted
    assert alert["practice_id"] == "P001"
    assert alert["run_id"] == failed.run_id
    assert alert["counts"]["amount_mismatch"] == 1
    assert alert["counts"]["matched"] == materialized(failed, "reconciliation")["matched"]
    assert alert["report"].endswith("reconciliation_P001.html")
    assert Path(alert["report"]).is_absolute()
    assert Path(alert["report"]).exists()
    at = datetime.fromisoformat(alert["at"])  # ISO 8601, with its zone
    assert at.utcoffset() == timedelta(0)

    # The next tick starts after what was reported: nothing is alerted twice.
    after = story.after
    assert after.skip_message == "no reconciliation since the last tick"
    assert after.cursor == alerted.cursor
    assert len(story.alerts_after_after) == 1


def test_a_failure_is_reported_even_when_another_practice_reconciles_clean_before_the_tick(
    story: Story,
) -> None:
    # P001 failed, then P002 reconciled clean, and only then came the tick.
    assert materialized(story.other_practice, "reconciliation")["clean"] is True
    result = story.alerted

    assert result.skip_message is not None
    assert "practice P001: reconciliation NOT clean" in result.skip_message
    assert "practice P002: reconciliation clean" in result.skip_message
    assert [
        (a["practice_id"], a["counts"]["amount_mismatch"]) for a in story.alerts_after_alerted
    ] == [("P001", 1)]
