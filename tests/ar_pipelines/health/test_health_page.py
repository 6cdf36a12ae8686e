"""The practices page and its stale rules, from rows alone: what counts as stale (to the
second at the 26-hour boundary), what is highlighted, and that the page is one escaped,
self-contained file."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ar_pipelines.health import (
    DEFAULT_MAX_CLEAN_AGE,
    PAGE_NAME,
    PracticeHealth,
    problems,
    render_page,
    stale_reasons,
    write_page,
)

NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script>'

# A practice that is well: its last night succeeded and reconciled clean an hour ago.
WELL = PracticeHealth(
    practice_id="P001",
    last_run_id="run-1",
    last_run_job="nightly_sync",
    last_run_status="SUCCESS",
    last_run_ended_at=NOW - timedelta(hours=1),
    quarantine_share=0.01,
    quarantined=3,
    quarantine_threshold=0.05,
    pushes_refused=0,
    reconciled_at=NOW - timedelta(hours=1),
    reconciliation_clean=True,
    matched=40,
    amount_mismatch=0,
    paid_mismatch=0,
    missing_in_ar=0,
    unexpected_in_ar=0,
    last_clean_at=NOW - timedelta(hours=1),
    ar_outstanding=Decimal("1234.5"),
    extracted_at=NOW - timedelta(hours=1),
)


@dataclass
class Row:
    id: str
    classes: set[str]
    cells: list[tuple[set[str], str]] = field(default_factory=list)


class Rows(HTMLParser):
    """The table's rows: their id and classes, each cell's classes and text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = set((found.get("class") or "").split())
        if tag == "tr" and found.get("id"):
            self.rows.append(Row(str(found["id"]), classes))
        elif tag == "td" and self.rows:
            self.rows[-1].cells.append((classes, ""))
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            classes, _ = self.rows[-1].cells[-1]
            self.rows[-1].cells[-1] = (classes, " ".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data.strip())


def parsed(page: str) -> list[Row]:
    parser = Rows()
    parser.feed(page)
    return parser.rows


def test_a_clean_reconciliation_exactly_26_hours_old_is_not_stale_yet() -> None:
    row = replace(WELL, last_clean_at=NOW - timedelta(hours=26))

    assert stale_reasons(row, NOW) == []
    assert stale_reasons(row, NOW, DEFAULT_MAX_CLEAN_AGE) == []


def test_a_clean_reconciliation_a_second_past_26_hours_is_stale() -> None:
    row = replace(WELL, last_clean_at=NOW - timedelta(hours=26, seconds=1))

    [reason] = stale_reasons(row, NOW)
    assert reason.startswith("last clean reconciliation 26 h ago")
    assert "more than 26 h" in reason


def test_the_age_past_which_a_clean_reconciliation_is_stale_can_be_chosen() -> None:
    row = replace(WELL, last_clean_at=NOW - timedelta(hours=3))

    assert stale_reasons(row, NOW, timedelta(hours=3)) == []
    assert len(stale_reasons(row, NOW, timedelta(hours=2, minutes=59))) == 1


def test_a_practice_that_has_run_but_never_reconciled_clean_is_stale() -> None:
    row = replace(WELL, reconciliation_clean=False, last_clean_at=None)

    assert stale_reasons(row, NOW) == ["never reconciled clean, though it has run"]


def test_a_practice_never_run_is_not_stale() -> None:
    assert stale_reasons(PracticeHealth("P009"), NOW) == []


def test_an_office_sikka_reports_not_refreshing_is_stale_with_sikkas_words() -> None:
    warning = "the source reports data_sync_status 'stopped', data last loaded 2026-03-01"
    row = replace(WELL, source_stale=True, source_sync_status="stopped", source_warning=warning)

    assert stale_reasons(row, NOW) == [f"Sikka reports the office is not refreshing: {warning}"]


def test_the_stale_rules_refuse_a_time_without_a_zone() -> None:
    with pytest.raises(ValueError, match="aware"):
        stale_reasons(WELL, NOW.replace(tzinfo=None))


