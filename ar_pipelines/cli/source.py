"""``ar-pipelines source generate``: the command's options; the generating is
``ar_demo``'s, loaded only when the command runs."""

from __future__ import annotations

import argparse
from datetime import date

from ar_pipelines.cli._options import add_progress_option, progress_wanted


def add_source_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    add_progress_option(generate)
    generate.set_defaults(run=run_generate_command)


def run_generate_command(args: argparse.Namespace) -> int:
    from ar_demo.generate_cli import generate_source

    generate_source(
        args.url,
        practices=args.practices,
        patients=args.patients,
        months=args.months,
        seed=args.seed,
        defect_rate=args.defect_rate,
        end=date.fromisoformat(args.end) if args.end else None,
        office_id=args.office_id,
        show_progress=progress_wanted(args),
    )
    return 0
