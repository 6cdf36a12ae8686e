"""``ar-pipelines normalize``: one source's rows, normalized, written as CSV files.

The source is a landed database (``--source URL``) or a Sikka office read through the
REST API (``--sikka-url URL --office-id ID``, app credentials from the environment).
The mapping settings are the defaults, or a practice's entry in a practices file.
Normalizing and the practices file are imported when the command runs: the practices
file's module is in the Dagster wiring, which other commands should not wait for.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ar_pipelines.sources.base import Source
from ar_pipelines.sources.frames import as_practice
from ar_pipelines.sources.sql_reader import SqlLayout, SqlSource

if TYPE_CHECKING:
    from ar_pipelines.normalize import PracticeSettings

SIKKA_APP_ID_ENV = "SIKKA_APP_ID"
SIKKA_APP_KEY_ENV = "SIKKA_APP_KEY"
SIKKA_SECRET_KEY_ENV = "SIKKA_SECRET_KEY"  # noqa: S105 - the variable's name


class UsageError(ValueError):
    """The command was given what it cannot use (exit 2)."""


@dataclass(frozen=True)
class Selection:
    """Which practice to read and what to call it: Sikka's ``practice_id`` inside the
    office (``None``: every practice, under Sikka's own ids) and the project's id."""

    sikka_practice_id: str | None
    practice: str | None


EPILOG = """With --sikka-url the app's credentials come from SIKKA_APP_ID and
SIKKA_APP_KEY (and the office's secret key from SIKKA_SECRET_KEY if set, else from
Sikka's authorized_practices). Exit status: 0 written; 1 the source failed; 2 usage or
set-up errors; 3 the source is not ready (Sikka is loading the office, or the
practice's daily quota is spent): try again later."""


def add_normalize_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    normalize = commands.add_parser(
        "normalize",
        help="read a Sikka source and write customers, ledger entries and a quarantine (CSV)",
        epilog=EPILOG,
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
    normalize.set_defaults(run=run_normalize_command)


def run_normalize_command(args: argparse.Namespace) -> int:
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


def sikka_source(base_url: str, office_id: str) -> Source:
    """The office's REST source, with the app's credentials from the environment."""
    from ar_pipelines.sources.rest_reader import SikkaRestSource

    missing = [name for name in (SIKKA_APP_ID_ENV, SIKKA_APP_KEY_ENV) if not os.environ.get(name)]
    if missing:
        raise UsageError(f"set {' and '.join(missing)} to read Sikka's API")
    return SikkaRestSource(
        base_url=base_url,
        office_id=office_id,
        app_id=os.environ[SIKKA_APP_ID_ENV],
        app_key=os.environ[SIKKA_APP_KEY_ENV],
        secret_key=os.environ.get(SIKKA_SECRET_KEY_ENV) or None,
    )


def database_source(url: str, office_id: str | None) -> Source:
    return SqlSource(url, layout=SqlLayout(office_id=office_id))


def mapping_settings(practices_file: Path | None, practice: str | None) -> PracticeSettings:
    """The practice's mapping settings from ``practices_file``, or the defaults."""
    from ar_pipelines.defs.practices import load_practices
    from ar_pipelines.normalize import PracticeSettings

    if practices_file is None:
        return PracticeSettings()
    if practice is None:
        raise UsageError("--practices-file needs --practice to say which entry to use")
    return load_practices(practices_file).get(practice).mapping


def normalize_source(
    source: Source, *, out_dir: Path, selection: Selection, settings: PracticeSettings
) -> dict[str, int]:
    """Read every row of the selected practice (transactions streamed), normalize them
    and write the outputs to ``out_dir``; the rows written per file."""
    from ar_pipelines.normalize import normalize, write_outputs

    wanted, label = selection.sikka_practice_id, selection.practice

    def named(table: pd.DataFrame) -> pd.DataFrame:
        return table if label is None else as_practice(table, label)

    with source:
        read = source.transactions(practice_id=wanted)
        result = normalize(
            settings=settings,
            payment_types=named(source.payment_types(practice_id=wanted)),
            patients=named(source.patients(practice_id=wanted)),
            guarantors=named(source.guarantors(practice_id=wanted)),
            transactions=(named(chunk) for chunk in read),
        )
    counts = write_outputs(result, out_dir)
    return {"transactions read": read.rows, **counts}
