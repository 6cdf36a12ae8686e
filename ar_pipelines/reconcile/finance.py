"""Finance's view of a practice: the source's money tied out to what became of it, the
outstanding aged, and both as an HTML fragment for the top of the reconciliation report.

The source tie-out (``source_tie_out``) answers "did every dollar the source gave us end
up somewhere?". Its scope is the transaction rows of ``raw.transactions`` for the
practice: the latest increment read from the source (a whole read the first night, the
rows loaded since the last read after that). Each row ends in exactly one place, found
from the warehouse's own tables rather than by normalizing again:

- **quarantined**: the open quarantine (``normalized.quarantine``) holds this run's
  verdict on the row; matched by the row's text, which each verdict keeps (``raw``);
- **normalized**: otherwise, the ledger entry of its number (``normalized.ledger_entries``);
- **deletion of a row never stored**: a row the source reports deleted whose number no
  run ever stored; nothing in AR to void, so it leaves no entry;
- **unaccounted**: in neither table. Expected to be zero; any row here is a finding.

"Amount read" is the row's ``amount`` field, in the source's own sign, parsed exactly as
the normalizer parses it (Sikka's four decimals, zeros past the cents ignored). A row
whose amount is not money (empty, not a number, more than two decimals, or 10^10 or
more) has no amount to add: it is counted in ``rows_without_amount`` and left out of
every sum. ``estimated_insurance_payment`` and ``amount_paid`` are not tied out: they
are estimates and annotations, not money moved.

The read total equals the sum of the lines, to the cent. For the normalized rows the
ledger amount is given beside the source amount: AR's sign convention (credits are
negative whatever sign the source booked) and voids (a deleted row enters the ledger at
0) make the two differ; ``ledger_disagreements`` counts normalized rows whose entry is
neither the source amount, nor its negation, nor (for a deleted row) zero. Expected 0.

Outside the tie-out, and reported beside it: transaction verdicts still open from
earlier reads (rows not read again since), and quarantined patients and guarantors,
which carry no money.

Aging (``aging``) puts each statement's outstanding in a bucket by the age of its
period's end (the last day of the statement month) on the ``as_of`` day.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from ar_pipelines.normalize import money
from ar_pipelines.normalize.present import key_ids
from ar_pipelines.normalize.quarantine import raw_json
from ar_pipelines.normalize.text import Coded, truthy
from ar_pipelines.reconcile.inputs import ZERO
from ar_pipelines.reconcile.result import MONEY_COLUMNS, ROW_COLUMNS, Reconciliation, money_text
from ar_pipelines.sources.schema import TRANSACTION_COLUMNS
from ar_pipelines.warehouse import LEDGER_ENTRIES, QUARANTINE, RAW_TRANSACTIONS, Warehouse
from ar_pipelines.warehouse.tables import RECONCILED

NORMALIZED = "normalized"
QUARANTINED = "quarantined"
NEVER_STORED = "deletion_of_row_never_stored"
UNACCOUNTED = "unaccounted"
OUTCOME_MEANINGS = {
    NORMALIZED: "Became a ledger entry sent to AR.",
    QUARANTINED: "Held back in the quarantine, for the reason given.",
    NEVER_STORED: "A deletion the source reported of a row no run ever stored: nothing to"
    " void in AR.",
    UNACCOUNTED: "Found neither in the ledger nor in the quarantine: to investigate.",
}
# Beyond this many numbers, the practice's ledger is read whole rather than looked up.
LOOK_UP_AT_MOST = 20_000
TIE_OUT_COLUMNS = (
    "outcome",
    "reason",
    "rows",
    "rows_without_amount",
    "source_amount",
    "ledger_amount",
)

# The age buckets, in days since the statement period ended: (label, first day, last day).
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-180", 91, 180),
    ("over 180", 181, None),
)
AGING_COLUMNS = (
    "bucket",
    "local_statements",
    "local_outstanding",
    "ar_statements",
    "ar_outstanding",
    "outstanding_difference",
)


@dataclass(frozen=True)
class TieOutLine:
    """The rows of one outcome (and quarantine reason) and their money: ``source_amount``
    is the sum of their amounts as read; ``ledger_amount`` that of their ledger entries
    (normalized rows only, else ``None``)."""

    outcome: str
    reason: str
    rows: int
    rows_without_amount: int
    source_amount: Decimal
    ledger_amount: Decimal | None = None


@dataclass(frozen=True)
class TieOut:
    """The practice's latest increment read, tied out to what became of each row."""

    practice_id: str
    read_rows: int
    read_without_amount: int
    read_amount: Decimal
    lines: tuple[TieOutLine, ...]
    ledger_disagreements: int
    # Outside the tie-out: verdicts from earlier reads still open, and people.
    earlier_open_rows: int
    earlier_open_without_amount: int
    earlier_open_amount: Decimal
    people_quarantined: int

    @property
    def accounted_amount(self) -> Decimal:
        """The lines' amounts added up."""
        return sum((line.source_amount for line in self.lines), ZERO)

    @property
    def difference(self) -> Decimal:
        """Read less accounted for: zero when the tie-out ties."""
        return self.read_amount - self.accounted_amount

    @property
    def ties(self) -> bool:
        """Every row and every cent read is accounted for, and none is unaccounted."""
        rows = sum(line.rows for line in self.lines)
        unaccounted = sum(line.rows for line in self.lines if line.outcome == UNACCOUNTED)
        return (
            self.difference == ZERO
            and rows == self.read_rows
            and unaccounted == 0
            and self.ledger_disagreements == 0
        )

    def frame(self) -> pd.DataFrame:
        """The lines as a table (``TIE_OUT_COLUMNS``), money as ``Decimal``."""
        return pd.DataFrame(
            [
                (
                    line.outcome,
                    line.reason,
                    line.rows,
                    line.rows_without_amount,
                    line.source_amount,
                    line.ledger_amount,
                )
                for line in self.lines
            ],
            columns=list(TIE_OUT_COLUMNS),
        ).astype({"source_amount": object, "ledger_amount": object})


