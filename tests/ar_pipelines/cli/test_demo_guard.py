"""The demo's switches: a source that lost a third of a practice's rows is refused (exit
status 4, nothing pushed) until ``--approve-plan`` pushes it; an entry changed in AR
behind the pipeline's back is found by ``--full-reconciliation`` and repaired by
``--repair``. Four demo runs of one small practice, shared by the module's tests."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from ar_pipelines.cli.demo import REFUSED_STATUS, DemoPaths, DemoSize, run_demo
from ar_sandbox.access import Principal
from ar_sandbox.db import Database
from ar_sandbox.models import LedgerEntry
from ar_sandbox.services.aggregation import reaggregate

SIZE = DemoSize(practices=1, patients=25, months=4)
LOST_SHARE = 0.3


@dataclass(frozen=True)
class Demos:
    first: tuple[str, int]
    refused: tuple[str, int]
    approved: tuple[str, int]
    repaired: tuple[str, int]


def _demo(root: Path, reports: Path, **switches: bool) -> tuple[str, int]:
    with redirect_stdout(io.StringIO()) as out:
        status = run_demo(root, reports, size=SIZE, show_progress=False, **switches)
    return out.getvalue(), status


def _lose_rows(source: Path, share: float) -> int:
    """Deletes ``share`` of the practice's transaction rows from the demo's source."""
    engine = create_engine(f"sqlite:///{source}")
    with engine.begin() as connection:
        ids = connection.execute(text("select _row_id from transactions order by _row_id")).all()
        lost = ids[: int(len(ids) * share)]
        connection.execute(
            text("delete from transactions where _row_id = :id"), [{"id": i[0]} for i in lost]
        )
    engine.dispose()
    return len(lost)


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> Demos:
    tmp_path = tmp_path_factory.mktemp("demo_guard")
    root, reports = tmp_path / "demo", tmp_path / "reports"
    first = _demo(root, reports)
    assert _lose_rows(DemoPaths(root).source, LOST_SHARE) > 0
    # The weekly job's work scans the source for rows deleted without a trace.
    refused = _demo(root, reports, full_reconciliation=True)
    approved = _demo(root, reports, full_reconciliation=True, approve_plan=True)
    _change_an_entry_in_ar(DemoPaths(root))
    repaired = _demo(root, reports, full_reconciliation=True, repair=True)
    return Demos(first, refused, approved, repaired)


def _change_an_entry_in_ar(paths: DemoPaths) -> None:
    """Five dollars more on one of P001's charges in AR, its statements aggregated again,
    as if AR had been edited behind the pipeline's back."""
    company = json.loads(paths.keys.read_text())["P001"]["company_id"]
    database = Database(f"sqlite:///{paths.sandbox}")
    with database.session() as session:
        entry = (
            session.execute(
                select(LedgerEntry)
                .where(LedgerEntry.company_id == company, LedgerEntry.mode == "live")
                .where(LedgerEntry.transaction_type == "charge", LedgerEntry.amount > 0)
                .order_by(LedgerEntry.external_id)
            )
            .scalars()
            .first()
        )
        assert entry is not None
        entry.amount += Decimal(5)
        session.flush()
        reaggregate(session, Principal("tests", company, "live", frozenset()), [entry.customer_id])
    database.engine.dispose()


def test_a_first_demo_passes_the_guard_and_ends_clean(demos: Demos) -> None:
    printed, status = demos.first
    assert status == 0
    assert "REFUSED" not in printed


def test_a_plan_the_guard_refuses_exits_4_says_so_and_sends_nothing(demos: Demos) -> None:
    printed, status = demos.refused
    assert status == REFUSED_STATUS == 4
    assert "P001      push REFUSED by the guard: nothing was sent" in printed
    assert "run again with --approve-plan" in printed
    assert "  P001  ar__ledger_entries" not in printed  # the push never ran


def test_approve_plan_pushes_the_refused_plan_and_the_practice_ends_clean(demos: Demos) -> None:
    printed, status = demos.approved
    assert status == 0
    assert "REFUSED" not in printed
    assert "  P001  ar__ledger_entries" in printed


def test_repair_mends_an_entry_changed_in_ar_and_the_practice_ends_clean(demos: Demos) -> None:
    printed, status = demos.repaired
    assert status == 0
    assert (
        "  P001  repair_ar  repaired 1 entry_differs; refused 0; reconciliation after: clean"
        in (printed)
    )
    assert "clean after repair_ar" in printed
