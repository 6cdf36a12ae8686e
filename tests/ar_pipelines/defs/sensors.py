"""Sensors evaluated as the daemon evaluates them, against a test pipeline's instance."""

from __future__ import annotations

import dagster as dg
from dagster._core.definitions.sensor_definition import SensorExecutionData

from ar_pipelines.defs.alerts import run_failures
from tests.ar_pipelines.defs.conftest import Pipeline


def tick(
    pipeline: Pipeline, sensor_name: str, cursor: str | None = None, **resources: object
) -> SensorExecutionData:
    """One evaluation of a sensor against the pipeline's instance, from ``cursor``, with the
    code location's own resources (or ``resources``), as the daemon evaluates it."""
    repository = pipeline.definitions(**resources).get_repository_def()
    sensor = repository.get_sensor_def(sensor_name)
    with dg.build_sensor_context(
        instance=pipeline.instance,
        cursor=cursor,
        repository_def=repository,
        sensor_name=sensor_name,
        resources=_resources(repository, sensor),
    ) as context:
        return sensor.evaluate_tick(context)


def _resources(
    repository: dg.RepositoryDefinition, sensor: dg.SensorDefinition
) -> dict[str, object]:
    return {
        key: resource
        for key, resource in repository.get_top_level_resources().items()
        if key in sensor.required_resource_keys
    }


def failure_tick(pipeline: Pipeline, run_id: str) -> dg.SkipReason | None:
    """The run-failure sensor on one failed run, with the code location's resources."""
    run = pipeline.instance.get_run_by_id(run_id)
    assert run is not None
    [failure] = pipeline.instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert failure.dagster_event is not None
    repository = pipeline.definitions().get_repository_def()
    context = dg.build_run_status_sensor_context(
        sensor_name=run_failures.name,
        dagster_event=failure.dagster_event,
        dagster_instance=pipeline.instance,
        dagster_run=run,
        resources=_resources(repository, repository.get_sensor_def(run_failures.name)),
    ).for_run_failure()
    result: dg.SkipReason | None = run_failures(context)
    return result