def test_problems_name_a_failed_run_an_unclean_reconciliation_and_refused_pushes() -> None:
    row = replace(
        WELL,
        last_run_status="FAILURE",
        reconciliation_clean=False,
        amount_mismatch=2,
        missing_in_ar=1,
        pushes_refused=4,
        quarantine_share=0.2,
    )

    assert problems(row, NOW) == [
        "last run FAILURE (nightly_sync)",
        "reconciliation NOT clean (2 amount_mismatch, 1 missing_in_ar)",
        "AR refused 4 record(s) in the last push",
        "quarantined 20.00% of the rows read, over the threshold of 5.00%",
    ]
    assert problems(WELL, NOW) == []


def test_the_page_highlights_each_problem_and_lists_troubled_practices_first() -> None:
    failed = replace(WELL, practice_id="P002", last_run_status="FAILURE")
    unclean = replace(
        WELL, practice_id="P003", reconciliation_clean=False, amount_mismatch=1, last_clean_at=None
    )
    refused = replace(WELL, practice_id="P004", pushes_refused=2)
    stale_source = replace(WELL, practice_id="P005", source_stale=True)
    old_clean = replace(WELL, practice_id="P006", last_clean_at=NOW - timedelta(hours=30))
    rows = [WELL, failed, unclean, refused, stale_source, old_clean]

    found = {row.id: row for row in parsed(render_page(rows, generated_at=NOW))}

    def bad(practice: str) -> list[int]:
        return [i for i, (classes, _) in enumerate(found[practice].cells) if "bad" in classes]

    # Columns: practice, last run, quarantine, refused, reconciliation, last clean, outstanding,
    # source, problems.
    assert bad("practice-P001") == []
    assert bad("practice-P002") == [1]
    assert bad("practice-P003") == [4, 5]
    assert bad("practice-P004") == [3]
    assert bad("practice-P005") == [7]
    assert bad("practice-P006") == [5]
    assert "problem" not in found["practice-P001"].classes
    assert all("problem" in found[f"practice-P00{n}"].classes for n in range(2, 7))
    order = [row.id for row in parsed(render_page(rows, generated_at=NOW))]
    assert order[-1] == "practice-P001"
    assert order[:5] == [f"practice-P00{n}" for n in range(2, 7)]


def test_the_page_escapes_every_text_from_the_data() -> None:
    row = replace(
        WELL,
        name=HOSTILE,
        last_run_job=HOSTILE,
        source_stale=True,
        source_sync_status=HOSTILE,
        source_warning=HOSTILE,
        source_data_loaded=HOSTILE,
    )

    page = render_page([row], generated_at=NOW)

    assert HOSTILE not in page
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_the_page_is_self_contained_and_shows_money_to_the_cent() -> None:
    never = PracticeHealth("P009")

    page = render_page([WELL, never], generated_at=NOW)

    for outside in ("http://", "https://", "src=", "<link", "@import", "url("):
        assert outside not in page
    [well] = [row for row in parsed(page) if row.id == "practice-P001"]
    classes, text = well.cells[6]
    assert "money" in classes
    assert text == "1234.50"
    [unknown] = [row for row in parsed(page) if row.id == "practice-P009"]
    assert "never run" in unknown.cells[1][1]
    assert "problem" not in unknown.classes


def test_the_headline_counts_practices_not_clean_failed_and_stale() -> None:
    failed = replace(WELL, practice_id="P002", last_run_status="FAILURE")
    unclean = replace(WELL, practice_id="P003", reconciliation_clean=False, last_clean_at=None)

    assert "The practice is well." in render_page([WELL], generated_at=NOW)
    assert "All 2 practices are well." in render_page(
        [WELL, replace(WELL, practice_id="P002")], generated_at=NOW
    )
    page = render_page([WELL, failed, unclean], generated_at=NOW)
    assert "2 of 3 practices need attention: 1 not clean, 1 with a failed last run, 1 stale." in (
        page
    )


def test_writing_the_page_replaces_practices_html_whole(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    first = write_page([WELL], reports, generated_at=NOW)
    second = write_page(
        [replace(WELL, practice_id="P777")], reports, generated_at=NOW + timedelta(hours=1)
    )

    assert first == second == (reports / PAGE_NAME).resolve()
    assert second.is_absolute()
    text = second.read_text(encoding="utf-8")
    assert "P777" in text
    assert "P001" not in text
    assert sorted(path.name for path in reports.iterdir()) == [PAGE_NAME]
