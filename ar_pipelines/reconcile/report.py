"""The finance report of a reconciliation: every statement as CSV, and a one-page HTML."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ar_pipelines.clock import utc_now
from ar_pipelines.reconcile.coverage import Coverage
from ar_pipelines.reconcile.finance import Aging, TieOut, finance_html
from ar_pipelines.reconcile.html import render_html
from ar_pipelines.reconcile.inputs import ObjectArray
from ar_pipelines.reconcile.result import MONEY_COLUMNS, Reconciliation, money_text
from ar_pipelines.reconcile.why import Causes
from ar_pipelines.reconcile.workbook import write_workbook

UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class ReportFiles:
    """The report's files; ``causes`` when the causes of the mismatches were looked for,
    ``workbook`` when the finance workbook was written."""

    csv: Path
    html: Path
    causes: Path | None = None
    workbook: Path | None = None


def write_report(
    result: Reconciliation,
    out_dir: Path,
    *,
    generated_at: datetime | None = None,
    coverage: Coverage | None = None,
    write_csv: Callable[[Path], object] | None = None,
    causes: Causes | None = None,
    tie_out: TieOut | None = None,
    aging: Aging | None = None,
    quarantine: pd.DataFrame | None = None,
    statements: pd.DataFrame | None = None,
) -> ReportFiles:
    """Write ``reconciliation_{practice_id}.csv`` (every statement; money as plain
    two-decimal text, dates ISO, a missing side empty) and ``.html`` into ``out_dir``;
    with ``causes``, also ``reconciliation_{practice_id}_causes.csv`` (one row per
    differing entry and field). Without them, an earlier causes file is removed: it
    would explain mismatches that are no longer these. The page opens with the totals
    and, when given, the source ``tie_out`` and the ``aging``; with ``quarantine``, the
    finance workbook ``reconciliation_{practice_id}.xlsx`` is written too (from
    ``statements`` where ``result`` holds only the rows that differ)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"reconciliation_{report_name(result.practice_id)}"
    causes_path = out_dir / f"{stem}_causes.csv"
    files = ReportFiles(
        csv=out_dir / f"{stem}.csv",
        html=out_dir / f"{stem}.html",
        causes=causes_path if causes is not None else None,
    )
    if causes is not None:
        causes.write_csv(causes_path)
    else:
        causes_path.unlink(missing_ok=True)
    if write_csv is not None:  # every row, where ``result`` holds only those that differ
        write_csv(files.csv)
    else:
        csv_frame(result).to_csv(files.csv, index=False, lineterminator="\n")
    when = generated_at or utc_now()
    files.html.write_text(
        render_html(
            result,
            generated_at=when,
            csv_name=files.csv.name,
            coverage=coverage,
            causes=causes,
            finance=finance_html(result, tie_out=tie_out, aging=aging),
        ),
        "utf-8",
    )
    if quarantine is not None:
        workbook = write_workbook(
            out_dir,
            result,
            tie_out=tie_out,
            aging=aging,
            causes=None if causes is None else causes.rows,
            quarantine=quarantine,
            statements=statements,
            generated_at=when,
        )
        files = replace(files, workbook=workbook)
    return files


def report_name(practice_id: str) -> str:
    """The practice id as a file name part: a practice id never picks the directory."""
    return UNSAFE_IN_FILE_NAME.sub("_", practice_id) or "_"


def csv_frame(result: Reconciliation) -> pd.DataFrame:
    """The rows as the CSV holds them: text everywhere, empty where a side has nothing."""
    frame = result.rows.copy()
    for column in MONEY_COLUMNS:
        frame[column] = _as_text(frame[column], money_text)
    frame["period_start"] = _as_text(frame["period_start"], date.isoformat)
    return frame


def _as_text(column: pd.Series[Any], render: Callable[[Any], str]) -> ObjectArray:
    """Render each distinct value once; ``None`` becomes an empty cell."""
    codes, distinct = pd.factorize(column.to_numpy(dtype=object))
    texts = np.array([render(v) for v in distinct] + [""], dtype=object)
    out: ObjectArray = texts[codes]  # code -1 (None) picks the ""
    return out
