"""``practices_health`` over the real graph: after P001 reconciled clean and P002 was
made not clean, the page and the table say how each stands, and the sensor asks for one
refresh per batch of runs that ended, never twice.

The tests look at one story of runs and sensor ticks on a pipeline the module shares
(about two whole runs' work): a tick before anything ran; P001's nightly run (clean);
two ticks; P002's nightly run up to its read-back, a statement of it changed in AR,
then its read-back and reconciliation (not clean); P001's enrollment, failing at once
for want of a campaign; a tick; the page materialized; a last tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.definitions.sensor_definition import SensorExecutionData

from ar_pipelines.defs.automation import NIGHTLY_JOB, WEEKLY_JOB
from ar_pipelines.defs.common import AR_STATEMENTS, RECONCILIATION
from ar_pipelines.defs.enroll import ENROLL_JOB
from ar_pipelines.defs.health import (
    AFTER_RUN_TAG,
    HEALTH_JOB,
    HEALTH_SENSOR,
    PRACTICES_HEALTH,
    health_definitions,
    practice_health_rows,
)
from ar_pipelines.defs.practices import Practice, PracticesConfig
from ar_pipelines.health import PAGE_NAME, PracticeHealth
from tests.ar_pipelines.defs.conftest import Pipeline, change_a_statement_in_ar, materialized

FULL_READ_BACK = {"ops": {"ar__statements": {"config": {"full_reconciliation": True}}}}


def site(pipeline: Pipeline) -> dg.Definitions:
    """The code location with the page: ``build_definitions``'s, with
    ``health_definitions`` merged in unless it has them already."""
    built = pipeline.definitions()
    if PRACTICES_HEALTH in built.resolve_all_asset_keys():
        return built
    return dg.Definitions.merge(built, health_definitions(pipeline.config))


def tick(pipeline: Pipeline, cursor: str | None) -> SensorExecutionData:
    """One evaluation of the refresh sensor against the pipeline's instance, as the daemon
    evaluates it."""
    repository = site(pipeline).get_repository_def()
    sensor = repository.get_sensor_def(HEALTH_SENSOR)
    with dg.build_sensor_context(
        instance=pipeline.instance,
        cursor=cursor,
        repository_def=repository,
        sensor_name=HEALTH_SENSOR,
    ) as context:
        return sensor.evaluate_tick(context)


def run_subset(
    pipeline: Pipeline, practice: str, assets: set[dg.AssetKey], **options: Any
) -> dg.ExecuteInProcessResult:
    """The nightly job for ``practice``, materializing those of its assets in ``assets``."""
    job = pipeline.definitions().resolve_job_def(NIGHTLY_JOB)
    selected = sorted(job.asset_layer.selected_asset_keys & assets)
    return job.execute_in_process(
        partition_key=practice, instance=pipeline.instance, asset_selection=selected, **options
    )


@dataclass(frozen=True)
class Story:
    started: SensorExecutionData
    clean: dg.ExecuteInProcessResult
    after_clean: SensorExecutionData
    quiet: SensorExecutionData
    unclean: dg.ExecuteInProcessResult
    enroll: dg.ExecuteInProcessResult
    after_others: SensorExecutionData
    health: dg.ExecuteInProcessResult
    after_health: SensorExecutionData
    rows: dict[str, PracticeHealth]


@pytest.fixture(scope="module")
def story(shared_pipeline: Pipeline) -> Story:
    pipeline = shared_pipeline
    started = tick(pipeline, None)
    clean = pipeline.run("P001")
    after_clean = tick(pipeline, started.cursor)
    quiet = tick(pipeline, after_clean.cursor)
    # P002 never reconciles clean: its first reconciliation comes after a statement changed.
    everything = set(pipeline.definitions().resolve_all_asset_keys())
    run_subset(pipeline, "P002", everything - {RECONCILIATION})
    change_a_statement_in_ar(pipeline, "P002")
    unclean = run_subset(
        pipeline,
        "P002",
        {AR_STATEMENTS, RECONCILIATION},
        run_config=FULL_READ_BACK,
        raise_on_error=False,
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.delenv("AR_SA_CAMPAIGN_P001")  # the enrollment fails before any request
        enroll = (
            pipeline.definitions()
            .resolve_job_def(ENROLL_JOB)
            .execute_in_process(
                partition_key="P001", instance=pipeline.instance, raise_on_error=False
            )
        )
    after_others = tick(pipeline, quiet.cursor)
    health = (
        site(pipeline).resolve_job_def(HEALTH_JOB).execute_in_process(instance=pipeline.instance)
    )
    after_health = tick(pipeline, after_others.cursor)
    rows = {
        row.practice_id: row for row in practice_health_rows(pipeline.instance, with_p009(pipeline))
    }
    return Story(
        started=started,
        clean=clean,
        after_clean=after_clean,
        quiet=quiet,
        unclean=unclean,
        enroll=enroll,
        after_others=after_others,
        health=health,
        after_health=after_health,
        rows=rows,
    )


def with_p009(pipeline: Pipeline) -> PracticesConfig:
    """The pipeline's practices and one more, P009, that never ran."""
    config = pipeline.config
    never = Practice(id="P009", ar_key_env="AR_API_KEY_P009", source=pipeline.source_url)
    return PracticesConfig(path=config.path, practices=(*config.practices, never))