@dataclass(frozen=True)
class Aging:
    """Outstanding by age bucket on ``as_of``: one row per bucket (``AGING_COLUMNS``),
    money as ``Decimal``; ``outstanding_difference`` is AR - local."""

    as_of: date
    buckets: pd.DataFrame

    def totals(self) -> dict[str, Decimal | int]:
        """Each column summed over the buckets."""
        return {
            name: sum(self.buckets[name].tolist(), ZERO if "outstanding" in name else 0)
            for name in AGING_COLUMNS[1:]
        }


# The source tie-out ------------------------------------------------------------------


def source_tie_out(warehouse: Warehouse, practice_id: str) -> TieOut:
    """The practice's latest increment read (``raw.transactions``), row by row, to the
    ledger or the quarantine; see the module's description for each outcome."""
    raw = warehouse.read(RAW_TRANSACTIONS, practice_id=practice_id, columns=TRANSACTION_COLUMNS)
    raw = raw.reset_index(drop=True)
    cents, has_amount = _amounts(raw["amount"])
    quarantine = warehouse.read(
        QUARANTINE, practice_id=practice_id, columns=["source", "reason", "raw"]
    )
    of_rows = quarantine[quarantine["source"] == "transactions"]
    # Each open verdict, by the text of the row it judged; a text met twice in the read
    # (an exact repeat) takes its verdicts in turn.
    verdicts: dict[str, list[str]] = defaultdict(list)
    for text, reason in zip(of_rows["raw"], of_rows["reason"], strict=True):
        verdicts[str(text)].append(str(reason))
    texts = raw_json(raw, np.arange(len(raw), dtype=np.intp))
    reasons: list[str | None] = []
    for text in texts:
        waiting = verdicts.get(text)
        reasons.append(waiting.pop(0) if waiting else None)
    ids = key_ids(raw)
    unjudged = [i for i, r in enumerate(reasons) if r is None and ids[i] is not None]
    ledger = _ledger_amounts(warehouse, practice_id, [str(ids[i]) for i in unjudged])
    deleted = truthy(Coded.of(raw["is_deleted"]).rows())

    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    disagreements = 0
    ledger_sum = ZERO
    for at, reason in enumerate(reasons):
        if reason is not None:
            groups[(QUARANTINED, reason)].append(at)
            continue
        entry = ledger.get(str(ids[at])) if ids[at] is not None else None
        if entry is None:
            outcome = NEVER_STORED if deleted[at] else UNACCOUNTED
            groups[(outcome, "")].append(at)
            continue
        groups[(NORMALIZED, "")].append(at)
        ledger_sum += entry
        read = _decimal(int(cents[at])) if has_amount[at] else None
        if not _agrees(read, entry, deleted=bool(deleted[at])):
            disagreements += 1

    lines = []
    for (outcome, reason), rows in sorted(groups.items(), key=_line_order):
        picked = np.array(rows, dtype=np.intp)
        lines.append(
            TieOutLine(
                outcome=outcome,
                reason=reason,
                rows=len(rows),
                rows_without_amount=int((~has_amount[picked]).sum()),
                source_amount=_sum_cents(cents[picked][has_amount[picked]]),
                ledger_amount=ledger_sum if outcome == NORMALIZED else None,
            )
        )
    # Verdicts no row of this read took: rows of earlier reads, not read again since.
    left = [text for text, waiting in verdicts.items() for _ in waiting]
    earlier_cents, earlier_has = _amounts(pd.Series(_raw_amounts(left), dtype=object))
    return TieOut(
        practice_id=practice_id,
        read_rows=len(raw),
        read_without_amount=int((~has_amount).sum()),
        read_amount=_sum_cents(cents[has_amount]),
        lines=tuple(lines),
        ledger_disagreements=disagreements,
        earlier_open_rows=len(left),
        earlier_open_without_amount=int((~earlier_has).sum()),
        earlier_open_amount=_sum_cents(earlier_cents[earlier_has]),
        people_quarantined=int((quarantine["source"] != "transactions").sum()),
    )


