"""``ar-pipelines demo``: the whole nightly sync of the demo practices, on this machine.

On first use it generates a Sikka-shaped source (2 practices, 2,500 patients each, 24
months, 1% defective rows) and an AR sandbox database with one company per practice,
keeping their keys beside it. Then, each time: the sandbox is served on a free loopback
port, every asset of the graph is materialized for each practice (one Dagster run per
partition, recorded in the demo's own Dagster instance) with a line printed as each step
ends, a summary is printed with the reports' paths, and the sandbox is stopped. The runs'
logs, in plain text, are appended to ``runs.log`` in the demo's directory. A second run
is incremental: the cursor and push state are in the warehouse, so it pushes nothing new.
The exit status is 0 when every practice ends clean, 4 when the guard refused a
practice's push plan (``--approve-plan`` pushes it anyway), 1 otherwise.

``ar-pipelines dev`` makes the same source, sandbox and Dagster home, then serves the
Dagster UI on them.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from collections.abc import Mapping, Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ar_pipelines._environment import environment_set
from ar_pipelines.health import PAGE_NAME

DEMO_PRACTICES = ("P001", "P002")
DEMO_PATIENTS = 2_500
DEMO_MONTHS = 24
DEMO_SEED = 20_241_121
DEMO_DEFECT_RATE = 0.01
# The push plan and its guard's check (``defs.plan``), as the outcome names them.
PLAN = "ar/push_plan"
GUARD_CHECK = f"{PLAN}:plan_within_limits"
PLAN_STEP = "ar__push_plan"
# The exit status when a guard refused a plan: approve it with --approve-plan.
REFUSED_STATUS = 4
LOCAL_INSTANCE = Path(__file__).resolve().parents[2] / "deploy" / "dagster.local.yaml"


def add_demo_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="materialize the whole Dagster graph for the demo practices against a local sandbox",
    )
    demo.add_argument("--out", default="data/demo", help="the demo's files (default data/demo)")
    demo.add_argument(
        "--reports", default="data/reports", help="reconciliation reports (default data/reports)"
    )
    demo.add_argument(
        "--full-reconciliation",
        action="store_true",
        help="run what the weekly job runs: the full deletion scan, every local statement "
        "rebuilt, every statement in AR read back and reconciled",
    )
    demo.add_argument(
        "--repair",
        action="store_true",
        help="run repair_ar for each practice whose reconciliation found repairable causes, "
        "then reconcile again",
    )
    demo.add_argument(
        "--approve-plan",
        action="store_true",
        help="push a plan the guard refused (too many voids or statements removed) anyway",
    )
    demo.set_defaults(run=run_demo_command)
    dev = commands.add_parser(
        "dev", help="the Dagster UI on the demo's code location, with the sandbox beside it"
    )
    dev.add_argument("--out", default="data/demo", help="the demo's files (default data/demo)")
    dev.add_argument("--reports", default="data/reports")
    dev.add_argument("--port", type=int, default=3000, help="the UI's port (default 3000)")
    dev.add_argument("--sandbox-port", type=int, default=8080, help="the sandbox's (default 8080)")
    dev.set_defaults(run=run_dev_command)


def run_demo_command(args: argparse.Namespace) -> int:
    return run_demo(
        Path(args.out),
        Path(args.reports),
        show_progress=sys.stderr.isatty(),
        full_reconciliation=args.full_reconciliation,
        approve_plan=args.approve_plan,
        repair=args.repair,
    )


def run_dev_command(args: argparse.Namespace) -> int:
    return run_dev(
        Path(args.out), Path(args.reports), sandbox_port=args.sandbox_port, ui_port=args.port
    )


@dataclass(frozen=True)
class DemoSize:
    """The generated source: practices, patients per practice and months of history."""

    patients: int = DEMO_PATIENTS
    months: int = DEMO_MONTHS
    practices: int = len(DEMO_PRACTICES)

    @property
    def practice_ids(self) -> tuple[str, ...]:
        return tuple(f"P{number:03d}" for number in range(1, self.practices + 1))


class _File:
    """One of the demo's files, by its name under the demo's root."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, paths: DemoPaths, owner: type[DemoPaths]) -> Path:
        return paths.root / self.name


@dataclass(frozen=True)
class DemoPaths:
    root: Path

    source = _File("source.db")
    sandbox = _File("ar_sandbox.db")
    keys = _File("keys.json")
    practices = _File("practices.toml")
    warehouse = _File("warehouse.duckdb")
    dagster_home = _File("dagster_home")


