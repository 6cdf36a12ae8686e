"""``ar-pipelines demo``: the whole graph for the demo practices, then again incrementally."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import httpx
import pytest

from ar_pipelines.cli.demo import DemoSize, _outcome, print_summary, run_demo
from ar_pipelines.client import ApiConnectionError, PushIncompleteError, PushReport
from ar_pipelines.defs.common import PUSHED_LEDGER, retried_when_transient


def summary_rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        cells = line.split()
        if cells and cells[0] in ("P001", "P002") and len(cells) >= 7:
            rows[cells[0]] = cells[1:]
    return rows


def test_the_demo_syncs_every_practice_clean_and_a_second_run_pushes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    size = DemoSize(patients=25, months=4)
    assert run_demo(tmp_path / "demo", tmp_path / "reports", size=size, show_progress=False) == 0
    first = capsys.readouterr().out
    rows = summary_rows(first)
    assert set(rows) == {"P001", "P002"}
    for cells in rows.values():
        transactions, _quarantined, customers, entries, statements, verdict = cells[:6]
        assert int(transactions.replace(",", "")) > 0
        assert int(customers.replace(",", "")) > 0
        assert int(entries.replace(",", "")) > 0
        assert int(statements.replace(",", "")) > 0
        assert verdict == "clean"
    for practice in ("P001", "P002"):
        assert str(tmp_path / "reports" / f"reconciliation_{practice}.html") in first
        assert (tmp_path / "reports" / f"reconciliation_{practice}.csv").exists()

    assert run_demo(tmp_path / "demo", tmp_path / "reports", size=size, show_progress=False) == 0
    again = summary_rows(capsys.readouterr().out)
    for cells in again.values():
        _transactions, _quarantined, customers, entries, _statements, verdict = cells[:6]
        assert (customers, entries, verdict) == ("0", "0", "clean")
    keys = tmp_path / "demo" / "keys.json"
    assert keys.stat().st_mode & 0o077 == 0  # the demo's keys are the owner's only


def test_a_demo_source_of_an_earlier_shape_is_told_from_one_in_sikkas_shape(
    tmp_path: Path,
) -> None:
    from datetime import date

    from sqlalchemy import create_engine, text

    from ar_demo.generate import generate
    from ar_pipelines.cli.demo import _in_sikkas_shape

    earlier = tmp_path / "earlier.db"
    engine = create_engine(f"sqlite:///{earlier}")
    with engine.begin() as connection:
        connection.execute(text("create table transactions (row_id integer, loaded_date text)"))
    engine.dispose()
    current = tmp_path / "current.db"
    generate(
        f"sqlite:///{current}", practices=1, patients=3, months=1, seed=1, end=date(2024, 1, 31)
    )

    assert not _in_sikkas_shape(earlier)
    assert _in_sikkas_shape(current)


def test_a_failed_runs_summary_line_names_the_practice_step_and_innermost_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = "POST /ledgers/bulk: [Errno 111] Connection refused after 7 attempts"

    # ``context`` unannotated: Dagster cannot resolve this module's string annotations.
    @dg.asset(key=PUSHED_LEDGER)
    def ledger_push(context) -> None:  # type: ignore[no-untyped-def]
        """A push that AR never answers: retried, then failed with Dagster's own message."""
        with retried_when_transient(context):
            try:
                raise ApiConnectionError(
                    "[Errno 111] Connection refused after 7 attempts",
                    method="POST",
                    path="/ledgers/bulk",
                    request_id=None,
                ) from httpx.ConnectError("[Errno 111] Connection refused")
            except ApiConnectionError as stop:
                report = PushReport(kind="ledger_entries", total=40)
                raise PushIncompleteError(f"40 of 40 were not sent: {stop}", report) from stop

    monkeypatch.setenv("AR_RETRY_SECONDS", "0")
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([ledger_push], instance=instance, raise_on_error=False)
    failure = next(e for e in result.all_events if e.is_step_failure)
    error = failure.event_specific_data.error  # type: ignore[union-attr]
    assert error.message.startswith("Exceeded max_retries")  # what the line used to show

    outcome = _outcome("P001", result)
    print_summary([outcome], tmp_path)

    line = f"practice P001: step ar__ledger_entries: {refused}"
    assert outcome.error == line
    printed = capsys.readouterr().out
    assert line in printed
    assert "max_retries" not in printed
