"""``ar-pipelines``: the project's command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from ar_pipelines.cli.demo import add_demo_commands
from ar_pipelines.cli.normalize import add_normalize_command
from ar_pipelines.cli.practices import add_practices_command
from ar_pipelines.cli.push_file import add_push_command
from ar_pipelines.cli.source import add_source_command
from ar_pipelines.cli.statements import add_statements_command
from ar_pipelines.cli.tour import add_tour_command
from ar_pipelines.client import ApiError
from ar_pipelines.sources.base import SourceNotReady

# What ``--help`` says first, as plain text (the module's docstring is for the code).
DESCRIPTION = (
    "Move a practice-management source's transactions into Agile Receivables, compute "
    "the monthly statements locally and reconcile the two. Each command's --help says more."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ar-pipelines", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    add_demo_commands(commands)
    add_tour_command(commands)
    add_push_command(commands)
    add_source_command(commands)
    add_normalize_command(commands)
    add_statements_command(commands)
    add_practices_command(commands)
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