@dataclass
class PracticeOutcome:
    practice_id: str
    success: bool
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    error: str | None = None
    # What ``repair_ar`` did after the run (``--repair``): its output, with ``after``.
    repaired: dict[str, Any] | None = None

    def value(self, asset: str, name: str, default: Any = 0) -> Any:
        return self.metadata.get(asset, {}).get(name, default)

    @property
    def clean(self) -> bool:
        if self.repaired is not None:  # the reconciliation after the repair decides
            return self.repaired.get("after", {}).get("clean") is True
        return self.success and self.value("reconciliation", "clean", False) is True

    @property
    def repairable(self) -> bool:
        """The run reconciled, not clean, with causes ``repair_ar`` acts on."""
        from ar_pipelines.defs.repair import repairable

        causes = self.value("reconciliation", "causes", {})
        return self.value("reconciliation", "clean", True) is False and (
            isinstance(causes, dict) and repairable(causes) > 0
        )

    @property
    def refused(self) -> bool:
        """The guard refused the practice's push plan, and nothing was pushed."""
        return self.checks.get(GUARD_CHECK) is False and not self.value(PLAN, "approved", False)


def prepare(
    paths: DemoPaths, *, size: DemoSize = DemoSize(), show_progress: bool = True
) -> dict[str, dict[str, Any]]:
    """The source, the sandbox's companies and the practices file, made once and kept."""
    from ar_demo.generate_cli import generate_source
    from ar_pipelines.local_sandbox import bootstrap_company

    paths.root.mkdir(parents=True, exist_ok=True)
    if paths.source.exists() and not _in_sikkas_shape(paths.source):
        print("the demo source predates Sikka's shape: starting the demo afresh ...")
        for old in (paths.source, paths.warehouse, paths.sandbox, paths.keys):
            old.unlink(missing_ok=True)
    if not paths.source.exists():
        print(f"generating the demo source at {paths.source} ...")
        generate_source(
            f"sqlite:///{paths.source}",
            practices=size.practices,
            patients=size.patients,
            months=size.months,
            seed=DEMO_SEED,
            defect_rate=DEMO_DEFECT_RATE,
            end=None,
            show_progress=show_progress,
        )
    companies: dict[str, dict[str, Any]] = {}
    if paths.keys.exists() and paths.sandbox.exists():
        companies = json.loads(paths.keys.read_text())
    if set(companies) != set(size.practice_ids):
        paths.sandbox.unlink(missing_ok=True)
        database = f"sqlite:///{paths.sandbox}"
        companies = {
            p: bootstrap_company(database, f"Demo practice {p}") for p in size.practice_ids
        }
        paths.keys.write_text(json.dumps(companies, indent=2) + "\n")
        paths.keys.chmod(stat.S_IRUSR | stat.S_IWUSR)  # the demo's keys: the owner's only
    header = "# Written by `ar-pipelines demo`: the demo practices.\n\n"
    source_url = f"sqlite:///{paths.source}"
    paths.practices.write_text(header + practices_file(source_url, size.practice_ids))
    return companies


def _in_sikkas_shape(source: Path) -> bool:
    """Whether a demo source was generated as Sikka serves it (an earlier version wrote
    another shape, which neither the readers nor its warehouse tables fit)."""
    from sqlalchemy import inspect

    from ar_pipelines.sources import schema

    engine = schema.source_engine(f"sqlite:///{source}")
    try:
        inspector = inspect(engine)
        if not inspector.has_table(schema.practice_events.name):
            return False
        columns = {column["name"] for column in inspector.get_columns("transactions")}
        return schema.LOADED_AT in columns
    finally:
        engine.dispose()


def practices_file(
    source_url: str, practice_ids: Sequence[str], *, defaults: Sequence[str] = ()
) -> str:
    """The generated office's practices "1", "2", ... as P001, P002, ..., read from
    ``source_url`` as the demo's loader landed them; ``defaults``: more settings of
    every practice."""
    from ar_demo.catalog import REFUND_PAYMENT_TYPE
    from ar_demo.generate import bills_guarantors

    lines = [
        "[defaults]",
        *defaults,
        'cursor_column = "_loaded_at"',
        'key_column = "_row_id"',
        f'refund_payment_types = ["{REFUND_PAYMENT_TYPE}"]',
        "",
    ]
    for number, practice in enumerate(practice_ids, start=1):
        lines += [
            "[[practices]]",
            f'id = "{practice}"',
            f'source = "{source_url}"',
            f'sikka_practice_id = "{number}"',
            f'bill_to = "{"guarantor" if bills_guarantors(str(number)) else "patient"}"',
            f'ar_key_env = "AR_API_KEY_{practice}"',
            f'sa_campaign_env = "AR_SA_CAMPAIGN_{practice}"',
            "",
        ]
    return "\n".join(lines)


