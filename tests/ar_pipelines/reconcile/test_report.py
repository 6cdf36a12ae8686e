"""The finance report: a CSV of every statement and one self-contained HTML page."""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ar_pipelines.reconcile import Reconciliation, reconcile, write_report
from ar_pipelines.reconcile.result import MONEY_COLUMNS, ROW_COLUMNS, TOTALS
from tests.ar_pipelines.reconcile.statements import (
    ar_statement,
    both_sides,
    local_frame,
    local_row,
)

HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def result() -> Reconciliation:
    """One statement of each kind, a zeroed one, and a hostile customer id."""
    local, ar = both_sides(
        ("PT-1", "2026-01", ("100.00", "40.00"), ("100.00", "40.00")),
        ("PT-2", "2026-01", ("80.00", "0.00"), ("80.01", "0.00")),
        ("PT-3", "2026-02", ("55.55", "5.55"), ("55.55", "0.00")),
        ("PT-4", "2026-02", ("1234.56", "0.00"), None),
        ("PT-5", "2026-03", None, ("12.00", "2.00")),
        (HOSTILE, "2026-03", ("9.99", "0.00"), ("9.99", "1.00")),
    )
    zeroed = ar_statement("PT-6", "2026-03", "0.00", "0.00", enrollment_status="enrolled")
    return reconcile("PR-1", local, [*ar, zeroed])


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def cell(page: str, cell_id: str) -> str:
    found = re.search(rf'id="{re.escape(cell_id)}"[^>]*data-value="([^"]*)"', page)
    assert found, cell_id
    return found[1]


def test_the_report_files_are_named_for_the_practice_in_a_directory_made_for_them(
    result: Reconciliation, tmp_path: Path
) -> None:
    files = write_report(result, tmp_path / "reports" / "today")

    assert files.csv == tmp_path / "reports" / "today" / "reconciliation_PR-1.csv"
    assert files.html == tmp_path / "reports" / "today" / "reconciliation_PR-1.html"
    assert files.csv.is_file()
    assert files.html.is_file()


def test_the_csv_holds_every_statement_and_reads_back_to_the_same_values(
    result: Reconciliation, tmp_path: Path
) -> None:
    read = read_csv(write_report(result, tmp_path).csv)

    assert list(read[0]) == list(ROW_COLUMNS)
    assert len(read) == len(result.rows)
    for row, expected in zip(read, result.rows.to_dict("records"), strict=True):
        assert row["key"] == expected["key"]
        assert row["customer_external_id"] == expected["customer_external_id"]
        assert date.fromisoformat(row["period_start"]) == expected["period_start"]
        assert row["status"] == expected["status"]
        for column in MONEY_COLUMNS:
            if expected[column] is None:
                assert row[column] == ""
            else:
                assert re.fullmatch(r"-?[0-9]+\.[0-9]{2}", row[column]), row[column]
                assert Decimal(row[column]) == expected[column]
        assert (row["ar_statement_id"] or None) == expected["ar_statement_id"]
        assert (row["enrollment_status"] or None) == expected["enrollment_status"]
        assert row["zeroed_in_ar"] == str(bool(expected["zeroed_in_ar"]))


def test_the_page_states_the_headline_and_the_count_of_every_status(
    result: Reconciliation, tmp_path: Path
) -> None:
    page = write_report(result, tmp_path).html.read_text(encoding="utf-8")
    counts = result.counts()

    assert counts == {
        "matched": 2,
        "amount_mismatch": 1,
        "paid_mismatch": 2,
        "missing_in_ar": 1,
        "unexpected_in_ar": 1,
        "total": 7,
        "zeroed_in_ar": 1,
    }
    assert "Not clean: 5 of 7 statements differ." in page
    for status in ("matched", "amount_mismatch", "paid_mismatch", "missing_in_ar"):
        row = re.search(rf'<tr id="count-{status}">(.*?)</tr>', page)
        assert row, status
        assert f'<td class="money">{counts[status]}</td>' in row[1]
    assert '<tr id="count-total"><th>total</th><td class="money">7</td>' in page
    assert re.search(r'id="count-zeroed_in_ar">1 of the matched', page)


