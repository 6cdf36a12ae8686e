"""The push plan: what the next push of a practice will send, and what it will do to
AR's statements, worked out from the warehouse before anything is sent
(``sync.plan_practice``); and the guard that stops a push that looks like an accident.

``ar/customers`` and ``ar/ledger_entries`` depend on the plan. Its blocking check
``plan_within_limits`` holds the plan against the practice's limits (``max_void_share``,
``max_statement_removal_share``, ``max_outstanding_change`` in the practices file): when
the plan goes past one, the check fails, nothing is pushed and the run fails. The run
config ``approve_plan: true`` on this step lets that one plan through: the check then
fails as a warning only, with ``approved: true`` and the figures in its metadata, and
the push goes ahead. The plan is written as HTML and CSV under the reports directory
(``plan_<practice>.html``, ``plan_<practice>.csv``) for whoever approves it.
"""

from collections.abc import Iterator, Mapping
from contextlib import nullcontext
from typing import Any

import dagster as dg

from ar_pipelines.defs.common import (
    LOCAL_STATEMENTS,
    NORMALIZED_CUSTOMERS,
    NORMALIZED_LEDGER,
    Stage,
    practice_step,
)
from ar_pipelines.defs.resources import Settings, WarehouseResource
from ar_pipelines.statements.dbt import practice_schema
from ar_pipelines.sync.plan import (
    Breach,
    PlanLimits,
    PushPlan,
    judge,
    plan_practice,
    write_plan_files,
)

PUSH_PLAN = dg.AssetKey(["ar", "push_plan"])
PLAN_WITHIN_LIMITS = "plan_within_limits"
# The push steps whose run config ``full_repush`` the plan follows, by what they push.
PUSH_STEPS = {"customers": "ar__customers", "ledger_entries": "ar__ledger_entries"}

PLAN = Stage("push", kinds=frozenset({"pandas", "html"}))


class PlanConfig(dg.Config):
    """``approve_plan``: push this plan even if it goes past the practice's limits; the
    approval is recorded in the check's metadata."""

    approve_plan: bool = False


@PLAN.asset(
    PUSH_PLAN,
    deps=[NORMALIZED_CUSTOMERS, NORMALIZED_LEDGER, LOCAL_STATEMENTS],
    check_specs=[
        dg.AssetCheckSpec(
            PLAN_WITHIN_LIMITS,
            asset=PUSH_PLAN,
            description=(
                "The push stays within the practice's limits: voids, statements removed or "
                "lowered, and the change in the outstanding total. When it does not, nothing "
                "is pushed until the plan is approved (run config approve_plan: true)."
            ),
            blocking=True,
        )
    ],
    description=(
        "What the next push will send (new, changed and voided customers and ledger "
        "entries) and what it will do to AR's statements, before anything is sent."
    ),
)
def push_plan(
    context: dg.AssetExecutionContext,
    config: PlanConfig,
    warehouse: WarehouseResource,
    settings: Settings,
) -> Iterator[dg.MaterializeResult[Any] | dg.AssetCheckResult]:
    with practice_step(context, settings, warehouse, lambda _: nullcontext()) as held:
        practice, store, _ = held
        plan = plan_practice(
            store,
            practice_id=practice.id,
            local_schema=practice_schema(practice, store.schema_prefix),
            full_customers=_full_repush(context, "customers"),
            full_ledger_entries=_full_repush(context, "ledger_entries"),
        )
    limits = practice.plan_limits()
    breaches = judge(plan, limits)
    files = write_plan_files(plan, settings.reports_path, breaches)
    approved = bool(breaches) and config.approve_plan
    if breaches:
        verb = "approved past" if approved else "goes past"
        context.log.warning(
            f"the push plan of {practice.id} {verb} its limits: "
            + "; ".join(breach.message for breach in breaches)
        )
    yield dg.MaterializeResult(
        asset_key=PUSH_PLAN,
        metadata={
            **plan_metadata(plan),
            "within_limits": not breaches,
            "approved": approved,
            "report": dg.MetadataValue.path(str(files.html)),
            "csv": dg.MetadataValue.path(str(files.csv)),
        },
    )
    yield dg.AssetCheckResult(
        check_name=PLAN_WITHIN_LIMITS,
        asset_key=PUSH_PLAN,
        passed=not breaches,
        # Approved: recorded as a failure, but a warning does not stop the push.
        severity=dg.AssetCheckSeverity.WARN if approved else dg.AssetCheckSeverity.ERROR,
        description=_verdict(breaches, approved),
        metadata={
            "approved": approved,
            "limits_passed": dg.MetadataValue.json([b.limit for b in breaches]),
            "breaches": dg.MetadataValue.json([b.as_dict() for b in breaches]),
            "limits": dg.MetadataValue.json(_limits(limits)),
            "figures": dg.MetadataValue.json(plan.figures()),
            "report": dg.MetadataValue.path(str(files.html)),
        },
    )


def plan_metadata(plan: PushPlan) -> dict[str, Any]:
    """The plan's counts, amounts (as exact text) and samples, as asset metadata."""
    metadata: dict[str, Any] = {
        "first_push": plan.first_push,
        "pushed_entries": plan.pushed_entries,
    }
    for planned in (plan.customers, plan.ledger_entries):
        for name, value in planned.summary().items():
            metadata[f"{planned.kind}_{name}"] = value
    metadata["void_share"] = dg.MetadataValue.float(plan.void_share)
    if plan.statements is not None:
        for name, value in plan.statements.summary().items():
            metadata[f"statements_{name}"] = value
        metadata["statement_removal_share"] = dg.MetadataValue.float(plan.statement_removal_share)
    metadata["figures"] = dg.MetadataValue.json(plan.figures())
    metadata["void_samples"] = dg.MetadataValue.json(plan.ledger_entries.samples("void"))
    metadata["change_samples"] = dg.MetadataValue.json(plan.ledger_entries.samples("changed"))
    return metadata


def _full_repush(context: dg.AssetExecutionContext, kind: str) -> bool:
    """Whether the run asks the push of ``kind`` to send every record (``full_repush``)."""
    found: Any = context.run.run_config
    for name in ("ops", PUSH_STEPS[kind], "config", "full_repush"):
        found = found.get(name) if isinstance(found, Mapping) else None
    return bool(found)


def _limits(limits: PlanLimits) -> dict[str, Any]:
    change = limits.max_outstanding_change
    return {
        "max_void_share": limits.max_void_share,
        "max_statement_removal_share": limits.max_statement_removal_share,
        "max_outstanding_change": None if change is None else str(change),
    }


def _verdict(breaches: list[Breach], approved: bool) -> str:
    if not breaches:
        return "Within the practice's limits."
    said = "; ".join(breach.message for breach in breaches)
    if approved:
        return f"Approved past the practice's limits: {said}."
    return f"Refused, nothing pushed: {said}. Run again with approve_plan: true to push it."


push_plan_assets = PLAN.assets