def demo_environment(
    paths: DemoPaths, companies: dict[str, dict[str, Any]], base_url: str, reports: Path
) -> dict[str, str]:
    """What the code location reads, pointed at the demo's files and sandbox."""
    environment = {
        "AR_BASE_URL": base_url,
        "AR_PRACTICES_FILE": str(paths.practices),
        "AR_WAREHOUSE_URL": f"duckdb:///{paths.warehouse}",
        "AR_REPORTS_DIR": str(reports),
        "DAGSTER_HOME": str(paths.dagster_home.resolve()),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # dbt's output goes to runs.log: no colour codes in it.
        "DBT_USE_COLORS": "false",
    }
    for practice, company in companies.items():
        environment[f"AR_API_KEY_{practice}"] = company["live_key"]
        environment[f"AR_SA_CAMPAIGN_{practice}"] = company["sa_campaign_id"]
    return environment


def instance_home(paths: DemoPaths) -> Path:
    """The demo's Dagster home, with the local instance settings, set up once here.

    Opening the instance creates its storage, before ``dagster dev`` starts the web
    server and the daemon, which would otherwise both create it at once and collide.
    Runs a killed earlier session left in progress are marked failed, so that they hold
    no slot of the run queue or of the warehouse pool.
    """
    import dagster as dg

    from ar_pipelines.run_workers import fail_dead_runs

    home = paths.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(LOCAL_INSTANCE.read_text())
    with dg.DagsterInstance.from_config(str(home.resolve())) as instance:
        failed = fail_dead_runs(instance)
    if failed:
        print(f"marked failed {len(failed)} run(s) an earlier session left in progress")
    return home


def materialize_practices(
    practice_ids: list[str],
    log: Path,
    *,
    full_reconciliation: bool = False,
    approve_plan: bool = False,
    repair: bool = False,
) -> list[PracticeOutcome]:
    """One run of the nightly job (the weekly one with ``full_reconciliation``) per
    practice, on the instance at ``DAGSTER_HOME``. A line is printed as each step ends
    (``progress.RunProgress``); ``log`` gets each run's log in plain text, under a header
    naming the practice, the run and the time, with what the steps print (dbt's output)."""
    import dagster as dg

    from ar_pipelines.cli.progress import LOGGER, PlainText, RunProgress, run_logger
    from ar_pipelines.defs import build_definitions
    from ar_pipelines.defs.automation import NIGHTLY_JOB, WEEKLY_JOB
    from ar_pipelines.defs.health import HEALTH_JOB
    from ar_pipelines.run_workers import this_host_tags

    outcomes = []
    with log.open("a", encoding="utf-8") as file, dg.DagsterInstance.get() as instance:
        sink = PlainText(file)
        progress = RunProgress(terminal=sys.stdout, log=sink)
        # Dagster's console logger stays, for the warnings; beside it, the demo's.
        loggers = {"console": dg.colored_console_logger, LOGGER: run_logger(progress)}
        definitions = dg.Definitions.merge(build_definitions(), dg.Definitions(loggers=loggers))
        job = definitions.resolve_job_def(WEEKLY_JOB if full_reconciliation else NIGHTLY_JOB)
        for practice_id in practice_ids:
            print(f"practice {practice_id}: materializing every asset ...", flush=True)
            run_id = progress.start_run(practice_id)
            with redirect_stdout(sink):
                result = job.execute_in_process(
                    partition_key=practice_id,
                    instance=instance,
                    run_id=run_id,
                    # Which process runs it, so a later session can tell it died.
                    tags=this_host_tags(),
                    raise_on_error=False,
                    # Every log line is in the run's record too (see them in the UI).
                    run_config={
                        **_approved(
                            job.get_run_config_for_partition_key(practice_id), approve_plan
                        ),
                        "loggers": {
                            "console": {"config": {"log_level": "WARNING"}},
                            LOGGER: {},
                        },
                    },
                )
            outcome = _outcome(practice_id, result)
            if repair and outcome.repairable:
                outcome.repaired = _repair(definitions, instance, practice_id, sink)
            outcomes.append(outcome)
        # The page of how every practice stands, as the health sensor refreshes it after
        # the nights of a deployment.
        with redirect_stdout(sink):
            definitions.resolve_job_def(HEALTH_JOB).execute_in_process(
                instance=instance, tags=this_host_tags(), raise_on_error=False
            )
    return outcomes


