"""The finance workbook of a reconciliation: one ``.xlsx`` file that opens in Excel,
LibreOffice or Numbers, with the sheets Summary, Statements, Mismatches, Causes and
Quarantine (``docs/finance-workbook.md`` describes each column).

Money is written as numbers, exact (the ``Decimal``'s own digits go into the file), shown
with two decimals and separators (``#,##0.00``); dates are dates; each sheet's header row
is bold and stays in view. Text is always text: a value starting with ``=`` is never a
formula, and characters a workbook cannot hold are written as ``\\xNN``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from ar_pipelines.reconcile.finance import (
    AGING_COLUMNS,
    OUTCOME_MEANINGS,
    TIE_OUT_COLUMNS,
    Aging,
    TieOut,
    quarantined_amounts,
)
from ar_pipelines.reconcile.inputs import ZERO
from ar_pipelines.reconcile.result import (
    ROW_COLUMNS,
    STATUS_MEANINGS,
    TOTALS,
    Reconciliation,
    Status,
)
from ar_pipelines.reconcile.why import CAUSE_COLUMNS

SHEETS = ("Summary", "Statements", "Mismatches", "Causes", "Quarantine")
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
# A sheet holds 1,048,576 rows, the header's included.
MAX_DATA_ROWS = 1_048_575
MAX_TEXT = 32_767  # characters in a cell
UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
BOLD = Font(bold=True)
WIDEST = 60  # characters: longer text is cut in view, not in the cell


def write_workbook(
    path: Path,
    result: Reconciliation,
    *,
    tie_out: TieOut | None,
    aging: Aging | None,
    causes: pd.DataFrame | None,
    quarantine: pd.DataFrame,
    statements: pd.DataFrame | None = None,
    generated_at: datetime | None = None,
) -> Path:
    """Write ``reconciliation_{practice_id}.xlsx`` into the directory ``path`` (made if
    missing) and return the file's path.

    ``statements``: every statement (``finance.statement_rows``), needed where ``result``
    was read from the warehouse and holds only the statements that differ; they must add
    up to ``result``'s totals. ``causes``: the causes of the mismatches
    (``CAUSE_COLUMNS``), ``None`` or empty for none. ``quarantine``: the practice's open
    quarantine (``normalized.quarantine``)."""
    from ar_pipelines.reconcile.report import report_name  # report writes this workbook

    rows = _every_statement(result, statements)
    path.mkdir(parents=True, exist_ok=True)
    target = path / f"reconciliation_{report_name(result.practice_id)}.xlsx"
    book = Workbook(write_only=True)
    _summary(book, result, tie_out, aging, rows=len(rows), generated_at=generated_at)
    _table(book, "Statements", rows, ROW_COLUMNS)
    _table(book, "Mismatches", result.differing(), ROW_COLUMNS)
    _table(book, "Causes", _causes(causes), CAUSE_COLUMNS)
    _table(book, "Quarantine", *_quarantine(quarantine))
    book.save(target)
    return target


def _every_statement(result: Reconciliation, statements: pd.DataFrame | None) -> pd.DataFrame:
    """The rows of every statement, checked against ``result``'s totals to the cent."""
    if statements is None:
        if result.counted is not None:
            raise ValueError(
                "a reconciliation read from the warehouse holds only the statements that"
                " differ: pass statements=statement_rows(warehouse, practice_id)"
            )
        statements = result.rows
    found = {
        name: sum((v for v in statements[column] if isinstance(v, Decimal)), ZERO)
        for name, column in TOTALS.items()
    }
    if found != result.totals() or len(statements) != result.counts()["total"]:
        raise ValueError("the statements given do not add up to the reconciliation's totals")
    return statements


def _causes(causes: pd.DataFrame | None) -> pd.DataFrame:
    if causes is None:
        return pd.DataFrame(columns=list(CAUSE_COLUMNS))
    missing = [name for name in CAUSE_COLUMNS if name not in causes.columns]
    if missing:
        raise ValueError(f"the causes lack the columns {', '.join(missing)}")
    return causes