def test_a_clean_reconciliation_says_so(tmp_path: Path) -> None:
    local = local_frame(local_row("PT-1", "2026-01", "100.00", "40.00"))
    clean = reconcile("PR-1", local, [ar_statement("PT-1", "2026-01", "100.00", "40.00")])

    page = write_report(clean, tmp_path).html.read_text(encoding="utf-8")

    assert "Clean: all 1 statements agree to the cent." in page
    assert "None: every statement matched." in page


def test_totals_are_the_same_decimals_in_the_csv_the_page_and_the_summary(
    result: Reconciliation, tmp_path: Path
) -> None:
    files = write_report(result, tmp_path)
    read = read_csv(files.csv)
    page = files.html.read_text(encoding="utf-8")
    totals = result.summary()["totals"]
    assert isinstance(totals, dict)

    for name, column in TOTALS.items():
        from_csv = sum((Decimal(r[column]) for r in read if r[column]), Decimal("0.00"))
        assert cell(page, f"finance-{name}") == totals[name] == str(from_csv), name
    assert totals["local_billed"] == "1480.10"
    assert totals["ar_billed"] == "257.55"
    assert cell(page, "finance-difference_billed") == "-1222.55"
    assert 'data-value="1480.10">1,480.10</td>' in page


def test_the_page_draws_billed_paid_and_outstanding_by_month_as_inline_svg(
    result: Reconciliation, tmp_path: Path
) -> None:
    page = write_report(result, tmp_path).html.read_text(encoding="utf-8")
    svg = page[page.index("<svg") : page.index("</svg>")]

    for label in ("Billed by month", "Paid by month", "Outstanding by month"):
        assert label in svg
    assert "Local (from the ledger)" in svg  # the legend
    assert ">AR</text>" in svg
    assert "Statement month" in svg  # the axes
    assert ">USD</text>" in svg
    for month in ("2026-01", "2026-02", "2026-03"):
        assert f">{month}</text>" in svg
    # One bar per side, month and measure, each with its exact value as a tooltip.
    assert svg.count("<rect") == 2 + 2 * 3 * 3
    assert "<title>2026-01 billed, Local (from the ledger): 180.00</title>" in svg
    assert "<title>2026-01 billed, AR: 180.01</title>" in svg


def test_the_page_escapes_text_from_the_data(tmp_path: Path) -> None:
    local = local_frame(local_row(HOSTILE, "2026-03", "9.99", "0.00"))
    hostile = reconcile(f"PR&{HOSTILE}", local, [])

    files = write_report(hostile, tmp_path)
    page = files.html.read_text(encoding="utf-8")

    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert files.html.parent == tmp_path  # the practice id names no directory


def test_the_page_fetches_nothing(result: Reconciliation, tmp_path: Path) -> None:
    page = write_report(result, tmp_path).html.read_text(encoding="utf-8")

    assert not re.search(r"https?:", page, flags=re.IGNORECASE)
    assert not re.search(r"<(link|script|img|iframe|object)\b|@import|url\(|\bsrc=", page)


def test_the_page_lists_at_most_a_thousand_differing_statements_and_points_to_the_csv(
    tmp_path: Path,
) -> None:
    local = local_frame(
        *(local_row(f"PT-{n:04d}", "2026-01", f"{n}.00", "0.00") for n in range(1, 1006))
    )
    files = write_report(reconcile("PR-1", local, []), tmp_path)
    page = files.html.read_text(encoding="utf-8")
    table = page[page.index('<table id="differing">') :]

    assert table.count("<tr>") == 1 + 1_000
    assert "Showing 1,000 of 1,005; every statement is in reconciliation_PR-1.csv." in page
    assert ">STMT-2026-01-PT-1005<" in table  # largest first
    assert ">STMT-2026-01-PT-0001<" not in table
    assert len(read_csv(files.csv)) == 1_005


def test_the_page_says_when_it_was_made(result: Reconciliation, tmp_path: Path) -> None:
    when = datetime(2026, 6, 1, 7, 30, tzinfo=UTC)

    page = write_report(result, tmp_path, generated_at=when).html.read_text(encoding="utf-8")

    assert "Generated 2026-06-01T07:30:00+00:00." in page