def _repair(definitions: Any, instance: Any, practice_id: str, sink: Any) -> dict[str, Any]:
    """``repair_ar`` for the practice, and a line of what it repaired and refused."""
    from ar_pipelines.defs.repair import REPAIR_JOB
    from ar_pipelines.run_workers import this_host_tags

    print(f"practice {practice_id}: repairing what the reconciliation explained ...", flush=True)
    job = definitions.resolve_job_def(REPAIR_JOB)
    with redirect_stdout(sink):
        result = job.execute_in_process(
            partition_key=practice_id,
            instance=instance,
            tags=this_host_tags(),
            raise_on_error=False,
            run_config=job.get_run_config_for_partition_key(practice_id),
        )
    if not result.success:
        lines = _failure_lines(practice_id, result) or [f"practice {practice_id}: repair failed"]
        print("\n".join(f"  {line}" for line in lines))
        return {"after": {"clean": False}, "failed": True}
    done: dict[str, Any] = result.output_for_node("repair_practice")
    repaired = ", ".join(f"{n} {cause}" for cause, n in done.get("repaired", {}).items() if n)
    refused = len(done.get("refused", []))
    after = "clean" if done["after"]["clean"] else "NOT clean"
    print(
        f"  {practice_id}  repair_ar  repaired {repaired or 'nothing'}; refused {refused};"
        f" reconciliation after: {after}"
    )
    return done


def _approved(run_config: Mapping[str, Any], approve_plan: bool) -> dict[str, Any]:
    """``run_config`` with the practice's push plan approved, when ``approve_plan``."""
    if not approve_plan:
        return dict(run_config)
    ops = {**run_config.get("ops", {}), PLAN_STEP: {"config": {"approve_plan": True}}}
    return {**run_config, "ops": ops}


def _outcome(practice_id: str, result: Any) -> PracticeOutcome:
    metadata: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        name = "/".join(materialization.asset_key.path)
        metadata[name] = {k: v.value for k, v in materialization.metadata.items()}
    checks = {
        f"{'/'.join(e.asset_key.path)}:{e.check_name}": e.passed
        for e in result.get_asset_check_evaluations()
    }
    error = None
    if not result.success:
        error = "\n".join(_failure_lines(practice_id, result)) or f"practice {practice_id}: failed"
    return PracticeOutcome(practice_id, result.success, metadata, checks, error)


def _failure_lines(practice_id: str, result: Any) -> list[str]:
    """A line per failed step, with what its innermost cause says (not Dagster's
    "Exceeded max_retries of 3" around it)."""
    from ar_pipelines.causes import cause_line

    lines: list[str] = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.event_specific_data.error
            why = "failed" if error is None else cause_line(error)
            lines.append(f"practice {practice_id}: step {event.step_key}: {why}")
    return lines


