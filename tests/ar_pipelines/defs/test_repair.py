"""Repairing what reconciliation explained: one practice pushed by a pipeline run, its
books changed in AR's database behind its back (an amount changed, an entry deleted,
an entry added under its prefix, an allocation changed; and an entry of another prefix
added to one of its customers), reconciled in full, then repaired by ``repair_ar``
twice. The ``auto_repair`` sensor is evaluated against the same instance."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest
from sqlalchemy import select

from ar_pipelines.client import ARClient
from ar_pipelines.defs.common import practice_partitions
from ar_pipelines.defs.practices import PracticeConfigError, PracticesConfig, load_practices
from ar_pipelines.defs.repair import (
    AUTO_REPAIR_SENSOR,
    REPAIR_JOB,
    auto_repair_sensor,
    repair_definitions,
)
from ar_pipelines.reconcile import explain
from ar_pipelines.reconcile.stored import stored_result
from ar_pipelines.reconcile.why import CAUSE_COLUMNS
from ar_pipelines.statements.dbt import practice_schema
from ar_pipelines.sync.payloads import KINDS, payload_hashes, records_frame
from ar_pipelines.sync.plan import PlanLimits
from ar_pipelines.sync.push import LEDGER_COLUMNS
from ar_pipelines.sync.repair import NOT_OURS, apply_repair, guard, plan_repair
from ar_pipelines.warehouse import LEDGER_ENTRIES, PUSH_STATE, open_warehouse
from ar_sandbox.models import Customer, LedgerEntry
from tests.ar_pipelines.defs.conftest import (  # noqa: F401 - the module's pipeline
    Pipeline,
    check_passed,
    shared_pipeline,
)
from tests.ar_pipelines.reconcile.test_why import EXTRA, FULL, PRACTICE, Changes, change_ar

# An entry of another prefix in the practice's company, on a customer the repair voids for.
FOREIGN = "OTHER-PRACTICE-1"


@dataclass(frozen=True)
class Repaired:
    changes: Changes
    strict: dict[str, Any]  # the guard's verdict on the repair under strict limits
    first: dict[str, Any]
    second: dict[str, Any]
    ar_before_second: list[tuple[Any, ...]]
    ar_after_second: list[tuple[Any, ...]]
    foreign_before: tuple[Any, ...]


def repair_definitions_of(pipeline: Pipeline, config: PracticesConfig) -> dg.Definitions:
    """The code location with the repair's definitions (merged here when the code
    location does not hold them yet)."""
    built = pipeline.definitions()
    if any(job.name == REPAIR_JOB for job in built.jobs or []):
        return built
    return dg.Definitions.merge(built, repair_definitions(practice_partitions(config), config))


def run_repair(pipeline: Pipeline) -> dg.ExecuteInProcessResult:
    job = repair_definitions_of(pipeline, pipeline.config).resolve_job_def(REPAIR_JOB)
    return job.execute_in_process(partition_key=PRACTICE, instance=pipeline.instance)


def repair_output(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    value = result.output_for_node("repair_practice")
    assert isinstance(value, dict)
    return value


def ar_entries(pipeline: Pipeline) -> list[tuple[Any, ...]]:
    """Every live entry of the practice's company in AR, with when it last changed."""
    company = pipeline.companies[PRACTICE]["company_id"]
    with pipeline.sandbox.database.session() as session:
        rows = session.execute(
            select(LedgerEntry)
            .where(LedgerEntry.company_id == company, LedgerEntry.mode == "live")
            .order_by(LedgerEntry.external_id)
        ).scalars()
        return [
            (
                e.external_id,
                e.customer_id,
                e.transaction_date,
                e.transaction_type,
                Decimal(e.amount),
                e.updated_at,
            )
            for e in rows
        ]


def add_foreign_entry(pipeline: Pipeline, customer: str, month: date) -> None:
    """An entry of another prefix, at amount 0 (it moves no statement), on ``customer``
    in ``month``."""
    company = pipeline.companies[PRACTICE]["company_id"]
    with pipeline.sandbox.database.session() as session:
        customer_id = session.execute(
            select(Customer.id).where(
                Customer.company_id == company,
                Customer.mode == "live",
                Customer.external_id == customer,
            )
        ).scalar_one()
        session.add(
            LedgerEntry(
                company_id=company,
                mode="live",
                customer_id=customer_id,
                external_id=FOREIGN,
                transaction_date=month.replace(day=15),
                transaction_type="charge",
                amount=Decimal("0.00"),
            )
        )


