"""The push plan against the sandbox and DuckDB: a first run's plan passes the guard and
names exactly what the push then sends; a source that lost 30% of a practice's rows is
refused (the run fails, AR unchanged) until a run approves the plan, which pushes the
voids. The nights are module-scoped fixtures of one shared pipeline, in that order."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import create_engine, text

from ar_pipelines.client import ARClient
from ar_pipelines.defs.automation import NIGHTLY_JOB, WEEKLY_JOB
from ar_pipelines.defs.common import (
    LOCAL_STATEMENTS,
    NORMALIZED_LEDGER,
    PUSHED_CUSTOMERS,
    PUSHED_LEDGER,
    practice_partitions,
)
from ar_pipelines.defs.plan import PLAN_WITHIN_LIMITS, PUSH_PLAN, push_plan_assets
from ar_pipelines.defs.practices import PracticeConfigError, load_practices
from ar_pipelines.defs.resources import warehouse_pool
from ar_pipelines.sync import PlanLimits
from tests.ar_pipelines.defs.conftest import Pipeline, check_passed, materialized

FULL_DELETION_SCAN = {"normalized": {"config": {"full_deletion_scan": True}}}
APPROVE = {"ar__push_plan": {"config": {"approve_plan": True}}}
LOST_SHARE = 0.3


def definitions(pipeline: Pipeline) -> dg.Definitions:
    """The code location, with the push plan's assets added where it does not wire them."""
    defs = pipeline.definitions()
    graph = defs.resolve_asset_graph()
    if graph.has(PUSH_PLAN) and graph.get(PUSH_PLAN).is_materializable:
        return defs
    partitions = practice_partitions(pipeline.config)
    plan = dg.Definitions(assets=push_plan_assets(partitions, warehouse_pool()))
    return dg.Definitions.merge(defs, plan)


def run(
    pipeline: Pipeline, ops: dict[str, Any] | None = None, *, job: str = NIGHTLY_JOB
) -> dg.ExecuteInProcessResult:
    return (
        definitions(pipeline)
        .resolve_job_def(job)
        .execute_in_process(
            partition_key="P001",
            instance=pipeline.instance,
            run_config={"ops": ops} if ops else None,
            raise_on_error=False,
        )
    )


def ar_entries(pipeline: Pipeline) -> dict[str, Decimal]:
    """AR's ledger entries of P001 by external id (the allocations AR makes left out)."""
    key = pipeline.companies["P001"]["live_key"]
    with ARClient(base_url=pipeline.sandbox.base_url, api_key=key) as client:
        return {
            e.external_id: e.amount
            for e in client.ledgers.list(per_page=100)
            if e.external_id and not e.external_id.startswith("ALLOC-")
        }


def check_metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.check_name == PLAN_WITHIN_LIMITS:
            return {key: value.value for key, value in evaluation.metadata.items()}
    raise AssertionError(f"{PLAN_WITHIN_LIMITS} was not evaluated")


@dataclass(frozen=True)
class Night:
    result: dg.ExecuteInProcessResult
    in_ar: dict[str, Decimal]


@pytest.fixture(scope="module")
def first(shared_pipeline: Pipeline) -> Night:
    result = run(shared_pipeline)
    return Night(result, ar_entries(shared_pipeline))


def lose_rows(pipeline: Pipeline, share: float) -> list[str]:
    """Deletes ``share`` of practice 1's transaction rows from the source without a
    trace; returns the ledger external ids of the rows deleted."""
    engine = create_engine(pipeline.source_url)
    with engine.begin() as connection:
        rows = connection.execute(
            text(
                "select _row_id, transaction_sr_no from transactions"
                " where practice_id = '1' order by _row_id"
            )
        ).all()
        lost = rows[: int(len(rows) * share)]
        connection.execute(
            text("delete from transactions where _row_id = :id"),
            [{"id": row._row_id} for row in lost],
        )
    engine.dispose()
    return [f"P001-{str(row.transaction_sr_no).strip()}" for row in lost]


@dataclass(frozen=True)
class Refused:
    night: Night
    lost: list[str]