def print_summary(outcomes: list[PracticeOutcome], reports: Path) -> None:
    print()
    print(
        "practice  transactions  quarantined  customers sent  entries sent  statements"
        "  reconciliation"
    )
    for o in outcomes:
        if o.refused:
            plan = o.metadata.get(PLAN, {})
            print(f"{o.practice_id:<8}  push REFUSED by the guard: nothing was sent")
            print(
                f"          {plan.get('ledger_entries_void', '?')} voids "
                f"({float(plan.get('void_share', 0)):.1%} of the entries AR holds); "
                f"plan: {plan.get('report', '')}"
            )
            print("          run again with --approve-plan to push it anyway")
            continue
        # A run that reconciled and then failed, failed on its blocking check: the
        # reconciliation is not clean, and the row says how.
        if not o.success and "reconciliation" not in o.metadata:
            print(f"{o.practice_id:<8}  run FAILED")
            for line in (o.error or "").splitlines():
                print(f"          {line}")
            continue
        counts = o.metadata.get("reconciliation", {})
        verdict = (
            ("clean after repair_ar" if o.repaired is not None else "clean")
            if o.clean
            else (
                "NOT clean: "
                + ", ".join(
                    f"{counts.get(s, 0)} {s}"
                    for s in (
                        "amount_mismatch",
                        "paid_mismatch",
                        "missing_in_ar",
                        "unexpected_in_ar",
                    )
                    if counts.get(s, 0)
                )
            )
        )
        print(
            f"{o.practice_id:<8}  {o.value('normalized/ledger_entries', 'transactions_read'):>12,}"
            f"  {o.value('normalized/ledger_entries', 'transactions_quarantined'):>11,}"
            f"  {o.value('ar/customers', 'sent'):>14,}  {o.value('ar/ledger_entries', 'sent'):>12,}"
            f"  {o.value('reconciliation', 'total'):>10,}  {verdict}"
        )
        failed_checks = [name for name, passed in o.checks.items() if not passed]
        if failed_checks and o.repaired is None:
            print(f"          failed checks: {', '.join(failed_checks)}")
    print()
    for o in outcomes:
        report = o.value("reconciliation", "report", None)
        if report:
            verified = o.value("reconciliation", "verified", {}) or {}
            scope = verified.get("scope", "")
            print(
                f"report for {o.practice_id}: {report}" + (f" (verified: {scope})" if scope else "")
            )
    print(f"reports, CSV and HTML: {reports}/")


def run_demo(
    root: Path,
    reports: Path,
    *,
    size: DemoSize = DemoSize(),
    show_progress: bool = True,
    full_reconciliation: bool = False,
    approve_plan: bool = False,
    repair: bool = False,
) -> int:
    """The demo: the job runs for each practice, the nightly one, or with
    ``full_reconciliation`` the weekly one; ``approve_plan`` pushes a plan the guard
    refused; ``repair`` runs ``repair_ar`` where the reconciliation found repairable
    causes. Returns 0 when every practice ends clean, 4 when a guard refused a plan
    (nothing of that practice was pushed), 1 otherwise."""
    from ar_pipelines.local_sandbox import serving

    paths = DemoPaths(root)
    companies = prepare(paths, size=size, show_progress=show_progress)
    instance_home(paths)
    with serving(f"sqlite:///{paths.sandbox}") as base_url:
        print(f"sandbox serving {paths.sandbox} at {base_url}")
        environment = demo_environment(paths, companies, base_url, reports)
        with environment_set(environment):
            outcomes = materialize_practices(
                list(size.practice_ids),
                paths.root / "runs.log",
                full_reconciliation=full_reconciliation,
                approve_plan=approve_plan,
                repair=repair,
            )
    print_summary(outcomes, reports)
    page = reports / PAGE_NAME
    if page.exists():
        print(f"how each practice stands: {page}")
    print(f"warehouse: {paths.warehouse}; what the steps printed: {paths.root / 'runs.log'}")
    print(f"Dagster runs: {paths.dagster_home} (open them with make dev)")
    if any(o.refused for o in outcomes):
        return REFUSED_STATUS
    return 0 if all(o.clean for o in outcomes) else 1


def dev_lines(paths: DemoPaths, base_url: str, ui_port: int) -> list[str]:
    """What ``make dev`` prints before the UI starts: where the sandbox, the UI and the
    demo companies' API keys are (the keys' file, never the keys)."""
    return [
        f"sandbox: {base_url}/docs (database {paths.sandbox})",
        f"sandbox API keys of the demo companies: {paths.keys}",
        f"Dagster UI: http://127.0.0.1:{ui_port}",
    ]


def run_dev(root: Path, reports: Path, *, sandbox_port: int, ui_port: int) -> int:
    """``make dev``: the Dagster UI on the demo's code location, the sandbox beside it."""
    import subprocess

    from ar_pipelines.local_sandbox import serving

    paths = DemoPaths(root)
    companies = prepare(paths)
    instance_home(paths)
    with serving(f"sqlite:///{paths.sandbox}", port=sandbox_port) as base_url:
        for line in dev_lines(paths, base_url, ui_port):
            print(line)
        environment = {**os.environ, **demo_environment(paths, companies, base_url, reports)}
        dagster = Path(sys.executable).with_name("dagster")
        command = [
            str(dagster),
            "dev",
            "-w",
            "workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(ui_port),
        ]
        try:
            return subprocess.call(command, env=environment)
        except KeyboardInterrupt:
            return 0
