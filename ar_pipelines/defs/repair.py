"""The job ``repair_ar``: repair in AR what the practice's reconciliation explained, and
the sensor ``auto_repair`` that runs it after a reconciliation with repairable causes,
for practices that set ``auto_repair = true``.

The causes are worked out again against AR when the job runs (never read from an
earlier report). Entries AR lost or holds differently are pushed again as the practice
has them, and entries AR holds under the practice's prefix that the practice does not
have are voided (``sync.repair``); every other cause is refused with its reason. The
repair is a push and is held against the practice's limits, like the nightly one:
past them it waits for ``approve: true``. Then the customers it touched are read back
and reconciled, and the result says whether the practice is clean.
"""

import json
from typing import Any

import dagster as dg

from ar_pipelines.defs.common import (
    practice_of,
    reconciliations_since,
    retried_when_transient,
    tagged_by_ar_key,
)
from ar_pipelines.defs.practices import PracticesConfig
from ar_pipelines.defs.resources import ArApi, Settings, WarehouseResource
from ar_pipelines.reconcile import explain, read_back_statements, reconcile_practice
from ar_pipelines.reconcile.stored import stored_result
from ar_pipelines.statements.dbt import practice_schema
from ar_pipelines.sync.repair import REPAIRABLE, apply_repair, plan_repair

REPAIR_JOB = "repair_ar"
AUTO_REPAIR_SENSOR = "auto_repair"


class RepairConfig(dg.Config):
    """``approve``: send the repair even when it goes past the practice's limits (its
    voids over ``max_void_share``, or the outstanding moved past
    ``max_outstanding_change``)."""

    approve: bool = False


def repairable(causes: dict[str, Any] | None) -> int:
    """How many rows of a reconciliation's ``causes`` counts a repair would act on."""
    return sum(int((causes or {}).get(cause, 0)) for cause in REPAIRABLE)


def repair_job(partitions: dg.PartitionsDefinition, config: PracticesConfig) -> dg.JobDefinition:
    @dg.op(description="Explain the practice's mismatches again, repair them, and reconcile.")
    def repair_practice(
        context: dg.OpExecutionContext,
        config: RepairConfig,
        ar: ArApi,
        warehouse: WarehouseResource,
        settings: Settings,
    ) -> dg.Output[dict]:  # type: ignore[type-arg]
        practice = practice_of(context, settings)
        with retried_when_transient(context), warehouse.open() as store:
            schema = practice_schema(practice, store.schema_prefix)
            with ar.client(practice) as client:
                causes = explain(
                    client,
                    store,
                    practice_id=practice.id,
                    local_schema=schema,
                    differing=stored_result(store, practice.id).differing(),
                )
                plan = plan_repair(client, store, practice_id=practice.id, causes=causes.rows)
                outcome = apply_repair(
                    client, store, plan, limits=practice.plan_limits(), approved=config.approve
                )
                if outcome.breaches and not config.approve:
                    raise dg.Failure(
                        description=(
                            "the repair goes past the practice's limits and was not sent: "
                            + "; ".join(b.message for b in outcome.breaches)
                            + ". Run it again with approve: true to send it."
                        ),
                        metadata={
                            "breaches": dg.MetadataValue.json(
                                [b.as_dict() for b in outcome.breaches]
                            ),
                            "repair": dg.MetadataValue.json(plan.summary()),
                        },
                    )
                if outcome.sent:
                    read_back_statements(
                        client, store, practice_id=practice.id, concurrency=ar.concurrency
                    )
            done = reconcile_practice(
                store,
                practice_id=practice.id,
                local_schema=schema,
                reports_dir=settings.reports_path,
                open_client=lambda: ar.client(practice),
            )
        summary = plan.summary()
        after = {
            "clean": done.result.clean,
            "counts": done.result.counts(),
            "causes": done.causes.counts() if done.causes is not None else {},
        }
        value = {**summary, "sent": outcome.sent, "after": after}
        for refusal in plan.refused:
            context.log.warning(
                f"refused {refusal.cause} on {refusal.statement}"
                f"{f' ({refusal.entry_external_id})' if refusal.entry_external_id else ''}: "
                f"{refusal.reason}"
            )
        return dg.Output(
            value,
            metadata={
                **{f"repaired_{cause}": count for cause, count in summary["repaired"].items()},
                "repaired": dg.MetadataValue.json(summary["entries"]),
                "refused": dg.MetadataValue.json(summary["refused"]),
                "sent": outcome.sent,
                "push": dg.MetadataValue.json(
                    outcome.report.summary() if outcome.report is not None else {}
                ),
                "clean_after": done.result.clean,
                "after": dg.MetadataValue.json(after),
                "report": dg.MetadataValue.path(str(done.files.html)),
            },
        )

    @dg.job(
        name=REPAIR_JOB,
        config=tagged_by_ar_key(partitions, config),
        description=__doc__,
    )
    def repair_ar() -> None:
        repair_practice()

    return repair_ar


def auto_repair_sensor(config: PracticesConfig) -> dg.SensorDefinition:
    wanted = {practice.id for practice in config.practices if practice.auto_repair}

    @dg.sensor(
        name=AUTO_REPAIR_SENSOR,
        job_name=REPAIR_JOB,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Requests repair_ar for a practice after each of its reconciliations that found "
            "repairable causes, when the practice sets auto_repair = true."
        ),
    )
    def auto_repair(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        records = reconciliations_since(context)
        if not records:
            return dg.SkipReason("no reconciliation since the last tick")
        requests = []
        for record in records:
            practice = record.partition_key
            materialization = record.asset_materialization
            if practice not in wanted or materialization is None:
                continue
            causes = materialization.metadata.get("causes")
            counts = causes.value if causes is not None else None
            if isinstance(counts, str):
                counts = json.loads(counts)
            if repairable(counts if isinstance(counts, dict) else None):
                requests.append(
                    dg.RunRequest(
                        run_key=f"{REPAIR_JOB}:{practice}:{record.storage_id}",
                        partition_key=practice,
                    )
                )
        cursor = str(records[-1].storage_id)
        if not requests:
            context.update_cursor(cursor)
            return dg.SkipReason("no reconciliation with repairable causes to repair")
        return dg.SensorResult(run_requests=requests, cursor=cursor)

    return auto_repair


def repair_definitions(
    partitions: dg.PartitionsDefinition, config: PracticesConfig
) -> dg.Definitions:
    """The job ``repair_ar`` and the sensor ``auto_repair``."""
    return dg.Definitions(
        jobs=[repair_job(partitions, config)], sensors=[auto_repair_sensor(config)]
    )
