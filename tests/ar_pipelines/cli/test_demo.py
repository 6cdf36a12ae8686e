"""``ar-pipelines demo``: the whole graph for the demo practices, then again incrementally."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import httpx
import pytest

from ar_pipelines.cli.demo import (
    DemoPaths,
    DemoSize,
    PracticeOutcome,
    _outcome,
    dev_lines,
    print_summary,
    run_demo,
)
from ar_pipelines.cli.progress import LOGGER, RunProgress, run_logger
from ar_pipelines.client import ApiConnectionError, PushIncompleteError, PushReport
from ar_pipelines.defs.common import PUSHED_LEDGER, retried_when_transient


def summary_rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        cells = line.split()
        if cells and cells[0] in ("P001", "P002") and len(cells) >= 7:
            rows[cells[0]] = cells[1:]
    return rows


@dataclass(frozen=True)
class DemoRuns:
    """Two demo runs on one directory: what each printed and returned."""

    root: Path
    reports: Path
    first: str
    first_status: int
    again: str
    again_status: int


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> DemoRuns:
    """The demo run twice (the second incremental), shared by this module's tests."""
    tmp_path = tmp_path_factory.mktemp("demo")
    root, reports = tmp_path / "demo", tmp_path / "reports"
    size = DemoSize(patients=25, months=4)
    printed = []
    for _ in range(2):
        with redirect_stdout(io.StringIO()) as out:
            status = run_demo(root, reports, size=size, show_progress=False)
        printed.append((out.getvalue(), status))
    (first, first_status), (again, again_status) = printed
    return DemoRuns(root, reports, first, first_status, again, again_status)


def test_the_demo_syncs_every_practice_clean_and_a_second_run_pushes_nothing(
    demo_runs: DemoRuns,
) -> None:
    assert demo_runs.first_status == 0
    first = demo_runs.first
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
        assert str(demo_runs.reports / f"reconciliation_{practice}.html") in first
        assert (demo_runs.reports / f"reconciliation_{practice}.csv").exists()

    assert demo_runs.again_status == 0
    again = summary_rows(demo_runs.again)
    assert set(again) == {"P001", "P002"}
    for cells in again.values():
        _transactions, _quarantined, customers, entries, _statements, verdict = cells[:6]
        assert (customers, entries, verdict) == ("0", "0", "clean")
    page = demo_runs.reports / "practices.html"
    assert f"how each practice stands: {page}" in first
    assert "P001" in page.read_text(encoding="utf-8")
    assert "P002" in page.read_text(encoding="utf-8")
    keys = demo_runs.root / "keys.json"
    assert keys.stat().st_mode & 0o077 == 0  # the demo's keys are the owner's only


def steps_of_the_runs(root: Path) -> dict[str, set[str]]:
    """The steps of every run the demo's Dagster instance recorded, by practice."""
    steps: dict[str, set[str]] = {}
    with dg.DagsterInstance.from_config(str(root / "dagster_home")) as instance:
        for run in instance.get_runs():
            if "dagster/partition" not in run.tags:
                continue  # the health page's run, over every practice
            practice = run.tags["dagster/partition"]
            stats = instance.get_run_step_stats(run.run_id)
            steps.setdefault(practice, set()).update(stat.step_key for stat in stats)
    return steps


def step_lines(output: str) -> dict[tuple[str, str], str]:
    """The demo's lines of a step that ended, by practice and step: what follows the seconds."""
    found = {}
    for line in output.splitlines():
        matched = re.fullmatch(r"  (P\d{3}) +(\S+) +\d+\.\d s(?:  (.*))?", line)
        if matched:
            found[(matched[1], matched[2])] = matched[3] or ""
    return found


def test_the_demo_prints_a_line_with_its_seconds_and_counts_as_each_step_ends(
    demo_runs: DemoRuns,
) -> None:
    steps = steps_of_the_runs(demo_runs.root)
    assert set(steps) == {"P001", "P002"}
    for output in (demo_runs.first, demo_runs.again):
        lines = step_lines(output)
        for practice, keys in steps.items():
            assert len(keys) >= 8
            assert {key for p, key in lines if p == practice} == keys
        # Each line comes before the summary, in the order the steps ended.
        assert output.index("  P002  reconciliation") < output.index("practice  transactions")
    first = step_lines(demo_runs.first)
    for practice in ("P001", "P002"):
        assert re.search(r"ledger entries [1-9][\d,]*", first[(practice, "normalized")])
        assert "transactions quarantined" in first[(practice, "normalized")]
        pushed = first[(practice, "ar__ledger_entries")]
        assert re.search(r"sent [1-9][\d,]*, created [1-9][\d,]*, updated 0, failed 0", pushed)
        assert re.fullmatch(
            r"matched [1-9][\d,]*, mismatched 0", first[(practice, "reconciliation")]
        )
        assert re.fullmatch(
            r"models built \d+, tests passed (\d+) of \1", first[(practice, "statement_models")]
        )
    again = step_lines(demo_runs.again)
    assert again[("P001", "ar__ledger_entries")].startswith("sent 0,")


