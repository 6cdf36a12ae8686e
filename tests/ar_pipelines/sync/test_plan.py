"""The push plan on small frames: each record sent named new, changed, void or resent,
AR's statements compared with the local ones, the limits held at their boundaries; and
against a warehouse and the sandbox, a plan that names exactly what the push sends."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ar_pipelines.client import ARClient
from ar_pipelines.sync import push_ledger_entries
from ar_pipelines.sync.payloads import kind_spec, payload_hashes, records_frame
from ar_pipelines.sync.plan import (
    PlanLimits,
    PlannedKind,
    PushPlan,
    compare_statements,
    judge,
    plan_kind,
    plan_practice,
    write_plan_files,
)
from ar_pipelines.sync.state import DEAD_LETTER_COLUMNS, STATE_COLUMNS
from ar_pipelines.warehouse import DEAD_LETTER, LEDGER_ENTRIES, PUSH_STATE, Warehouse
from tests.ar_pipelines.sync.helpers import push_customers
from tests.ar_pipelines.warehouse.frames import customer_row, customers, ledger, ledger_row

LEDGER = kind_spec("ledger_entries")
# As the warehouse gives them back: naive, in UTC.
EARLIER = pd.Timestamp("2024-03-01")
LATER = pd.Timestamp("2024-03-02")


def landed_state(records: pd.DataFrame, result: str = "created") -> pd.DataFrame:
    """The push state after ``records`` were sent and each ended as ``result``."""
    frame = records_frame(records, LEDGER)
    return pd.DataFrame(
        {
            "external_id": frame["external_id"],
            "payload_hash": payload_hashes(frame, LEDGER),
            "last_result": result,
            "pushed_at": EARLIER,
            "customer_external_id": frame["customer_external_id"],
        }
    )[STATE_COLUMNS]


NO_DEAD = pd.DataFrame(columns=DEAD_LETTER_COLUMNS)
BEFORE = ledger(
    ledger_row("E1", "10.00"),
    ledger_row("E2", "20.00"),
    ledger_row("E3", "30.00"),
    ledger_row("E4", "0.00"),  # a void that already landed
)


def changes(planned: PlannedKind) -> dict[str, str]:
    return dict(zip(planned.records["external_id"], planned.records["change"], strict=True))


def test_a_first_push_sends_every_record_as_new_with_its_amounts() -> None:
    planned = plan_kind(BEFORE, landed_state(BEFORE.iloc[:0]), NO_DEAD, LEDGER)

    assert changes(planned) == dict.fromkeys(["E1", "E2", "E3", "E4"], "new")
    assert planned.amount("new") == Decimal("60.00")
    assert isinstance(planned.amount("new"), Decimal)


def test_each_record_sent_is_named_changed_void_or_new_and_unchanged_ones_are_not_sent() -> None:
    now = ledger(
        ledger_row("E1", "10.00"),  # unchanged
        ledger_row("E2", "25.00"),  # changed
        ledger_row("E3", "0.00"),  # voided: its source row disappeared
        ledger_row("E4", "0.00"),  # the void AR holds already
        ledger_row("E5", "5.00"),  # new
    )

    planned = plan_kind(now, landed_state(BEFORE), NO_DEAD, LEDGER)

    assert changes(planned) == {"E2": "changed", "E3": "void", "E5": "new"}
    assert (planned.sent, planned.considered) == (3, 5)
    assert (planned.amount("changed"), planned.amount("new")) == (Decimal("25.00"), Decimal("5.00"))
    assert planned.summary()["void"] == 1
    assert [s["external_id"] for s in planned.samples("void")] == ["E3"]


def test_a_full_repush_sends_unchanged_records_as_resent_not_as_voids() -> None:
    planned = plan_kind(BEFORE, landed_state(BEFORE), NO_DEAD, LEDGER, full=True)

    assert changes(planned) == dict.fromkeys(["E1", "E2", "E3", "E4"], "resent")


def test_a_record_that_never_landed_goes_again_as_new() -> None:
    planned = plan_kind(BEFORE.iloc[:1], landed_state(BEFORE.iloc[:1], "failed"), NO_DEAD, LEDGER)

    assert changes(planned) == {"E1": "new"}


def dead_letter(external_id: str, amount: str, failed_at: pd.Timestamp) -> dict[str, Any]:
    payload = f'{{"amount": "{amount}", "customer_external_id": "P1-C1", "external_id": '
    payload += f'"{external_id}", "transaction_date": "2024-01-15", "transaction_type": "charge"}}'
    return {
        "external_id": external_id,
        "payload": payload,
        "attempts": 1,
        "first_failed_at": failed_at,
        "last_failed_at": failed_at,
    }


def test_dead_letters_are_planned_as_the_push_retries_them_except_superseded_ones() -> None:
    # E2 failed after it last landed: owed. E3 landed after it failed: superseded.
    dead = pd.DataFrame(
        [dead_letter("E2", "20.00", LATER), dead_letter("E3", "30.00", pd.Timestamp("2024-02-01"))]
    )
    state = landed_state(BEFORE.iloc[:3])

    planned = plan_kind(BEFORE.iloc[:0], state, dead, LEDGER)

    assert changes(planned) == {"E2": "resent"}
    assert planned.from_dead_letter == 1


def statements(*rows: tuple[str, str, str]) -> pd.DataFrame:
    """Statements as the mart and ``ar.statements`` hold them: number, amount, paid."""
    return pd.DataFrame(
        [
            {
                "external_invoice_id": f"STMT-2024-0{number}-P1-C1",
                "customer_external_id": "P1-C1",
                "period_start": f"2024-0{number}-01",
                "amount": Decimal(amount),
                "paid_amount": Decimal(paid),
                "outstanding": Decimal(amount) - Decimal(paid),
            }
            for number, amount, paid in rows
        ]
    )


def test_statements_created_changed_removed_and_lowered_with_the_totals_moved() -> None:
    ar = statements(("1", "100.00", "40.00"), ("2", "50.00", "0.00"), ("3", "30.00", "0.00"))
    ar = pd.concat([ar, statements(("4", "0.00", "0.00"))])  # zeroed in AR already
    local = statements(("1", "100.00", "40.00"), ("2", "45.50", "0.00"), ("5", "12.00", "2.00"))

    plan = compare_statements(local, ar)

    assert (plan.held, plan.created, plan.changed, plan.removed, plan.lowered) == (3, 1, 1, 1, 1)
    assert plan.billed_change == Decimal("-22.50")  # 157.50 - 180.00
    assert plan.paid_change == Decimal("2.00")
    assert plan.outstanding_change == Decimal("-24.50")
    assert sorted(plan.rows["change"]) == ["changed", "created", "removed"]


def a_plan(*, voids: int, pushed: int, statement_plan: Any = None) -> PushPlan:
    """A plan of ``voids`` voids among ``pushed`` entries AR holds."""
    records = pd.DataFrame(
        {"external_id": [f"E{i}" for i in range(voids)], "amount": Decimal("0.00")}
    ).assign(change="void")
    return PushPlan(
        practice_id="P1",
        customers=PlannedKind("customers", pd.DataFrame(columns=["external_id", "change"])),
        ledger_entries=PlannedKind("ledger_entries", records),
        pushed_entries=pushed,
        statements=statement_plan,
    )


@pytest.mark.parametrize(("voids", "within"), [(2, True), (3, False)])
def test_voids_of_up_to_two_percent_of_the_entries_ar_holds_pass(voids: int, within: bool) -> None:
    breaches = judge(a_plan(voids=voids, pushed=100), PlanLimits())

    assert (not breaches) is within
    assert [b.limit for b in breaches] == ([] if within else ["max_void_share"])


@pytest.mark.parametrize(("removed", "within"), [(1, True), (2, False)])
def test_statements_removed_or_lowered_up_to_five_percent_of_ars_pass(
    removed: int, within: bool
) -> None:
    ar = pd.DataFrame(
        {
            "external_invoice_id": [f"STMT-2024-01-P1-C{n}" for n in range(20)],
            "amount": Decimal("10.00"),
            "paid_amount": Decimal("0.00"),
        }
    )
    plan = a_plan(voids=0, pushed=100, statement_plan=compare_statements(ar.iloc[removed:], ar))

    assert plan.statements is not None
    assert plan.statements.held == 20
    assert [b.limit for b in judge(plan, PlanLimits())] == (
        [] if within else ["max_statement_removal_share"]
    )


@pytest.mark.parametrize(("limit", "within"), [("24.50", True), ("24.49", False), (None, True)])
def test_the_outstanding_total_may_move_by_at_most_its_limit_either_way(
    limit: str | None, within: bool
) -> None:
    ar = statements(("1", "100.00", "40.00"), ("2", "50.00", "0.00"))
    local = statements(("1", "100.00", "40.00"), ("2", "25.50", "0.00"))
    plan = a_plan(voids=0, pushed=10, statement_plan=compare_statements(local, ar))
    limits = PlanLimits(
        max_statement_removal_share=1.0,
        max_outstanding_change=None if limit is None else Decimal(limit),
    )

    assert [b.limit for b in judge(plan, limits)] == ([] if within else ["max_outstanding_change"])


def test_a_first_push_passes_whatever_the_limits() -> None:
    local = statements(("1", "5000.00", "0.00"))
    plan = a_plan(voids=0, pushed=0, statement_plan=compare_statements(local, local.iloc[:0]))
    limits = PlanLimits(0.0, 0.0, Decimal("0.00"))

    assert plan.first_push
    assert judge(plan, limits) == []


def test_the_plan_files_list_every_record_sent_and_say_which_limit_was_passed(
    tmp_path: Path,
) -> None:
    plan = a_plan(voids=3, pushed=10)
    breaches = judge(plan, PlanLimits())

    files = write_plan_files(plan, tmp_path, breaches)

    assert files.csv == tmp_path / "plan_P1.csv"
    rows = files.csv.read_text().splitlines()
    assert rows[1:] == [f"ledger_entries,void,E{i},,,0.00," for i in range(3)]
    assert "3 of the 10 ledger entries AR holds would be voided" in files.html.read_text()


def test_a_plan_read_from_the_warehouse_names_exactly_what_the_push_then_sends(
    ar: ARClient, warehouse: Warehouse
) -> None:
    push_customers(ar, warehouse, "P1-C1")
    warehouse.upsert(LEDGER_ENTRIES, BEFORE.iloc[:3].assign(practice_id="P1"))
    push_ledger_entries(ar, warehouse, practice_id="P1")
    now = ledger(ledger_row("E2", "25.00"), ledger_row("E3", "0.00"), ledger_row("E5", "5.00"))
    warehouse.upsert(LEDGER_ENTRIES, now.assign(practice_id="P1"))
    state_before = warehouse.read(PUSH_STATE, practice_id="P1")

    plan = plan_practice(warehouse, practice_id="P1")
    report = push_ledger_entries(ar, warehouse, practice_id="P1")

    assert changes(plan.ledger_entries) == {"E2": "changed", "E3": "void", "E5": "new"}
    assert plan.ledger_entries.sent == report.counts.sent
    assert plan.pushed_entries == 3
    assert plan.customers.sent == 0  # the customer landed and did not change
    assert len(state_before) == 4  # the plan wrote nothing: the push did, afterwards
    assert warehouse.read(DEAD_LETTER, practice_id="P1").empty


def test_a_plan_counts_customers_changed_and_new() -> None:
    spec = kind_spec("customers")
    before = customers(customer_row("P1-C1"), customer_row("P1-C2"))
    frame = records_frame(before, spec)
    state = pd.DataFrame(
        {
            "external_id": frame["external_id"],
            "payload_hash": payload_hashes(frame, spec),
            "last_result": "updated",
            "pushed_at": EARLIER,
            "customer_external_id": None,
        }
    )
    now = customers(
        customer_row("P1-C1"), customer_row("P1-C2", email="new@example.com"), customer_row("C3")
    )

    planned = plan_kind(now, state, pd.DataFrame(columns=DEAD_LETTER_COLUMNS), spec)

    assert changes(planned) == {"P1-C2": "changed", "C3": "new"}
    assert "new_amount" not in planned.summary()
