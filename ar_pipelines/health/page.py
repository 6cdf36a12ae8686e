"""``practices.html``: one self-contained page with a row per practice.

Nothing is fetched (the style is inline, there is no script, font or image), so the page
opens offline and from a mail attachment. Every piece of text from the data goes through
``html.escape``. Practices with a problem come first, their row marked and each cell
that is wrong highlighted; the others follow in the order they were given.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from ar_pipelines.health.row import (
    DEFAULT_MAX_CLEAN_AGE,
    PracticeHealth,
    describe_age,
    percent,
    problems,
    stale_reasons,
)

PAGE_NAME = "practices.html"
STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; }
.meta, .muted { color: #555; }
.headline { font-size: 1.1em; padding: .6em 1em; border-radius: 4px; display: inline-block; }
.all-well { background: #e3f4e1; border: 1px solid #5a9e50; }
.attention { background: #fbe6e2; border: 1px solid #c0503a; }
table { border-collapse: collapse; font-size: .85em; margin-top: 1em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.money { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.problem td:first-child { border-left: 4px solid #c0503a; }
td.bad { background: #fbe6e2; color: #8a1f0d; font-weight: bold; }
td.good { background: #eef8ec; }
ul.problems { margin: 0; padding-left: 1.2em; }
small { color: #555; }
"""
HEADERS = (
    "Practice",
    "Last run",
    "Quarantine (last normalization)",
    "Pushes refused",
    "Reconciliation",
    "Last clean reconciliation",
    "Outstanding in AR",
    "Source",
    "Problems",
)


def render_page(
    rows: Sequence[PracticeHealth],
    *,
    generated_at: datetime,
    max_clean_age: timedelta = DEFAULT_MAX_CLEAN_AGE,
) -> str:
    """The page for ``rows`` as of ``generated_at`` (aware): a headline, then one table
    row per practice, those with a problem first."""
    if generated_at.tzinfo is None:
        raise ValueError("render_page needs an aware time (UTC), not a naive one")
    now = generated_at.astimezone(UTC)
    found = {row.practice_id: problems(row, now, max_clean_age) for row in rows}
    ordered = sorted(rows, key=lambda row: not found[row.practice_id])  # stable
    body = [
        f"<tr>{''.join(f'<th>{html.escape(h)}</th>' for h in HEADERS)}</tr>",
        *(_row(row, found[row.practice_id], now, max_clean_age) for row in ordered),
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            "<title>Practices: how each stands</title>",
            f"<style>{STYLE}</style></head><body>",
            "<h1>Practices: how each stands</h1>",
            f'<p class="meta">Generated {_escaped_time(now)} from the runs Dagster recorded.'
            f" A last clean reconciliation older than {html.escape(describe_age(max_clean_age))}"
            " is stale. Times are UTC.</p>",
            _headline(rows, found, now, max_clean_age),
            f"<table>{''.join(body)}</table>",
            "</body></html>",
        ]
    )


def write_page(
    rows: Sequence[PracticeHealth],
    directory: Path,
    *,
    generated_at: datetime,
    max_clean_age: timedelta = DEFAULT_MAX_CLEAN_AGE,
) -> Path:
    """Write the page as ``practices.html`` in ``directory`` (made if missing) and return
    its absolute path. The file is replaced whole: a reader never sees half a page."""
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / PAGE_NAME
    text = render_page(rows, generated_at=generated_at, max_clean_age=max_clean_age)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".practices.", suffix=".html")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _headline(
    rows: Sequence[PracticeHealth],
    found: dict[str, list[str]],
    now: datetime,
    max_clean_age: timedelta,
) -> str:
    not_clean = sum(row.reconciliation_clean is False for row in rows)
    failed = sum(row.last_run_failed for row in rows)
    stale = sum(bool(stale_reasons(row, now, max_clean_age)) for row in rows)
    troubled = sum(bool(found[row.practice_id]) for row in rows)
    if not rows:
        return '<p class="headline all-well">The practices file lists no practice.</p>'
    if not troubled:
        everyone = "The practice is" if len(rows) == 1 else f"All {len(rows)} practices are"
        return f'<p class="headline all-well">{everyone} well.</p>'
    return (
        f'<p class="headline attention">{troubled} of {len(rows)} practices need attention:'
        f" {not_clean} not clean, {failed} with a failed last run, {stale} stale.</p>"
    )