@pytest.fixture(scope="module")
def refused(shared_pipeline: Pipeline, first: Night) -> Refused:
    """A night after 30% of P001's rows vanished from the source."""
    lost = lose_rows(shared_pipeline, LOST_SHARE)
    result = run(shared_pipeline, FULL_DELETION_SCAN)
    return Refused(Night(result, ar_entries(shared_pipeline)), lost)


@pytest.fixture(scope="module")
def approved(shared_pipeline: Pipeline, refused: Refused) -> Night:
    """The next night, with the plan approved."""
    result = run(shared_pipeline, {**FULL_DELETION_SCAN, **APPROVE})
    return Night(result, ar_entries(shared_pipeline))


def test_a_first_run_passes_the_guard_and_its_plan_names_what_the_push_sends(
    first: Night,
) -> None:
    result = first.result
    assert result.success
    assert check_passed(result, PLAN_WITHIN_LIMITS) == {"ar/push_plan": True}
    plan = materialized(result, "ar/push_plan")
    assert plan["first_push"] is True
    assert plan["ledger_entries_sent"] == materialized(result, "ar/ledger_entries")["sent"] > 0
    assert plan["customers_sent"] == materialized(result, "ar/customers")["sent"] > 0
    # AR held nothing: everything is new, and what it bills is what AR then holds.
    assert plan["ledger_entries_new"] == plan["ledger_entries_sent"]
    assert plan["ledger_entries_void"] == plan["ledger_entries_changed"] == 0
    assert Decimal(plan["ledger_entries_new_amount"]) == sum(first.in_ar.values(), Decimal(0))
    assert plan["statements_held_in_ar"] == 0
    assert plan["statements_created"] > 0
    assert plan["statements_billed_before"] == "0.00"


def test_a_plan_is_written_as_html_and_csv_under_the_reports_directory(
    shared_pipeline: Pipeline, first: Night
) -> None:
    plan = materialized(first.result, "ar/push_plan")
    assert Path(plan["report"]) == (shared_pipeline.reports / "plan_P001.html").resolve()
    assert Path(plan["csv"]) == (shared_pipeline.reports / "plan_P001.csv").resolve()
    rows = Path(plan["csv"]).read_text().splitlines()
    assert rows[0] == "kind,change,external_id,customer_external_id,date,amount,ar_amount"
    entries = [row for row in rows if row.startswith("ledger_entries,")]
    assert len(entries) == plan["ledger_entries_sent"]
    assert "Push plan of practice P001" in Path(plan["report"]).read_text()


def test_a_source_that_lost_30_percent_of_its_rows_is_refused_and_ar_is_left_alone(
    first: Night, refused: Refused
) -> None:
    result = refused.night.result
    assert not result.success
    assert check_passed(result, PLAN_WITHIN_LIMITS) == {"ar/push_plan": False}
    pushed = {"/".join(e.asset_key.path) for e in result.get_asset_materialization_events()}
    assert "ar/push_plan" in pushed
    assert not pushed & {"ar/customers", "ar/ledger_entries", "ar/statements", "reconciliation"}
    assert refused.night.in_ar == first.in_ar  # not one entry voided
    figures = check_metadata(result)
    assert figures["approved"] is False
    assert "max_void_share" in figures["limits_passed"]
    assert figures["limits"]["max_void_share"] == 0.02
    voids = figures["figures"]["ledger_entries"]["void"]
    lost_in_ar = [external_id for external_id in refused.lost if external_id in first.in_ar]
    assert voids == len(lost_in_ar) > 0.02 * len(first.in_ar)
    plan = materialized(result, "ar/push_plan")
    assert all(s["change"] == "void" for s in plan["void_samples"])
    assert len(plan["void_samples"]) == 10