def strict_verdict(pipeline: Pipeline) -> dict[str, Any]:
    """The repair planned directly and held against limits that allow no void: not sent."""
    key = pipeline.companies[PRACTICE]["live_key"]
    with (
        open_warehouse(pipeline.warehouse_url) as store,
        ARClient(base_url=pipeline.sandbox.base_url, api_key=key) as client,
    ):
        causes = explain(
            client,
            store,
            practice_id=PRACTICE,
            local_schema=practice_schema(pipeline.config.get(PRACTICE), store.schema_prefix),
            differing=stored_result(store, PRACTICE).differing(),
        )
        plan = plan_repair(client, store, practice_id=PRACTICE, causes=causes.rows)
        strict = PlanLimits(max_void_share=0.0)
        outcome = apply_repair(client, store, plan, limits=strict, approved=False)
        return {
            "breaches": [b.limit for b in guard(store, plan, strict)],
            "sent": outcome.sent,
            "voids": plan.voids,
        }


@pytest.fixture(scope="module")
def repaired(shared_pipeline: Pipeline) -> Repaired:  # noqa: F811
    first = shared_pipeline.run(PRACTICE)
    assert check_passed(first, "reconciliation_clean") == {"reconciliation": True}
    changes = change_ar(shared_pipeline)
    add_foreign_entry(shared_pipeline, changes.extra_customer, changes.extra_month)
    reconciled = shared_pipeline.run(PRACTICE, run_config=FULL, raise_on_error=False)
    assert check_passed(reconciled, "reconciliation_clean") == {"reconciliation": False}
    strict = strict_verdict(shared_pipeline)
    foreign_before = next(e for e in ar_entries(shared_pipeline) if e[0] == FOREIGN)
    once = repair_output(run_repair(shared_pipeline))
    before_second = ar_entries(shared_pipeline)
    twice = repair_output(run_repair(shared_pipeline))
    return Repaired(
        changes,
        strict,
        once,
        twice,
        before_second,
        ar_entries(shared_pipeline),
        foreign_before,
    )


def test_the_repair_pushes_again_the_changed_and_deleted_entries_and_voids_the_extra_one(
    repaired: Repaired,
) -> None:
    entries = repaired.first["entries"]

    assert entries["entry_differs"] == [repaired.changes.changed_entry]
    assert entries["entry_missing_in_ar"] == [repaired.changes.deleted_entry]
    assert entries["entry_extra_in_ar"] == [EXTRA]
    assert repaired.first["sent"] is True


def test_after_the_repair_ar_holds_the_local_amounts_and_the_extra_entry_at_zero(
    shared_pipeline: Pipeline,  # noqa: F811
    repaired: Repaired,
) -> None:
    changes = repaired.changes
    held = {e[0]: e for e in repaired.ar_before_second}

    assert held[changes.changed_entry][4] == changes.changed_from
    assert held[changes.deleted_entry][4] == changes.deleted_amount
    assert held[EXTRA][4] == Decimal("0.00")


def test_only_the_allocation_is_left_and_it_is_refused_with_its_reason(
    repaired: Repaired,
) -> None:
    after = repaired.first["after"]
    refused = repaired.first["refused"]

    assert after["clean"] is False
    assert after["counts"]["paid_mismatch"] == 1
    assert after["counts"]["amount_mismatch"] == 0
    assert after["counts"]["missing_in_ar"] == 0
    assert {cause for cause, n in after["causes"].items() if n} == {
        "same_entries_different_allocation"
    }
    assert {(r["statement"], r["cause"]) for r in refused} == {
        (repaired.changes.allocated_statement, "same_entries_different_allocation")
    }
    assert "AR allocates a payment" in refused[0]["reason"]


def test_an_entry_of_another_prefix_is_left_as_it_was(repaired: Repaired) -> None:
    held = {e[0]: e for e in repaired.ar_after_second}

    assert held[FOREIGN] == repaired.foreign_before
    assert FOREIGN not in {e for ids in repaired.first["entries"].values() for e in ids}


