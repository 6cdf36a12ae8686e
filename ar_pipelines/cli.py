"""``ar-pipelines``: the project's command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from ar_pipelines.client import ApiError
from ar_pipelines.sources.base import SourceNotReady
from ar_pipelines.statements.cli import add_statements_command


def _demo(args: argparse.Namespace) -> int:
    from ar_pipelines.demo import run_demo

    return run_demo(Path(args.out), Path(args.reports), show_progress=sys.stderr.isatty())


def _dev(args: argparse.Namespace) -> int:
    from ar_pipelines.demo import run_dev

    return run_dev(
        Path(args.out), Path(args.reports), sandbox_port=args.sandbox_port, ui_port=args.port
    )


def _tour(args: argparse.Namespace) -> int:
    from ar_pipelines.tour import run_tour

    run_tour(Path(args.out))
    return 0


def _push(args: argparse.Namespace) -> int:
    from ar_pipelines.push import push_file

    show = sys.stderr.isatty() if args.progress is None else args.progress
    return push_file(
        args.kind,
        Path(args.file),
        base_url=args.base_url,
        concurrency=args.concurrency,
        show_progress=show,
        issues_path=Path(args.issues) if args.issues else None,
    )


def _source_generate(args: argparse.Namespace) -> int:
    from ar_demo.generate_cli import generate_source

    show = sys.stderr.isatty() if args.progress is None else args.progress
    generate_source(
        args.url,
        practices=args.practices,
        patients=args.patients,
        months=args.months,
        seed=args.seed,
        defect_rate=args.defect_rate,
        end=date.fromisoformat(args.end) if args.end else None,
        office_id=args.office_id,
        show_progress=show,
    )
    return 0


def _normalize(args: argparse.Namespace) -> int:
    from ar_pipelines.normalize_cli import (
        Selection,
        UsageError,
        database_source,
        mapping_settings,
        normalize_source,
        sikka_source,
    )

    if (args.source is None) == (args.sikka_url is None):
        raise UsageError("give either --source or --sikka-url")
    if args.sikka_url is not None:
        if not args.office_id:
            raise UsageError("--sikka-url needs --office-id")
        source = sikka_source(args.sikka_url, args.office_id)
        practice = args.practice or args.office_id
        selection = Selection(args.sikka_practice_id or "1", practice)
    else:
        source = database_source(args.source, args.office_id)
        practice = args.practice
        # Several practices of one office share Sikka's ids only while read under them.
        wanted = args.sikka_practice_id or ("1" if practice else None)
        selection = Selection(wanted, practice)
    settings = mapping_settings(
        Path(args.practices_file) if args.practices_file else None, practice
    )
    counts = normalize_source(
        source, out_dir=Path(args.out), selection=selection, settings=settings
    )
    for name, count in counts.items():
        print(f"{name}: {count}")
    return 0


def _add_normalize_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    normalize = commands.add_parser(
        "normalize",
        help="read a Sikka source and write customers, ledger entries and a quarantine (CSV)",
        epilog=NORMALIZE_EPILOG,
    )
    normalize.add_argument("--source", help="a landed database: SQLite, Postgres or MySQL URL")
    normalize.add_argument("--sikka-url", help="Sikka's API, e.g. https://api.sikkasoft.com/v4")
    normalize.add_argument(
        "--office-id",
        help="the Sikka office (with --sikka-url), or the office filter of a database",
    )
    normalize.add_argument(
        "--sikka-practice-id",
        help="Sikka's practice_id in the office (default 1; a database without --practice: all)",
    )
    normalize.add_argument(
        "--practice",
        help="the practice's id in the outputs and external ids (default: the office id)",
    )
    normalize.add_argument(
        "--practices-file", help="take the mapping settings of --practice from this file"
    )
    normalize.add_argument(
        "--out",
        required=True,
        help="directory for customers.csv, ledger_entries.csv, quarantine.csv",
    )
    normalize.set_defaults(run=_normalize)


def _add_source_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    source = commands.add_parser("source", help="work with a Sikka-shaped source database")
    source_commands = source.add_subparsers(dest="source_command", required=True)
    generate = source_commands.add_parser(
        "generate", help="fill a source database with seeded demo data, defects optional"
    )
    generate.add_argument("--url", required=True, help="SQLite, Postgres or MySQL/MariaDB URL")
    generate.add_argument("--practices", type=int, required=True)
    generate.add_argument("--patients", type=int, required=True, help="patients per practice")
    generate.add_argument("--months", type=int, required=True, help="months of history")
    generate.add_argument("--seed", type=int, required=True)
    generate.add_argument(
        "--defect-rate", type=float, default=0.0, help="share of rows with a defect (default 0)"
    )
    generate.add_argument("--end", help="last day of history, YYYY-MM-DD (default: last month's)")
    generate.add_argument(
        "--office-id", default="D1000", help="the office the rows belong to (default D1000)"
    )
    generate.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when standard error is a terminal)",
    )
    generate.set_defaults(run=_source_generate)


def _practices_check(args: argparse.Namespace) -> int:
    from ar_pipelines.preflight import run_check

    return run_check(Path(args.file) if args.file else None)


def _add_practices_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    practices = commands.add_parser("practices", help="work with the practices file")
    practices_commands = practices.add_subparsers(dest="practices_command", required=True)
    check = practices_commands.add_parser(
        "check",
        help="check the file, its variables, each source, AR and the warehouse before a run",
        epilog=PRACTICES_CHECK_EPILOG,
    )
    check.add_argument(
        "--file", help="the practices file (default: AR_PRACTICES_FILE, else practices.toml)"
    )
    check.set_defaults(run=_practices_check)


PRACTICES_CHECK_EPILOG = """Prints a row per practice and one for the warehouse (AR_WAREHOUSE_URL):
OK, or why not. Variable values are never printed. Exit status: 0 every row is OK;
1 some row is not; 2 usage errors, or a file that does not validate (its line on
standard error)."""


PUSH_EPILOG = """The API key is read from AR_API_KEY (never from the command line); the base URL
from --base-url or AR_BASE_URL. Exit status: 0 every record landed (or was superseded
by a later one with the same external_id); 1 some were refused (rejected or failed);
3 the push stopped before sending everything; 2 usage or set-up errors."""


NORMALIZE_EPILOG = """With --sikka-url the app's credentials come from SIKKA_APP_ID and
SIKKA_APP_KEY (and the office's secret key from SIKKA_SECRET_KEY if set, else from
Sikka's authorized_practices). Exit status: 0 written; 1 the source failed; 2 usage or
set-up errors; 3 the source is not ready (Sikka is loading the office, or the
practice's daily quota is spent): try again later."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ar-pipelines", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="materialize the whole Dagster graph for the demo practices against a local sandbox",
    )
    demo.add_argument("--out", default="data/demo", help="the demo's files (default data/demo)")
    demo.add_argument(
        "--reports", default="data/reports", help="reconciliation reports (default data/reports)"
    )
    demo.set_defaults(run=_demo)
    dev = commands.add_parser(
        "dev", help="the Dagster UI on the demo's code location, with the sandbox beside it"
    )
    dev.add_argument("--out", default="data/demo", help="the demo's files (default data/demo)")
    dev.add_argument("--reports", default="data/reports")
    dev.add_argument("--port", type=int, default=3000, help="the UI's port (default 3000)")
    dev.add_argument("--sandbox-port", type=int, default=8080, help="the sandbox's (default 8080)")
    dev.set_defaults(run=_dev)
    tour = commands.add_parser(
        "api-tour", help="the Statements API docs' flow, step by step, against a fresh sandbox"
    )
    tour.add_argument("--out", default="data/tour", help="where it writes (default data/tour)")
    tour.set_defaults(run=_tour)
    push = commands.add_parser(
        "push",
        help="send a file of customers, invoices or ledger entries to AR",
        epilog=PUSH_EPILOG,
    )
    push.add_argument("kind", choices=("customers", "invoices", "ledger"))
    push.add_argument("file", help="a .csv (header of API field names), .json or .jsonl file")
    push.add_argument("--base-url", help="AR's base URL (default: AR_BASE_URL)")
    push.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    push.add_argument("--issues", help="write records that did not land, with reasons, here")
    push.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when standard error is a terminal)",
    )
    push.set_defaults(run=_push)
    _add_source_commands(commands)
    _add_normalize_command(commands)
    add_statements_command(commands)
    _add_practices_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # One line per error: what its innermost cause says.
    from ar_pipelines.causes import cause_line

    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except SourceNotReady as err:
        print(f"ar-pipelines: {cause_line(err)}", file=sys.stderr)
        return 3
    except RuntimeError as err:
        print(f"ar-pipelines: {cause_line(err)}", file=sys.stderr)
        return 1
    except (ValueError, OSError, ApiError) as err:
        print(f"ar-pipelines: {cause_line(err)}", file=sys.stderr)
        return 2
    except SQLAlchemyError as err:
        # The driver's own words (its error is the cause), without the statement and
        # parameters SQLAlchemy adds.
        print(f"ar-pipelines: the database refused: {cause_line(err)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
