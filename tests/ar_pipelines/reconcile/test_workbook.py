"""The finance workbook: five sheets, money as numbers with two decimals, dates as dates,
and totals that are the CSV's and the HTML fragment's, to the cent."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from ar_pipelines.reconcile import Reconciliation, reconcile
from ar_pipelines.reconcile.finance import (
    Aging,
    TieOut,
    TieOutLine,
    aging,
    finance_html,
    statement_rows,
)
from ar_pipelines.reconcile.report import csv_frame
from ar_pipelines.reconcile.result import MONEY_COLUMNS, ROW_COLUMNS, TOTALS
from ar_pipelines.reconcile.stored import keep, stored_result
from ar_pipelines.reconcile.workbook import CAUSE_COLUMNS, SHEETS, write_workbook
from ar_pipelines.warehouse import open_warehouse
from tests.ar_pipelines.reconcile.statements import ar_statement, both_sides

CENT = Decimal("0.01")
AS_OF = date(2026, 4, 15)
QUARANTINED_AT = datetime(2026, 5, 2, 3, 4, 5, tzinfo=UTC)
HOSTILE = '=HYPERLINK("http://x","y")'


@pytest.fixture
def result() -> Reconciliation:
    local, ar = both_sides(
        ("PT-1", "2025-06", ("100.00", "40.00"), ("100.00", "40.00")),
        ("PT-2", "2025-11", ("80.00", "0.00"), ("80.01", "0.00")),
        ("PT-3", "2026-01", ("1234567.89", "5.55"), ("1234567.89", "0.00")),
        ("PT-4", "2026-02", ("1234.56", "0.00"), None),
        ("PT-5", "2026-03", None, ("12.00", "2.00")),
        (HOSTILE, "2026-03", ("9.99", "0.00"), ("9.99", "1.00")),
    )
    zeroed = ar_statement("PT-6", "2026-03", "0.00", "0.00", enrollment_status="enrolled")
    return reconcile("PR-1", local, [*ar, zeroed])


TIE_OUT = TieOut(
    practice_id="PR-1",
    read_rows=3,
    read_without_amount=1,
    read_amount=Decimal("150.00"),
    lines=(
        TieOutLine("normalized", "", 1, 0, Decimal("120.00"), Decimal("120.00")),
        TieOutLine("quarantined", "amount_unparseable", 1, 1, Decimal("0.00")),
        TieOutLine("quarantined", "patient_missing", 1, 0, Decimal("30.00")),
    ),
    ledger_disagreements=0,
    earlier_open_rows=0,
    earlier_open_without_amount=0,
    earlier_open_amount=Decimal("0.00"),
    people_quarantined=1,
)
QUARANTINE = pd.DataFrame(
    {
        "practice_id": ["PR-1", "PR-1", "PR-1"],
        "source": ["transactions", "transactions", "patients"],
        "source_id": ["7", "8", "100"],
        "row_number": [3, 4, 1],
        "loaded_date": ["2026-05-01 08:00:00", None, None],
        "reason": ["patient_missing", "amount_unparseable", "contact_missing"],
        "detail": ["patient '999' is not a patient of practice 'P1'", "x", "y"],
        "raw": ['{"amount": "30.0000"}', '{"amount": "abc"}', '{"patient_id": "100"}'],
        "source_key": ["transactions:7", "transactions:8", "patients:100"],
        "quarantined_at": [QUARANTINED_AT] * 3,
    },
    dtype=object,
)
CAUSES = pd.DataFrame(
    [
        (
            "STMT-2025-11-PT-2",
            "amount_mismatch",
            "amount_differs",
            "PR-1-9",
            "amount",
            Decimal("80.00"),
            Decimal("80.01"),
        ),
        (
            "STMT-2026-03-PT-5",
            "unexpected_in_ar",
            "not_in_ledger",
            None,
            "transaction_date",
            date(2026, 3, 2),
            None,
        ),
    ],
    columns=list(CAUSE_COLUMNS),
)


def write(result: Reconciliation, out: Path, **options: Any) -> Path:
    arguments: dict[str, Any] = {"tie_out": TIE_OUT, "causes": CAUSES, "quarantine": QUARANTINE}
    if "aging" not in options:
        arguments["aging"] = aging(result, AS_OF)
    return write_workbook(out, result, **(arguments | options))


def header(sheet: Any) -> list[str]:
    return [cell.value for cell in next(sheet.iter_rows(max_row=1))]


def table(sheet: Any) -> list[dict[str, Any]]:
    names = header(sheet)
    return [
        dict(zip(names, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)
    ]


def summary_row(sheet: Any, first: str) -> tuple[Any, ...]:
    (found,) = [row for row in sheet.iter_rows(values_only=True) if row[0] == first]
    return tuple(found)


def cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def test_the_workbook_is_named_for_the_practice_and_has_the_five_sheets(
    result: Reconciliation, tmp_path: Path
) -> None:
    path = write(result, tmp_path / "reports")

    assert path == tmp_path / "reports" / "reconciliation_PR-1.xlsx"
    assert load_workbook(path).sheetnames == list(SHEETS)


def test_money_cells_are_numbers_with_two_decimals_and_dates_are_dates(
    result: Reconciliation, tmp_path: Path
) -> None:
    book = load_workbook(write(result, tmp_path))
    sheet = book["Statements"]
    names = header(sheet)
    money = [names.index(name) + 1 for name in MONEY_COLUMNS]

    for row in sheet.iter_rows(min_row=2):
        for column in money:
            cell = row[column - 1]
            assert cell.value is None or cell.data_type == "n"
            assert cell.value is None or cell.number_format == "#,##0.00"
        month = row[names.index("period_start")]
        assert month.is_date
        assert month.number_format == "yyyy-mm-dd"
    assert book["Summary"]["B7"].data_type == "n"
    assert book["Summary"]["B7"].number_format == "#,##0.00"


def test_the_statements_sheet_holds_the_csvs_rows_and_values_to_the_cent(
    result: Reconciliation, tmp_path: Path
) -> None:
    rows = table(load_workbook(write(result, tmp_path))["Statements"])
    expected = csv_frame(result).to_dict("records")

    assert header(load_workbook(write(result, tmp_path))["Statements"]) == list(ROW_COLUMNS)
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        assert got["key"] == want["key"]
        for name in MONEY_COLUMNS:
            assert ("" if got[name] is None else f"{cents(got[name]):.2f}") == want[name]
        assert got["period_start"].date().isoformat() == want["period_start"]


def test_the_summary_totals_are_the_csvs_and_the_html_fragments(
    result: Reconciliation, tmp_path: Path
) -> None:
    summary = load_workbook(write(result, tmp_path))["Summary"]
    frame = csv_frame(result)
    page = finance_html(result)

    for measure in ("billed", "paid", "outstanding"):
        _, local, ar, difference, *_ = summary_row(summary, measure.capitalize())
        local_column, ar_column = TOTALS[f"local_{measure}"], TOTALS[f"ar_{measure}"]
        from_csv_local = sum((Decimal(v) for v in frame[local_column] if v), Decimal(0))
        from_csv_ar = sum((Decimal(v) for v in frame[ar_column] if v), Decimal(0))
        assert cents(local) == from_csv_local
        assert cents(ar) == from_csv_ar
        assert cents(difference) == from_csv_ar - from_csv_local
        assert cents(local) == html_value(page, f"finance-local_{measure}")
        assert cents(ar) == html_value(page, f"finance-ar_{measure}")


def html_value(page: str, cell_id: str) -> Decimal:
    found = re.search(rf'id="{re.escape(cell_id)}"[^>]*data-value="([^"]*)"', page)
    assert found, cell_id
    return Decimal(found[1])


def test_the_summary_holds_the_tie_out_and_the_aging(
    result: Reconciliation, tmp_path: Path
) -> None:
    summary = load_workbook(write(result, tmp_path))["Summary"]
    aged = aging(result, AS_OF).totals()

    assert cents(summary_row(summary, "read")[4]) == Decimal("150.00")
    assert cents(summary_row(summary, "read - accounted for")[4]) == Decimal("0.00")
    assert summary_row(summary, "ties")[1] == "yes"
    _, local_statements, local, ar_statements, ar, _ = summary_row(summary, "total outstanding")[:6]
    assert (local_statements, ar_statements) == (aged["local_statements"], aged["ar_statements"])
    assert cents(local) == result.totals()["local_outstanding"]
    assert cents(ar) == result.totals()["ar_outstanding"]


def test_the_mismatches_sheet_lists_the_differing_statements_largest_first(
    result: Reconciliation, tmp_path: Path
) -> None:
    rows = table(load_workbook(write(result, tmp_path))["Mismatches"])

    assert [row["key"] for row in rows] == result.differing()["key"].tolist()
    assert all(row["status"] != "matched" for row in rows)


def test_the_causes_sheet_writes_money_as_numbers_and_dates_as_dates(
    result: Reconciliation, tmp_path: Path
) -> None:
    sheet = load_workbook(write(result, tmp_path))["Causes"]

    assert header(sheet) == list(CAUSE_COLUMNS)
    assert sheet["F2"].data_type == "n"
    assert sheet["F2"].number_format == "#,##0.00"
    assert cents(sheet["G2"].value) == Decimal("80.01")
    assert sheet["F3"].is_date


@pytest.mark.parametrize("causes", [None, pd.DataFrame(columns=list(CAUSE_COLUMNS))])
def test_without_causes_the_causes_sheet_has_its_header_only(
    result: Reconciliation, tmp_path: Path, causes: pd.DataFrame | None
) -> None:
    sheet = load_workbook(write(result, tmp_path, causes=causes))["Causes"]

    assert header(sheet) == list(CAUSE_COLUMNS)
    assert sheet.max_row == 1


def test_the_quarantine_sheet_gives_each_transaction_rows_amount_as_read(
    result: Reconciliation, tmp_path: Path
) -> None:
    rows = table(load_workbook(write(result, tmp_path))["Quarantine"])

    assert [row["reason"] for row in rows] == QUARANTINE["reason"].tolist()
    assert cents(rows[0]["amount"]) == Decimal("30.00")
    assert rows[1]["amount"] is None  # "abc" is not money
    assert rows[2]["amount"] is None  # a patient carries none
    assert rows[0]["quarantined_at"] == QUARANTINED_AT.replace(tzinfo=None)  # in UTC


def test_every_header_row_is_bold_and_frozen(result: Reconciliation, tmp_path: Path) -> None:
    book = load_workbook(write(result, tmp_path))

    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.bold for cell in next(sheet.iter_rows(max_row=1)) if cell.value)
    statements = book["Statements"]
    assert statements.column_dimensions["A"].width >= len("STMT-2025-06-PT-1")


def test_text_that_looks_like_a_formula_stays_text(result: Reconciliation, tmp_path: Path) -> None:
    sheet = load_workbook(write(result, tmp_path))["Statements"]
    customers = [row["customer_external_id"] for row in table(sheet)]

    assert HOSTILE in customers
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_a_stored_reconciliation_needs_every_statement_and_then_ties_to_its_totals(
    result: Reconciliation, tmp_path: Path
) -> None:
    with open_warehouse("duckdb:///:memory:") as store:
        keep(store, result)
        stored = stored_result(store, "PR-1")
        every = statement_rows(store, "PR-1")

        with pytest.raises(ValueError, match="statement_rows"):
            write(stored, tmp_path, aging=None)
        with pytest.raises(ValueError, match="do not add up"):
            write(stored, tmp_path, aging=None, statements=every.head(2))
        aged = aging(every, AS_OF)
        written = write(stored, tmp_path, aging=aged, statements=every)
        rows = table(load_workbook(written)["Statements"])

    assert len(rows) == result.counts()["total"]
    total = sum(
        (cents(row["local_amount"]) for row in rows if row["local_amount"] is not None), Decimal(0)
    )
    assert total == result.totals()["local_billed"]


def test_the_workbook_is_written_without_a_tie_out_or_an_aging(
    result: Reconciliation, tmp_path: Path
) -> None:
    book = load_workbook(write(result, tmp_path, tie_out=None, aging=None))

    assert book.sheetnames == list(SHEETS)
    assert isinstance(aging(result, AS_OF), Aging)


def test_characters_a_workbook_cannot_hold_are_written_as_escapes(
    result: Reconciliation, tmp_path: Path
) -> None:
    quarantine = QUARANTINE.assign(source_id=["7\x07", "8", "100"])

    rows = table(load_workbook(write(result, tmp_path, quarantine=quarantine))["Quarantine"])

    assert rows[0]["source_id"] == "7\\x07"