def test_an_entry_of_another_prefix_named_as_extra_is_refused_and_never_planned(
    shared_pipeline: Pipeline,  # noqa: F811
    repaired: Repaired,
) -> None:
    changes = repaired.changes
    statement = f"STMT-{changes.extra_month:%Y-%m}-{changes.extra_customer}"
    causes = pd.DataFrame(
        [[statement, "amount_mismatch", "entry_extra_in_ar", FOREIGN, None, None, Decimal(0)]],
        columns=list(CAUSE_COLUMNS),
    )
    key = shared_pipeline.companies[PRACTICE]["live_key"]
    with (
        open_warehouse(shared_pipeline.warehouse_url) as store,
        ARClient(base_url=shared_pipeline.sandbox.base_url, api_key=key) as client,
    ):
        plan = plan_repair(client, store, practice_id=PRACTICE, causes=causes)

    assert plan.empty
    assert [(r.entry_external_id, r.reason) for r in plan.refused] == [
        (FOREIGN, NOT_OURS.format(prefix=f"{PRACTICE}-"))
    ]


def test_voids_over_the_limit_are_refused_by_the_guard_unless_approved(
    repaired: Repaired,
) -> None:
    assert repaired.strict == {"breaches": ["max_void_share"], "sent": False, "voids": 1}


def test_the_push_state_holds_what_the_repair_sent_so_the_nightly_push_sends_nothing_again(
    shared_pipeline: Pipeline,  # noqa: F811
    repaired: Repaired,
) -> None:
    changed = repaired.changes.changed_entry
    with open_warehouse(shared_pipeline.warehouse_url) as store:
        state = store.read(PUSH_STATE, practice_id=PRACTICE, where={"kind": "ledger_entries"})
        local = store.read_in(
            LEDGER_ENTRIES,
            practice_id=PRACTICE,
            column="external_id",
            values=[changed],
            columns=list(LEDGER_COLUMNS),
        )
    spec = KINDS["ledger_entries"]
    rows = state.set_index("external_id")

    assert rows.loc[changed, "payload_hash"] == payload_hashes(records_frame(local, spec), spec)[0]
    assert rows.loc[EXTRA, "last_result"] in ("created", "updated")
    assert FOREIGN not in rows.index


def test_a_second_repair_finds_nothing_to_repair_and_changes_nothing(
    repaired: Repaired,
) -> None:
    second = repaired.second

    assert second["sent"] is False
    assert second["repaired"] == {
        "entry_missing_in_ar": 0,
        "entry_differs": 0,
        "entry_extra_in_ar": 0,
    }
    assert repaired.ar_after_second == repaired.ar_before_second
    assert second["after"] == repaired.first["after"]


def with_auto_repair(config: PracticesConfig, practice_id: str) -> PracticesConfig:
    practices = tuple(replace(p, auto_repair=p.id == practice_id) for p in config.practices)
    return replace(config, practices=practices)


def auto_repair_tick(pipeline: Pipeline, config: PracticesConfig) -> Any:
    sensor = auto_repair_sensor(config)
    assert sensor.name == AUTO_REPAIR_SENSOR
    return sensor(dg.build_sensor_context(instance=pipeline.instance))


def test_auto_repair_requests_one_repair_for_a_practice_that_set_it_after_a_reconciliation_with_repairable_causes(  # noqa: E501
    shared_pipeline: Pipeline,  # noqa: F811
    repaired: Repaired,
) -> None:
    tick = auto_repair_tick(shared_pipeline, with_auto_repair(shared_pipeline.config, PRACTICE))

    assert isinstance(tick, dg.SensorResult)
    [request] = tick.run_requests or []
    assert request.partition_key == PRACTICE
    assert str(request.run_key).startswith(f"{REPAIR_JOB}:{PRACTICE}:")


def test_auto_repair_requests_nothing_for_a_practice_that_did_not_set_it(
    shared_pipeline: Pipeline,  # noqa: F811
    repaired: Repaired,
) -> None:
    tick = auto_repair_tick(shared_pipeline, with_auto_repair(shared_pipeline.config, "P002"))

    assert isinstance(tick, dg.SkipReason)


def test_auto_repair_is_off_unless_a_practice_sets_it_and_must_be_true_or_false(
    tmp_path: Path,
) -> None:
    practice = '[[practices]]\nid = "P001"\nar_key_env = "AR_KEY"\nsource = "sqlite:///s.db"\n'
    path = tmp_path / "practices.toml"

    path.write_text(practice)
    assert load_practices(path).get("P001").auto_repair is False
    path.write_text(practice + "auto_repair = true\n")
    assert load_practices(path).get("P001").auto_repair is True
    path.write_text(practice + 'auto_repair = "yes"\n')
    with pytest.raises(PracticeConfigError, match="practice P001: auto_repair: must be true"):
        load_practices(path)