def test_runs_log_holds_each_runs_dagster_lines_and_dbts_output_in_plain_text(
    demo_runs: DemoRuns,
) -> None:
    log = (demo_runs.root / "runs.log").read_text(encoding="utf-8")
    assert "\x1b" not in log
    headers = re.findall(
        r"^=== practice (P\d{3}), run ([0-9a-f-]{36}), \d{4}-\d\d-\d\d .*===$", log, re.M
    )
    # Appended: the two demo runs' sections, each practice's run under its own header.
    assert [practice for practice, _ in headers] == ["P001", "P002", "P001", "P002"]
    with dg.DagsterInstance.from_config(str(demo_runs.root / "dagster_home")) as instance:
        practice_runs = {r.run_id for r in instance.get_runs() if "dagster/partition" in r.tags}
        assert practice_runs == {run_id for _, run_id in headers}
    sections = re.split(r"^=== practice .*===$", log, flags=re.M)[1:]
    for (practice, _run_id), section in zip(headers, sections, strict=True):
        for step in ("raw__patients", "normalized", "statement_models", "reconciliation"):
            assert f"  {practice}  {step}  STEP_START  " in section
            assert f"  {practice}  {step}  STEP_SUCCESS  " in section
        assert f"  {practice}  run  RUN_SUCCESS  " in section
        assert f"  {practice}  reconciliation  ASSET_MATERIALIZATION  " in section
        assert "Running with dbt=" in section  # dbt's own output, between the steps' lines


def test_make_dev_prints_where_the_demo_keys_are_but_not_the_keys(tmp_path: Path) -> None:
    paths = DemoPaths(tmp_path)
    key = "ar_live_key_that_must_stay_in_its_file"
    paths.keys.write_text(json.dumps({"P001": {"live_key": key, "sa_campaign_id": "c1"}}))

    lines = dev_lines(paths, "http://127.0.0.1:8080", 3000)

    printed = "\n".join(lines)
    assert any(str(paths.keys) in line and "keys" in line for line in lines)
    assert "http://127.0.0.1:8080/docs" in printed
    assert "http://127.0.0.1:3000" in printed
    assert key not in printed
    assert "c1" not in printed


def test_a_failed_step_prints_its_name_and_failed_with_its_cause() -> None:
    @dg.asset
    def refused_push() -> None:
        raise RuntimeError("AR refused the push")

    terminal, log = io.StringIO(), io.StringIO()
    progress = RunProgress(terminal=terminal, log=log)
    definitions = dg.Definitions(
        assets=[refused_push],
        jobs=[dg.define_asset_job("push")],
        loggers={LOGGER: run_logger(progress)},
    )
    job = definitions.resolve_job_def("push")
    with dg.DagsterInstance.ephemeral() as instance:
        run_id = progress.start_run("P001")
        result = job.execute_in_process(
            instance=instance,
            run_id=run_id,
            raise_on_error=False,
            run_config={"loggers": {LOGGER: {}}},
        )

    assert not result.success
    lines = step_lines(terminal.getvalue())
    assert lines == {("P001", "refused_push"): "FAILED: AR refused the push"}
    assert f"=== practice P001, run {run_id}, " in log.getvalue()
    assert "  P001  refused_push  STEP_FAILURE ERROR  " in log.getvalue()


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


def test_the_summary_of_a_run_failed_by_its_unclean_reconciliation_says_how_it_is_not_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = PracticeOutcome(
        "P001",
        success=False,
        metadata={
            "reconciliation": {"clean": False, "amount_mismatch": 2, "matched": 40},
        },
        checks={"reconciliation:reconciliation_clean": False},
        error="practice P001: step reconciliation: check reconciliation_clean failed",
    )

    print_summary([outcome], tmp_path)

    printed = capsys.readouterr().out
    assert "run FAILED" not in printed
    assert "NOT clean: 2 amount_mismatch" in printed