def _quarantine(quarantine: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The open quarantine with each transaction row's amount as read (empty where it is
    not money, and for patients and guarantors), placed after the reason."""
    names = [str(name) for name in quarantine.columns if name != "practice_id"]
    if "raw" in quarantine.columns and "source" in quarantine.columns:
        amounts = quarantined_amounts(quarantine["raw"].tolist())
        of_rows = (quarantine["source"] == "transactions").tolist()
        quarantine = quarantine.assign(
            amount=pd.Series(
                [a if t else None for a, t in zip(amounts, of_rows, strict=True)],
                index=quarantine.index,
                dtype=object,
            )
        )
        at = names.index("reason") + 1 if "reason" in names else len(names)
        names.insert(at, "amount")
    return quarantine, tuple(names)


# Sheets -------------------------------------------------------------------------------


def _table(book: Any, title: str, frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """A sheet of ``frame``'s ``columns``: a bold, frozen, filtered header row, then a
    row per row (at most ``MAX_DATA_ROWS``)."""
    sheet = book.create_sheet(title)
    shown = frame.head(MAX_DATA_ROWS)
    values = [shown[name].to_numpy(dtype=object) for name in columns]
    _widths(sheet, columns, values)
    sheet.freeze_panes = "A2"
    if columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(shown) + 1}"
    sheet.append([_bold(sheet, name) for name in columns])
    for row in zip(*values, strict=True):
        sheet.append([_cell(sheet, value) for value in row])


def _summary(
    book: Any,
    result: Reconciliation,
    tie_out: TieOut | None,
    aging: Aging | None,
    *,
    rows: int,
    generated_at: datetime | None,
) -> None:
    sheet = book.create_sheet("Summary")
    for letter, width in zip("ABCDEF", (34, 26, 16, 18, 16, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"

    def line(*values: Any, bold: bool = False) -> None:
        sheet.append([_bold(sheet, v) if bold else _cell(sheet, v) for v in values])

    line(f"Reconciliation of practice {result.practice_id}", bold=True)
    if generated_at is not None:
        line("Generated", generated_at)
    counts = result.counts()
    differing = counts["total"] - counts[Status.MATCHED]
    line("Clean", "yes" if result.clean else f"no: {differing:,} statements differ")
    if rows > MAX_DATA_ROWS:
        line("Statements sheet", f"the first {MAX_DATA_ROWS:,} of {rows:,}; the CSV has all")
    line()
    line("Totals", "Local", "AR", "AR - local", bold=True)
    totals = result.totals()
    for measure in ("billed", "paid", "outstanding"):
        local, ar = totals[f"local_{measure}"], totals[f"ar_{measure}"]
        line(measure.capitalize(), local, ar, ar - local)
    line()
    line("Status", "Statements", "Meaning", bold=True)
    for status in Status:
        line(status.value, counts[status.value], STATUS_MEANINGS[status])
    line("total", counts["total"])
    line("zeroed_in_ar", counts["zeroed_in_ar"], "Matched, kept in AR at zero.")
    if tie_out is not None:
        line()
        line(*(name.replace("_", " ").capitalize() for name in TIE_OUT_COLUMNS), bold=True)
        for item in tie_out.lines:
            line(
                item.outcome,
                item.reason,
                item.rows,
                item.rows_without_amount,
                item.source_amount,
                item.ledger_amount,
            )
        line("read", "", tie_out.read_rows, tie_out.read_without_amount, tie_out.read_amount)
        line("read - accounted for", "", None, None, tie_out.difference)
        line("ties", "yes" if tie_out.ties else "no")
        line("ledger disagreements", "", tie_out.ledger_disagreements)
        line(
            "open from earlier reads",
            "outside the tie-out",
            tie_out.earlier_open_rows,
            tie_out.earlier_open_without_amount,
            tie_out.earlier_open_amount,
        )
        line("patients and guarantors", "no money", tie_out.people_quarantined)
        for outcome, meaning in OUTCOME_MEANINGS.items():
            line(outcome, meaning)
    if aging is not None:
        line()
        titles = [f"Age in days on {aging.as_of.isoformat()}"]
        titles += [name.replace("_", " ").capitalize() for name in AGING_COLUMNS[1:]]
        line(*titles, bold=True)
        for bucket in aging.buckets.itertuples(index=False, name=None):
            line(*bucket)
        aged = aging.totals()
        line("total outstanding", *(aged[name] for name in AGING_COLUMNS[1:]))


# Cells --------------------------------------------------------------------------------


def _bold(sheet: Any, value: Any) -> Any:
    cell = WriteOnlyCell(sheet, value=_text(str(value)))
    cell.font = BOLD
    cell.data_type = "s"
    return cell


def _cell(sheet: Any, value: Any) -> Any:
    """A value as the workbook holds it: money and dates formatted, text as text."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        return _formatted(sheet, value, MONEY_FORMAT)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):  # a workbook has no time zones: UTC, as the warehouse
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return _formatted(sheet, value, DATETIME_FORMAT)
    if isinstance(value, date):
        return _formatted(sheet, value, DATE_FORMAT)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    cell = WriteOnlyCell(sheet, value=_text(str(value)))
    cell.data_type = "s"  # never a formula, whatever it starts with
    return cell


def _formatted(sheet: Any, value: Any, number_format: str) -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def _text(value: str) -> str:
    value = UNWRITABLE.sub(lambda found: f"\\x{ord(found[0]):02x}", value)
    return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 1] + "\u2026"


def _widths(sheet: Any, columns: Sequence[str], values: Iterable[Any]) -> None:
    """Each column as wide as its header and its first few hundred values need, up to
    ``WIDEST`` characters."""
    for at, (name, column) in enumerate(zip(columns, values, strict=True), start=1):
        sample = column[:500]
        longest = max((_width(v) for v in sample), default=0)
        width = min(WIDEST, max(len(name), longest) + 2)
        sheet.column_dimensions[get_column_letter(at)].width = width


def _width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}")
    if isinstance(value, datetime):
        return 19
    if isinstance(value, date):
        return 10
    return len(str(value))


__all__ = ["CAUSE_COLUMNS", "SHEETS", "write_workbook"]