def test_an_approved_plan_is_pushed_and_the_approval_is_recorded(
    refused: Refused, approved: Night
) -> None:
    result = approved.result
    assert result.success
    figures = check_metadata(result)
    assert figures["approved"] is True
    assert "max_void_share" in figures["limits_passed"]
    plan = materialized(result, "ar/push_plan")
    assert plan["approved"] is True
    assert plan["ledger_entries_sent"] == materialized(result, "ar/ledger_entries")["sent"]
    voided = [i for i, amount in approved.in_ar.items() if amount == 0 and refused.night.in_ar[i]]
    assert len(voided) == plan["ledger_entries_void"] > 0
    assert materialized(result, "reconciliation")["clean"] is True


def test_the_plans_predicted_statements_are_what_ar_shows_after_the_push(
    approved: Night,
) -> None:
    plan = materialized(approved.result, "ar/push_plan")
    after = materialized(approved.result, "reconciliation")
    totals = after["summary"]["totals"]  # AR's side, read back after the push
    counts = after["summary"]["counts"]

    assert plan["statements_billed_after"] == totals["ar_billed"]
    assert plan["statements_paid_after"] == totals["ar_paid"]
    assert plan["statements_outstanding_after"] == totals["ar_outstanding"]
    held_after = plan["statements_held_in_ar"] + plan["statements_created"]
    held_after -= plan["statements_removed"]
    assert held_after == counts["total"] - counts["zeroed_in_ar"]
    assert plan["statements_removed"] > 0  # the voids emptied some months


def test_the_plan_sits_between_normalization_and_the_push_in_every_practice_job(
    shared_pipeline: Pipeline,
) -> None:
    defs = definitions(shared_pipeline)
    graph = defs.resolve_asset_graph()
    assert {NORMALIZED_LEDGER, LOCAL_STATEMENTS} <= graph.get(PUSH_PLAN).parent_keys
    assert PUSH_PLAN in graph.get(PUSHED_CUSTOMERS).parent_keys
    assert PUSH_PLAN in graph.get(PUSHED_LEDGER).parent_keys
    assert graph.get(PUSH_PLAN).group_name == "push"
    materializable = {key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    for name in (NIGHTLY_JOB, WEEKLY_JOB):
        job = defs.resolve_job_def(name)
        selected = set(job.asset_layer.selected_asset_keys)
        health = {key for key in materializable if graph.get(key).group_name == "health"}
        assert selected == materializable - health, name


PRACTICE = """
[[practices]]
id = "P001"
ar_key_env = "AR_KEY"
source = "sqlite:///source.db"
"""


def limits_of(tmp_path: Path, text: str) -> PlanLimits:
    path = tmp_path / "practices.toml"
    path.write_text(text)
    return load_practices(path).get("P001").plan_limits()


def test_a_practice_without_limits_of_its_own_gets_the_defaults(tmp_path: Path) -> None:
    assert limits_of(tmp_path, PRACTICE) == PlanLimits(0.02, 0.05, None)


def test_limits_come_from_the_defaults_table_and_a_practice_overrides_them(
    tmp_path: Path,
) -> None:
    text = "[defaults]\nmax_void_share = 0.1\nmax_outstanding_change = 1500\n" + PRACTICE
    text += 'max_statement_removal_share = 0.2\nmax_outstanding_change = "2500.50"\n'

    limits = limits_of(tmp_path, text)

    assert limits == PlanLimits(0.1, 0.2, Decimal("2500.50"))
    assert isinstance(limits.max_outstanding_change, Decimal)


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("max_void_share = 2", "max_void_share: must be a number between 0 and 1"),
        ('max_statement_removal_share = "x"', "max_statement_removal_share: must be a number"),
        ("max_outstanding_change = -1", "max_outstanding_change: must be an amount of at least 0"),
        ('max_outstanding_change = "lots"', "max_outstanding_change: must be an amount"),
        (
            "max_outstanding_change = 10.005",
            "max_outstanding_change: must be an amount to the cent",
        ),
    ],
)
def test_a_limit_out_of_range_is_refused_in_one_line(tmp_path: Path, line: str, said: str) -> None:
    with pytest.raises(PracticeConfigError) as raised:
        limits_of(tmp_path, PRACTICE + line + "\n")

    assert said in str(raised.value)
    assert "\n" not in str(raised.value)