def _row(row: PracticeHealth, found: list[str], now: datetime, max_clean_age: timedelta) -> str:
    stale_clean = row.has_run and (
        row.last_clean_at is None or now - row.last_clean_at > max_clean_age
    )
    cells = [
        _cell(_practice(row)),
        _cell(_last_run(row, now), bad=row.last_run_failed),
        _cell(_quarantine(row), bad=row.quarantine_over_threshold),
        _cell(_number(row.pushes_refused, row.in_dead_letter), bad=bool(row.pushes_refused)),
        _cell(
            _reconciliation(row, now),
            bad=row.reconciliation_clean is False,
            good=row.reconciliation_clean is True,
        ),
        _cell(_moment(row.last_clean_at, now) or "never", bad=stale_clean),
        _cell(_money(row.ar_outstanding), css="money"),
        _cell(_source(row, now), bad=row.source_stale),
        _cell(_problems(found)),
    ]
    marked = ' class="problem"' if found else ""
    return f'<tr{marked} id="practice-{html.escape(row.practice_id)}">{"".join(cells)}</tr>'


def _cell(content: str, *, bad: bool = False, good: bool = False, css: str = "") -> str:
    """A table cell of ``content`` (HTML already escaped)."""
    classes = " ".join(c for c in (css, "bad" if bad else "", "good" if good else "") if c)
    return f'<td class="{classes}">{content}</td>' if classes else f"<td>{content}</td>"


def _practice(row: PracticeHealth) -> str:
    ident = f"<strong>{html.escape(row.practice_id)}</strong>"
    return f"{ident}<br><small>{html.escape(row.name)}</small>" if row.name else ident


def _last_run(row: PracticeHealth, now: datetime) -> str:
    if row.last_run_id is None:
        return '<span class="muted">never run</span>'
    ended = _moment(row.last_run_ended_at, now) or "not ended"
    return (
        f"{html.escape(row.last_run_status or '?')} &middot; {html.escape(row.last_run_job or '?')}"
        f"<br>{ended}<br><small>run {html.escape(row.last_run_id)}</small>"
    )


def _quarantine(row: PracticeHealth) -> str:
    if row.quarantined is None and row.quarantine_share is None:
        return ""
    parts = [html.escape(percent(row.quarantine_share)) or "?"]
    if row.quarantined is not None:
        parts.append(f"<small>{row.quarantined} row(s) quarantined</small>")
    if row.open_in_quarantine is not None:
        parts.append(f"<small>{row.open_in_quarantine} open in the quarantine</small>")
    if row.quarantine_threshold is not None:
        parts.append(f"<small>threshold {html.escape(percent(row.quarantine_threshold))}</small>")
    return "<br>".join(parts)


def _number(refused: int | None, waiting: int | None) -> str:
    if refused is None:
        return ""
    if waiting:
        return f"{refused}<br><small>{waiting} in the dead letter</small>"
    return str(refused)


def _reconciliation(row: PracticeHealth, now: datetime) -> str:
    if row.reconciliation_clean is None:
        return '<span class="muted">never</span>'
    counts = ", ".join(
        f"{html.escape(name)} {count}" for name, count in row.counts.items() if count is not None
    )
    return (
        f"{html.escape(row.reconciliation_status)}<br>{_moment(row.reconciled_at, now)}"
        f"<br><small>{counts}</small>"
    )


def _source(row: PracticeHealth, now: datetime) -> str:
    if row.extracted_at is None:
        return ""
    parts = [f"extracted {_moment(row.extracted_at, now)}"]
    if row.source_sync_status is not None:
        parts.append(f"Sikka: {html.escape(row.source_sync_status)}")
    if row.source_data_loaded is not None:
        parts.append(f"data loaded {html.escape(row.source_data_loaded)}")
    if row.source_warning is not None:
        parts.append(f"<small>{html.escape(row.source_warning)}</small>")
    return "<br>".join(parts)


def _problems(found: list[str]) -> str:
    if not found:
        return ""
    items = "".join(f"<li>{html.escape(problem)}</li>" for problem in found)
    return f'<ul class="problems">{items}</ul>'


def _moment(moment: datetime | None, now: datetime) -> str:
    """A time as ISO 8601 UTC and how long before ``now`` it was, escaped."""
    if moment is None:
        return ""
    return f"{_escaped_time(moment)} <small>({html.escape(describe_age(now - moment))} ago)</small>"


def _escaped_time(moment: datetime) -> str:
    return html.escape(moment.astimezone(UTC).isoformat(timespec="seconds"))


def _money(value: Decimal | None) -> str:
    return "" if value is None else html.escape(f"{value:.2f}")
