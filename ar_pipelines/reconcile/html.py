"""The HTML page of a reconciliation: one self-contained file that finance opens offline.

No stylesheet, script, font or image is fetched: the style is inline and the chart is
inline SVG. Every piece of text from the data goes through ``html.escape``.
"""

from __future__ import annotations

import html
from datetime import datetime

import pandas as pd

from ar_pipelines.reconcile.chart import monthly_chart_svg
from ar_pipelines.reconcile.coverage import Coverage
from ar_pipelines.reconcile.finance import finance_html, money_cell
from ar_pipelines.reconcile.result import (
    STATUS_MEANINGS,
    Reconciliation,
    Status,
)
from ar_pipelines.reconcile.why import CAUSE_MEANINGS, Cause, Causes, Pair, value_text

TABLE_LIMIT = 1_000
STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1200px; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
.headline { font-size: 1.2em; padding: .6em 1em; border-radius: 4px; }
.clean { background: #e3f4e1; border: 1px solid #5a9e50; }
.not-clean { background: #fbe6e2; border: 1px solid #c0503a; }
table { border-collapse: collapse; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; }
td.money { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.meta, .note { color: #555; }
details.why { margin: .4em 0; } details.why table { margin: .3em 0 .6em 1.2em; }
tr.differs td { background: #fff4d6; }
"""
DIFFERING_COLUMNS = (
    ("key", "Statement", False),
    ("customer_external_id", "Customer", False),
    ("period_start", "Month", False),
    ("status", "Status", False),
    ("local_amount", "Local amount", True),
    ("ar_amount", "AR amount", True),
    ("amount_difference", "Amount: AR - local", True),
    ("local_paid", "Local paid", True),
    ("ar_paid", "AR paid", True),
    ("paid_difference", "Paid: AR - local", True),
    ("ar_statement_id", "AR statement id", False),
    ("ar_status", "AR status", False),
    ("enrollment_status", "Enrollment", False),
)


def render_html(
    result: Reconciliation,
    *,
    generated_at: datetime,
    csv_name: str,
    limit: int = TABLE_LIMIT,
    coverage: Coverage | None = None,
    causes: Causes | None = None,
    finance: str | None = None,
) -> str:
    """The page; with ``causes``, the differing statements carry their causes ("Why")
    and a drill-down per statement looked at, its entries local against AR. ``finance``
    (``finance.finance_html``: the totals, the source tie-out, the aging) goes first;
    without it, the totals alone."""
    practice = html.escape(result.practice_id)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>Reconciliation of practice {practice}</title>",
            f"<style>{STYLE}</style></head><body>",
            f"<h1>Reconciliation of practice {practice}</h1>",
            f'<p class="meta">Statements computed from the ledger (local) against the'
            f" statements Agile Receivables holds (AR), to the cent. Generated"
            f" {html.escape(generated_at.isoformat(timespec='seconds'))}.</p>",
            _headline(result),
            _coverage(coverage),
            finance if finance is not None else finance_html(result),
            "<h2>Statements by status</h2>",
            _counts_table(result),
            "<h2>By month</h2>",
            monthly_chart_svg(result.by_month),
            _monthly_table(result),
            "<h2>Statements that differ</h2>",
            _differing_table(result, csv_name=csv_name, limit=limit, causes=causes),
            _why_section(causes, limit=limit),
            "</body></html>",
        ]
    )


def _headline(result: Reconciliation) -> str:
    counts = result.counts()
    total = counts["total"]
    if result.clean:
        text = f"Clean: all {total:,} statements agree to the cent."
        return f'<p class="headline clean" id="headline">{html.escape(text)}</p>'
    differing = total - counts[Status.MATCHED]
    text = f"Not clean: {differing:,} of {total:,} statements differ."
    return f'<p class="headline not-clean" id="headline">{html.escape(text)}</p>'


def _coverage(coverage: Coverage | None) -> str:
    """What this run read back from AR, and the last full reconciliation."""
    if coverage is None:
        return ""
    return f'<p class="meta" id="coverage">{html.escape(coverage.sentence())}</p>'


def _counts_table(result: Reconciliation) -> str:
    counts = result.counts()
    rows = [
        f'<tr id="count-{status.value}"><td>{html.escape(status.value)}</td>'
        f'<td class="money">{counts[status.value]:,}</td>'
        f"<td>{html.escape(STATUS_MEANINGS[status])}</td></tr>"
        for status in Status
    ]
    total = f'<td class="money">{counts["total"]:,}</td>'
    rows.append(f'<tr id="count-total"><th>total</th>{total}<td></td></tr>')
    zeroed = (
        f'<p class="note" id="count-zeroed_in_ar">{counts["zeroed_in_ar"]} of the matched'
        " statements are kept in AR at zero after their month stopped qualifying"
        " (enrolled statements are never deleted).</p>"
    )
    head = "<tr><th>Status</th><th>Statements</th><th>Meaning</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>{zeroed}"


def _monthly_table(result: Reconciliation) -> str:
    names = [
        f"{side}_{measure}"
        for measure in ("billed", "paid", "outstanding")
        for side in ("local", "ar")
    ]
    head = "".join(f"<th>{html.escape(n.replace('_', ' '))}</th>" for n in names)
    rows = [
        f"<tr><td>{html.escape(format(month['month'], '%Y-%m'))}</td>"
        + "".join(money_cell(month[n]) for n in names)
        + "</tr>"
        for month in result.by_month.to_dict("records")
    ]
    return (
        "<details><summary>The same by month, as numbers</summary>"
        f"<table><tr><th>Month</th>{head}</tr>{''.join(rows)}</table></details>"
    )


def _differing_table(
    result: Reconciliation, *, csv_name: str, limit: int, causes: Causes | None = None
) -> str:
    differing = result.differing()
    if differing.empty:
        return '<p class="note">None: every statement matched.</p>'
    titles = [title for _, title, _ in DIFFERING_COLUMNS] + (["Why"] if causes else [])
    head = "".join(f"<th>{html.escape(title)}</th>" for title in titles)
    why = causes.by_statement() if causes is not None else {}
    rows = []
    for row in differing.head(limit).to_dict("records"):
        cells = [
            money_cell(row[name]) if is_money else f"<td>{_text(row[name])}</td>"
            for name, _, is_money in DIFFERING_COLUMNS
        ]
        if causes is not None:
            cells.append(_why_cell(str(row["key"]), why, causes))
        rows.append(f"<tr>{''.join(cells)}</tr>")
    shown = min(limit, len(differing))
    note = (
        f"Largest differences first. Showing {shown:,} of {len(differing):,};"
        f" every statement is in {csv_name}."
        if len(differing) > limit
        else f"Largest differences first; every statement is in {csv_name}."
    )
    return (
        f'<p class="note" id="differing-note">{html.escape(note)}</p>'
        f'<table id="differing"><tr>{head}</tr>{"".join(rows)}</table>'
    )


def _why_cell(key: str, why: dict[str, list[str]], causes: Causes) -> str:
    """The statement's causes, linked to its drill-down; or why there are none."""
    if key not in causes.pairs:
        return '<td class="note">not looked at (over the limit)</td>'
    found = ", ".join(why.get(key, []))
    return f'<td class="why"><a href="#why-{_anchor(key)}">{html.escape(found)}</a></td>'


def _why_section(causes: Causes | None, *, limit: int) -> str:
    """Each statement looked at: its causes, and its entries and allocations, local
    against AR, in a ``<details>`` element."""
    if causes is None or causes.differing == 0:
        return ""
    counts = causes.counts()
    rows = "".join(
        f'<tr id="cause-{cause.value}"><td>{html.escape(cause.value)}</td>'
        f'<td class="money">{counts[cause.value]:,}</td>'
        f"<td>{html.escape(CAUSE_MEANINGS[cause])}</td></tr>"
        for cause in Cause
    )
    capped = (
        f"Looked at the {causes.explained:,} largest of {causes.differing:,} differing"
        f" statements (limit {causes.limit:,}); the others on a later run."
        if causes.capped
        else f"Looked at every one of the {causes.differing:,} differing statements."
    )
    by_key = {
        str(key): group for key, group in causes.rows.groupby("external_invoice_id", sort=False)
    }
    details = [
        _drill_down(key, pairs, by_key.get(key))
        for key, pairs in list(causes.pairs.items())[:limit]
    ]
    return "\n".join(
        [
            '<h2 id="why">Why they differ</h2>',
            f'<p class="note" id="causes-capped">{html.escape(capped)}</p>',
            "<table><tr><th>Cause</th><th>Rows</th><th>Meaning</th></tr>" + rows + "</table>",
            *details,
        ]
    )


def _drill_down(key: str, pairs: list[Pair], found: pd.DataFrame | None) -> str:
    causes_rows = found.to_dict("records") if found is not None else []
    summary = ", ".join(dict.fromkeys(str(row["cause"]) for row in causes_rows)) or "no cause"
    listed = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(value_text(row[name]))}</td>"
            for name in ("cause", "entry_external_id", "field", "local_value", "ar_value")
        )
        + "</tr>"
        for row in causes_rows
    )
    differing = {str(row["entry_external_id"]) for row in causes_rows}
    side_by_side = "".join(_pair_row(pair, pair.external_id in differing) for pair in pairs)
    return (
        f'<details class="why" id="why-{_anchor(key)}"><summary>{html.escape(key)}:'
        f" {html.escape(summary)}</summary>"
        "<table><tr><th>Cause</th><th>Entry</th><th>Field</th><th>Local</th><th>AR</th></tr>"
        f"{listed}</table>"
        "<table><tr><th>Kind</th><th>Entry</th><th>Local date</th><th>Local type</th>"
        "<th>Local amount</th><th>AR date</th><th>AR type</th><th>AR amount</th></tr>"
        f"{side_by_side}</table></details>"
    )


def _pair_row(pair: Pair, differs: bool) -> str:
    cells = [f"<td>{html.escape(pair.kind)}</td>", f"<td>{html.escape(pair.external_id)}</td>"]
    for side in (pair.local, pair.ar):
        if side is None:
            cells.append('<td colspan="3" class="note">absent</td>')
            continue
        date_text = "" if pair.kind == "allocation" else side.transaction_date.isoformat()
        cells.append(f"<td>{html.escape(date_text)}</td>")
        cells.append(f"<td>{html.escape(side.transaction_type)}</td>")
        cells.append(money_cell(side.amount))
    marked = ' class="differs"' if differs else ""
    return f"<tr{marked}>{''.join(cells)}</tr>"


def _anchor(key: str) -> str:
    """A statement number as an element id: letters, digits, ``-`` and ``_`` only."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in key)


def _text(value: object) -> str:
    if value is None:
        return ""
    return html.escape(value.isoformat() if hasattr(value, "isoformat") else str(value))
