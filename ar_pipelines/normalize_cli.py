"""``ar-pipelines normalize``: one source's rows, normalized, written as CSV files.

The source is a landed database (``--source URL``) or a Sikka office read through the
REST API (``--sikka-url URL --office-id ID``, app credentials from the environment).
The mapping settings are the defaults, or a practice's entry in a practices file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ar_pipelines.defs.practices import load_practices
from ar_pipelines.normalize import PracticeSettings, normalize, write_outputs
from ar_pipelines.sources.base import Source
from ar_pipelines.sources.frames import as_practice
from ar_pipelines.sources.sql_reader import SqlLayout, SqlSource

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