def _line_order(item: tuple[tuple[str, str], list[int]]) -> tuple[int, str]:
    (outcome, reason), _ = item
    return (list(OUTCOME_MEANINGS).index(outcome), reason)


def _amounts(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each text's cents and whether it is money, parsed as the normalizer parses them."""
    coded = Coded.of(texts.reset_index(drop=True))
    cents, problems = money.Amounts().parse(coded.values)
    row_cents = coded.take(cents, 0).astype(np.int64)
    row_problems = coded.take(problems, money.Problem.MISSING).astype(np.int64)
    return row_cents, row_problems == money.Problem.NONE


def _sum_cents(cents: np.ndarray) -> Decimal:
    return _decimal(sum(int(c) for c in cents))


def _decimal(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _agrees(read: Decimal | None, entry: Decimal, *, deleted: bool) -> bool:
    """A ledger entry is its row's amount in AR's sign, or 0 for a deleted row's void."""
    if deleted and entry == ZERO:
        return True
    return read is not None and abs(read) == abs(entry)


def _ledger_amounts(warehouse: Warehouse, practice_id: str, ids: list[str]) -> dict[str, Decimal]:
    """The ledger amount of each of ``ids`` that has an entry: looked up a group at a time
    for a night's few, read whole for a large read."""
    columns = ["external_id", "amount"]
    if len(ids) > LOOK_UP_AT_MOST:
        found = warehouse.read(LEDGER_ENTRIES, practice_id=practice_id, columns=columns)
        found = found[found["external_id"].isin(pd.Index(ids, dtype=object))]
    else:
        found = warehouse.read_in(
            LEDGER_ENTRIES,
            practice_id=practice_id,
            column="external_id",
            values=ids,
            columns=columns,
        )
    return {str(i): Decimal(a) for i, a in zip(found["external_id"], found["amount"], strict=True)}


def quarantined_amounts(raw: Iterable[str]) -> list[Decimal | None]:
    """The amount of each quarantined row, from its text (``raw``) as the normalizer
    parses it: ``None`` where it is not money or the row has none."""
    cents, has_amount = _amounts(pd.Series(_raw_amounts(raw), dtype=object))
    return [_decimal(int(c)) if h else None for c, h in zip(cents, has_amount, strict=True)]


def _raw_amounts(texts: Iterable[str]) -> list[str | None]:
    """The ``amount`` field of each quarantined row's text (``None`` where it has none)."""
    out: list[str | None] = []
    for text in texts:
        try:
            value = json.loads(text).get("amount")
        except (ValueError, AttributeError):
            value = None
        out.append(value if isinstance(value, str) else None)
    return out


# Aging --------------------------------------------------------------------------------


# What ``aging`` reads of each statement: a narrow read where the workbook is not written.
AGING_COLUMNS_READ = ("key", "period_start", "local_outstanding", "ar_outstanding")


def statement_rows(
    warehouse: Warehouse, practice_id: str, columns: Iterable[str] = ROW_COLUMNS
) -> pd.DataFrame:
    """Every statement of the practice's stored reconciliation (``columns``, by default
    ``ROW_COLUMNS``; by statement number), money as ``Decimal`` or ``None``: what
    ``aging`` (``AGING_COLUMNS_READ``) and the workbook need where a reconciliation read
    from the warehouse holds only the rows that differ."""
    wanted = list(columns)
    rows = warehouse.read(RECONCILED, practice_id=practice_id, columns=wanted)
    rows = rows.sort_values("key", kind="stable").reset_index(drop=True)
    for column in MONEY_COLUMNS:
        if column in wanted:
            rows[column] = rows[column].astype(object).where(rows[column].notna(), None)
    return rows


def aging(result_or_rows: Reconciliation | pd.DataFrame, as_of: date) -> Aging:
    """Each side's outstanding by the age of the statement on ``as_of``.

    A statement's age is the days from the end of its period (the last day of its month,
    as ``docs/contract.md`` sets ``period_end``) to ``as_of``; a month not ended yet is
    age 0. A side counts a statement only where it has it. ``result_or_rows``: a
    reconciliation holding every row, or the rows themselves (``statement_rows``)."""
    if isinstance(result_or_rows, Reconciliation):
        if result_or_rows.counted is not None:
            raise ValueError(
                "a reconciliation read from the warehouse holds only the statements that"
                " differ: age its statement_rows(...) instead"
            )
        rows = result_or_rows.rows
    else:
        rows = result_or_rows
    # Statements share a few months: each month is aged once.
    codes, months = pd.factorize(rows["period_start"].to_numpy(dtype=object))
    labels = np.array([bucket_of(age_in_days(m, as_of)) for m in months] + [""], dtype=object)
    of_row = labels[codes]  # code -1 (no month) picks ""
    if (of_row == "").any():
        raise ValueError("a statement has no period_start to age it by")
    local = rows["local_outstanding"].to_numpy(dtype=object)
    ar = rows["ar_outstanding"].to_numpy(dtype=object)
    out = []
    for label, _, _ in BUCKETS:
        chosen = of_row == label
        local_held = [v for v in local[chosen] if isinstance(v, Decimal)]
        ar_held = [v for v in ar[chosen] if isinstance(v, Decimal)]
        local_sum, ar_sum = sum(local_held, ZERO), sum(ar_held, ZERO)
        out.append((label, len(local_held), local_sum, len(ar_held), ar_sum, ar_sum - local_sum))
    frame = pd.DataFrame(out, columns=list(AGING_COLUMNS)).astype(
        {name: object for name in AGING_COLUMNS if "outstanding" in name}
    )
    return Aging(as_of=as_of, buckets=frame)


def period_end(period_start: date) -> date:
    """The last day of the statement's month."""
    first = pd.Timestamp(period_start).date().replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return following - timedelta(days=1)


def age_in_days(period_start: date, as_of: date) -> int:
    """Days from the statement period's end to ``as_of`` (0 for a month not ended)."""
    return max(0, (as_of - period_end(period_start)).days)


def bucket_of(age: int) -> str:
    """The bucket of an age in days: 0-30, 31-60, 61-90, 91-180 or over 180."""
    for label, first, last in BUCKETS:
        if age >= first and (last is None or age <= last):
            return label
    raise ValueError(f"no bucket for an age of {age} days")


# The HTML fragment --------------------------------------------------------------------


def finance_html(
    result: Reconciliation, *, tie_out: TieOut | None = None, aging: Aging | None = None
) -> str:
    """The finance section for the top of the reconciliation page: AR against local
    totals, the source tie-out and the aging; style from the page's own (``html.py``),
    every text escaped, nothing fetched. Each amount's cell carries its plain value in
    ``data-value``, as the page's other amounts do."""
    parts = [
        '<section id="finance">',
        "<h2>Finance summary</h2>",
        _totals_table(result),
    ]
    if tie_out is not None:
        parts += ["<h2>Source tie-out</h2>", _tie_out_table(tie_out)]
    if aging is not None:
        as_of = html.escape(aging.as_of.isoformat())
        parts += [f"<h2>Outstanding by age on {as_of}</h2>", _aging_table(aging)]
    parts.append("</section>")
    return "\n".join(parts)


def _totals_table(result: Reconciliation) -> str:
    totals = result.totals()
    rows = []
    for measure in ("billed", "paid", "outstanding"):
        local, ar = totals[f"local_{measure}"], totals[f"ar_{measure}"]
        rows.append(
            f"<tr><th>{measure.capitalize()}</th>"
            f"{money_cell(local, f'finance-local_{measure}')}"
            f"{money_cell(ar, f'finance-ar_{measure}')}"
            f"{money_cell(ar - local, f'finance-difference_{measure}')}</tr>"
        )
    head = "<tr><th></th><th>Local</th><th>AR</th><th>AR - local</th></tr>"
    return f'<table id="finance-totals">{head}{"".join(rows)}</table>'


def _tie_out_table(tie_out: TieOut) -> str:
    head = (
        "<tr><th>Outcome</th><th>Reason</th><th>Rows</th><th>Rows without an amount</th>"
        "<th>Source amount</th><th>Ledger amount</th></tr>"
    )
    rows = [
        f"<tr><td>{html.escape(line.outcome.replace('_', ' '))}</td>"
        f"<td>{html.escape(line.reason)}</td>"
        f'<td class="money">{line.rows:,}</td>'
        f'<td class="money">{line.rows_without_amount:,}</td>'
        f"{money_cell(line.source_amount, f'tie-out-{line.outcome}-{line.reason}'.rstrip('-'))}"
        f"{money_cell(line.ledger_amount)}</tr>"
        for line in tie_out.lines
    ]
    rows.append(
        f'<tr><th>Read</th><td></td><td class="money">{tie_out.read_rows:,}</td>'
        f'<td class="money">{tie_out.read_without_amount:,}</td>'
        f"{money_cell(tie_out.read_amount, 'tie-out-read')}<td></td></tr>"
    )
    rows.append(
        "<tr><th>Read - accounted for</th><td></td><td></td><td></td>"
        f"{money_cell(tie_out.difference, 'tie-out-difference')}<td></td></tr>"
    )
    verdict = (
        "Ties: every row and every cent read is in the ledger or the quarantine."
        if tie_out.ties
        else f"Does not tie: {tie_out.ledger_disagreements:,} normalized rows disagree with"
        " their ledger entry, or rows are unaccounted for."
    )
    note = (
        f"The latest rows read from the source, by what became of them. Rows without an"
        f" amount (empty, not a number, more than two decimals) are counted, not summed."
        f" Ledger amounts follow AR's signs (credits negative) and voids (0). Outside the"
        f" tie-out: {tie_out.earlier_open_rows:,} transaction rows still in the quarantine"
        f" from earlier reads ({money_text(tie_out.earlier_open_amount)}), and"
        f" {tie_out.people_quarantined:,} patients and guarantors (no money)."
    )
    status = "clean" if tie_out.ties else "not-clean"
    return (
        f'<p class="headline {status}" id="tie-out-verdict">{html.escape(verdict)}</p>'
        f'<table id="tie-out">{head}{"".join(rows)}</table>'
        f'<p class="note" id="tie-out-note">{html.escape(note)}</p>'
    )


def _aging_table(aging: Aging) -> str:
    head = (
        "<tr><th>Age (days)</th><th>Local statements</th><th>Local outstanding</th>"
        "<th>AR statements</th><th>AR outstanding</th><th>AR - local</th></tr>"
    )
    rows = []
    for bucket in aging.buckets.to_dict("records"):
        label = str(bucket["bucket"])
        rows.append(
            f"<tr><td>{html.escape(label)}</td>"
            f'<td class="money">{bucket["local_statements"]:,}</td>'
            f"{money_cell(bucket['local_outstanding'], f'aging-local-{label}')}"
            f'<td class="money">{bucket["ar_statements"]:,}</td>'
            f"{money_cell(bucket['ar_outstanding'], f'aging-ar-{label}')}"
            f"{money_cell(bucket['outstanding_difference'])}</tr>"
        )
    totals = aging.totals()
    rows.append(
        "<tr><th>Total</th>"
        f'<td class="money">{totals["local_statements"]:,}</td>'
        f"{money_cell(totals['local_outstanding'], 'aging-local-total')}"
        f'<td class="money">{totals["ar_statements"]:,}</td>'
        f"{money_cell(totals['ar_outstanding'], 'aging-ar-total')}"
        f"{money_cell(totals['outstanding_difference'])}</tr>"
    )
    note = (
        "Age: days from the end of the statement's month to the date above; a month not"
        " ended yet counts as 0 days."
    )
    return f'<table id="aging">{head}{"".join(rows)}</table><p class="note">{html.escape(note)}</p>'


def money_cell(value: object, cell_id: str | None = None) -> str:
    """A right-aligned amount with separators, its plain text in ``data-value`` (as the
    page's other amounts)."""
    if not isinstance(value, Decimal):
        return '<td class="money"></td>'
    id_attribute = f' id="{html.escape(cell_id.replace(" ", "_"))}"' if cell_id else ""
    plain = html.escape(money_text(value))
    return f'<td class="money"{id_attribute} data-value="{plain}">{value:,.2f}</td>'