def test_a_practice_reconciled_clean_shows_its_last_run_counts_and_outstanding(
    story: Story,
) -> None:
    row = story.rows["P001"]
    reconciled = materialized(story.clean, "reconciliation")

    assert row.last_run_id == story.enroll.run_id
    assert row.last_run_job == ENROLL_JOB
    assert row.last_run_status == "FAILURE"
    assert row.last_run_ended_at is not None
    assert row.last_run_ended_at.utcoffset() == timedelta(0)
    assert row.reconciliation_status == "clean"
    assert row.matched == reconciled["matched"] > 0
    assert (row.amount_mismatch, row.paid_mismatch) == (0, 0)
    assert (row.missing_in_ar, row.unexpected_in_ar) == (0, 0)
    assert row.reconciled_at is not None
    assert row.last_clean_at == row.reconciled_at
    ar_outstanding = reconciled["summary"]["totals"]["ar_outstanding"]
    assert row.ar_outstanding == Decimal(ar_outstanding)
    assert isinstance(row.ar_outstanding, Decimal)
    assert row.pushes_refused == 0


def test_the_quarantine_share_is_the_share_of_rows_the_last_normalization_read(
    story: Story,
) -> None:
    row = story.rows["P001"]
    quarantine = materialized(story.clean, "normalized/quarantine")
    ledger = materialized(story.clean, "normalized/ledger_entries")
    customers = materialized(story.clean, "normalized/customers")

    read = ledger["transactions_read"] + customers["patients_read"]
    assert row.quarantined == quarantine["quarantined_this_run"] > 0  # the source has defects
    assert row.quarantine_share == pytest.approx(quarantine["quarantined_this_run"] / read)
    assert row.quarantine_threshold == 0.2
    assert row.extracted_at is not None
    assert row.source_stale is False  # a landed database says nothing of Sikka's refresh


def test_a_practice_made_not_clean_shows_its_mismatch_and_no_clean_reconciliation(
    story: Story,
) -> None:
    row = story.rows["P002"]
    run = story.unclean.dagster_run

    assert materialized(story.unclean, "reconciliation")["clean"] is False
    assert row.last_run_id == run.run_id
    assert row.last_run_job == NIGHTLY_JOB
    assert row.last_run_status == story.unclean.dagster_run.status.value
    assert row.reconciliation_status == "NOT clean"
    assert row.amount_mismatch == 1
    assert row.last_clean_at is None
    assert row.ar_outstanding is not None


def test_a_practice_never_run_has_a_row_with_nothing_known(story: Story) -> None:
    assert story.rows["P009"] == PracticeHealth("P009", quarantine_threshold=0.05)


def test_the_table_metadata_has_a_record_per_practice_and_the_page_names_both(
    story: Story, shared_pipeline: Pipeline
) -> None:
    metadata = materialized(story.health, "practices_health")
    table = metadata["practices"]
    records = {record.data["practice_id"]: record.data for record in table.records}

    assert sorted(records) == ["P001", "P002"]
    assert {column.name for column in table.schema.columns} >= set(records["P001"])
    assert records["P001"]["reconciliation"] == "clean"
    assert records["P002"]["reconciliation"] == "NOT clean"
    assert records["P002"]["amount_mismatch"] == 1
    assert records["P001"]["last_run_status"] == "FAILURE"
    assert records["P001"]["ar_outstanding"] == f"{story.rows['P001'].ar_outstanding:.2f}"
    ended = datetime.fromisoformat(str(records["P001"]["last_run_ended_at"]))
    assert ended.utcoffset() == timedelta(0)
    assert "never reconciled clean" in str(records["P002"]["problems"])
    # P001's enrollment failed; P002's run fails too where the reconciliation's check blocks.
    p002_failed = story.unclean.dagster_run.status == dg.DagsterRunStatus.FAILURE
    assert (metadata["not_clean"], metadata["failed"]) == (1, 1 + p002_failed)
    assert metadata["stale"] == 1  # P002, never reconciled clean
    page = Path(metadata["page"])
    assert page.is_absolute()
    assert page == (shared_pipeline.reports / PAGE_NAME).resolve()
    text = page.read_text(encoding="utf-8")
    assert 'id="practice-P001"' in text
    assert 'id="practice-P002"' in text


def test_the_sensor_asks_for_one_refresh_when_runs_end_and_none_the_next_tick(
    story: Story,
) -> None:
    assert story.started.run_requests == []
    assert story.started.cursor is not None

    [request] = story.after_clean.run_requests
    assert request.run_key == f"after_run:{story.clean.run_id}"
    assert request.tags[AFTER_RUN_TAG] == story.clean.run_id
    assert story.quiet.run_requests == []
    assert story.quiet.cursor == story.after_clean.cursor

    # Three runs ended (P002's two, P001's failed enrollment): one refresh, after the last;
    # a failed run asks for it as a successful one does.
    assert story.enroll.dagster_run.status == dg.DagsterRunStatus.FAILURE
    [request] = story.after_others.run_requests
    assert request.run_key == f"after_run:{story.enroll.run_id}"
    # The page's own run does not ask for another.
    assert story.health.success
    assert story.after_health.run_requests == []


def test_the_sensor_asks_for_the_page_job_and_runs_by_default(shared_pipeline: Pipeline) -> None:
    sensor = site(shared_pipeline).resolve_sensor_def(HEALTH_SENSOR)

    assert sensor.job_name == HEALTH_JOB
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_the_practice_jobs_leave_the_page_to_its_own_job(shared_pipeline: Pipeline) -> None:
    built = shared_pipeline.definitions()
    if PRACTICES_HEALTH not in built.resolve_all_asset_keys():
        pytest.skip("health_definitions is not merged into build_definitions yet")
    for job in (NIGHTLY_JOB, WEEKLY_JOB):
        assert PRACTICES_HEALTH not in built.resolve_job_def(job).asset_layer.selected_asset_keys
    assert built.resolve_job_def(HEALTH_JOB).asset_layer.selected_asset_keys == {PRACTICES_HEALTH}
