"""What the next push will do, worked out from the warehouse before anything is sent,
and whether it stays within a practice's limits.

``plan_practice`` reads what the push reads (the normalized records, the push state,
the dead letter, the cursor of the ledger push) and selects the records to send with
the push's own selection (``push.plan_push``), so the plan names exactly the records
the push then sends. Each record sent is one of:

- ``new``: AR does not hold it yet (it never landed);
- ``changed``: AR holds it, and the payload sent differs;
- ``void``: AR holds the ledger entry, and it is sent again at amount 0 (its source
  row was deleted or disappeared; AR has no delete);
- ``resent``: AR holds it with the same payload, and it goes again anyway (a full
  repush, or a dead letter whose record had landed before).

Where the local statements (the dbt mart, built from the same normalized entries) are
given, the plan also compares them with AR's statements as last read back
(``ar.statements``): AR re-aggregates the statements of every customer the push
touches, so after the push its statements are the local ones. Statements created,
changed, removed (AR keeps a statement whose month stops qualifying at amount 0), and
the billed, paid and outstanding totals before and after are what the push does to
AR's statements.

``judge`` holds a plan against a practice's ``PlanLimits``; ``write_plan_files``
writes the plan as HTML and CSV for the people who approve it. No Dagster here.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ar_pipelines.sync.payloads import KindSpec, kind_spec, payload_hashes, records_frame
from ar_pipelines.sync.push import CUSTOMER_COLUMNS, LEDGER_COLUMNS, PUSHED_THROUGH, plan_push
from ar_pipelines.sync.state import LANDED, looked_up, read_dead_letters, read_state
from ar_pipelines.warehouse import AR_STATEMENTS, CUSTOMERS, LEDGER_ENTRIES, PUSH_STATE, Warehouse

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
SAMPLES = 10  # voids and changes named in the metadata; the CSV has them all
CHANGES = ("new", "changed", "void", "resent")
STATEMENT_CHANGES = ("created", "changed", "removed")
DEFAULT_MAX_VOID_SHARE = 0.02
DEFAULT_MAX_STATEMENT_REMOVAL_SHARE = 0.05
STATEMENT_KEY = "external_invoice_id"
CUSTOMER = "customer_external_id"


def money(value: Any) -> Decimal:
    """A money value from the warehouse or dbt (``Decimal``, text, int, or a driver's
    float, taken by its shortest repr) as a ``Decimal`` to the cent; missing is 0."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ZERO
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, float | np.floating):
        number = Decimal(repr(float(value)))
    elif isinstance(value, int | np.integer):
        number = Decimal(int(value))
    else:
        number = Decimal(str(value).strip())
    cents = number.quantize(CENT, rounding=ROUND_HALF_UP)
    return ZERO if cents == 0 else cents


def _total(values: Iterable[Any]) -> Decimal:
    return sum((money(value) for value in values), ZERO)


@dataclass(frozen=True)
class PlannedKind:
    """The records of one kind the push will send, each with its ``change`` (one of
    ``CHANGES``), in the order the push sends them; ``considered`` and
    ``from_dead_letter`` count as the push's report does."""

    kind: str
    records: pd.DataFrame
    considered: int = 0
    from_dead_letter: int = 0

    @property
    def sent(self) -> int:
        return len(self.records)

    def count(self, change: str) -> int:
        return int((self.records["change"] == change).sum()) if self.sent else 0

    def amount(self, change: str) -> Decimal:
        """The sum of the amounts sent for ``change`` (0 for customers, which have none)."""
        if not self.sent or "amount" not in self.records:
            return ZERO
        return _total(self.records.loc[self.records["change"] == change, "amount"])

    def samples(self, *changes: str, limit: int = SAMPLES) -> list[dict[str, Any]]:
        """The first ``limit`` records of ``changes``, JSON-safe."""
        if not self.sent:
            return []
        chosen = self.records.loc[self.records["change"].isin(changes)].head(limit)
        columns = [c for c in SAMPLE_COLUMNS if c in chosen]
        return [
            {name: _plain(value) for name, value in zip(columns, row, strict=True)}
            for row in chosen[columns].itertuples(index=False)
        ]

    def summary(self) -> dict[str, Any]:
        figures: dict[str, Any] = {"sent": self.sent, "considered": self.considered}
        for change in CHANGES:
            figures[change] = self.count(change)
            if "amount" in self.records:
                figures[f"{change}_amount"] = str(self.amount(change))
        figures["from_dead_letter"] = self.from_dead_letter
        return figures


SAMPLE_COLUMNS = ("change", "external_id", CUSTOMER, "transaction_date", "amount")


@dataclass(frozen=True)
class StatementPlan:
    """The local statements against AR's as last read back. ``held``: AR's statements
    that carry money (a statement AR keeps at amount 0 after its month stopped
    qualifying counts as gone); ``lowered``: of those changed, the ones whose amount goes
    down; ``rows``: a row per statement created, changed or removed."""

    held: int
    created: int
    changed: int
    removed: int
    lowered: int
    ar_billed: Decimal
    local_billed: Decimal
    ar_paid: Decimal
    local_paid: Decimal
    ar_outstanding: Decimal
    local_outstanding: Decimal
    rows: pd.DataFrame = field(repr=False)

    @property
    def billed_change(self) -> Decimal:
        return self.local_billed - self.ar_billed

    @property
    def paid_change(self) -> Decimal:
        return self.local_paid - self.ar_paid

    @property
    def outstanding_change(self) -> Decimal:
        return self.local_outstanding - self.ar_outstanding

    @property
    def removed_or_lowered(self) -> int:
        return self.removed + self.lowered

    def summary(self) -> dict[str, Any]:
        return {
            "held_in_ar": self.held,
            "created": self.created,
            "changed": self.changed,
            "removed": self.removed,
            "lowered": self.lowered,
            "billed_before": str(self.ar_billed),
            "billed_after": str(self.local_billed),
            "billed_change": str(self.billed_change),
            "paid_before": str(self.ar_paid),
            "paid_after": str(self.local_paid),
            "paid_change": str(self.paid_change),
            "outstanding_before": str(self.ar_outstanding),
            "outstanding_after": str(self.local_outstanding),
            "outstanding_change": str(self.outstanding_change),
        }


@dataclass(frozen=True)
class PushPlan:
    """What the next push of one practice will send, and (when the local statements
    were given) what it will do to AR's statements. ``pushed_entries``: the practice's
    ledger entries AR holds, as the push state knows them."""

    practice_id: str
    customers: PlannedKind
    ledger_entries: PlannedKind
    pushed_entries: int
    statements: StatementPlan | None = None

    @property
    def first_push(self) -> bool:
        """Nothing of the practice is in AR yet: no ledger entry has landed."""
        return self.pushed_entries == 0

    @property
    def voids(self) -> int:
        return self.ledger_entries.count("void")

    @property
    def void_share(self) -> float:
        """The voids as a share of the ledger entries AR holds (0 when it holds none)."""
        return self.voids / self.pushed_entries if self.pushed_entries else 0.0

    @property
    def statement_removal_share(self) -> float:
        """Statements removed or lowered, as a share of AR's (0 without any)."""
        plan = self.statements
        if plan is None or not plan.held:
            return 0.0
        return plan.removed_or_lowered / plan.held

    def figures(self) -> dict[str, Any]:
        """The plan's counts and amounts, JSON-safe (money as exact text)."""
        figures: dict[str, Any] = {
            "practice_id": self.practice_id,
            "first_push": self.first_push,
            "pushed_entries": self.pushed_entries,
            "void_share": round(self.void_share, 6),
            "customers": self.customers.summary(),
            "ledger_entries": self.ledger_entries.summary(),
        }
        if self.statements is not None:
            figures["statements"] = self.statements.summary()
            figures["statement_removal_share"] = round(self.statement_removal_share, 6)
        return figures


def plan_kind(
    current: pd.DataFrame,
    state: pd.DataFrame,
    dead: pd.DataFrame,
    spec: KindSpec,
    *,
    full: bool = False,
) -> PlannedKind:
    """The records the push sends of ``current`` (shaped like the normalizer's output)
    given the kind's push ``state`` (``STATE_COLUMNS``) and its dead letters
    (``DEAD_LETTER_COLUMNS``), each with its change. The selection is the push's own
    (``plan_push``); dead letters whose record landed after they failed are left out,
    as the push drops them."""
    records = records_frame(current, spec)
    dead = _owed(dead, state)
    selected = plan_push(records, payload_hashes(records, spec), state, dead, spec, full=full)
    chosen = selected.records
    previous = state.set_index("external_id")["payload_hash"]
    same = np.asarray(
        looked_up(previous, chosen["external_id"]).to_numpy(dtype=object) == selected.hashes,
        dtype=bool,
    )
    landed = np.asarray(selected.landed_before, dtype=bool)
    zero = (
        np.array([money(a) == 0 for a in chosen["amount"]], dtype=bool)
        if "amount" in chosen
        else np.zeros(len(chosen), dtype=bool)
    )
    change = np.select(
        [~landed, same, zero],
        ["new", "resent", "void"],
        default="changed",
    ).astype(object)
    return PlannedKind(
        kind=spec.kind,
        records=chosen.assign(change=change),
        considered=selected.considered,
        from_dead_letter=selected.from_dead_letter,
    )


def _owed(dead: pd.DataFrame, state: pd.DataFrame) -> pd.DataFrame:
    """The dead letters the push retries: not those whose record landed after they
    failed (``state.drop_superseded``, which also deletes them; a plan changes nothing)."""
    if dead.empty:
        return dead
    landed_at = state.loc[state["last_result"].isin(LANDED)].set_index("external_id")["pushed_at"]
    landed_after = looked_up(landed_at, dead["external_id"]) > dead["last_failed_at"]
    return dead.loc[~landed_after.to_numpy(dtype=bool)].reset_index(drop=True)


def compare_statements(local: pd.DataFrame, ar: pd.DataFrame) -> StatementPlan:
    """The local statements (the dbt mart ``statements``) against AR's (``ar.statements``),
    joined on ``external_invoice_id``: what AR's statements become once the push lands."""
    local_side = _statement_side(local, "local")
    ar_side = _statement_side(ar, "ar")
    joined = pd.merge(local_side, ar_side, on="key", how="outer", indicator=True, sort=True)
    where = joined.pop("_merge").to_numpy(dtype=object)
    has_local, has_ar = where != "right_only", where != "left_only"
    for column in ("local_amount", "local_paid", "local_outstanding"):
        joined[column] = joined[column].where(has_local, ZERO)
    for column in ("ar_amount", "ar_paid", "ar_outstanding"):
        joined[column] = joined[column].where(has_ar, ZERO)
    # AR keeps a statement whose month stopped qualifying at amount = paid = 0.
    carries = has_ar & ((joined["ar_amount"] != ZERO) | (joined["ar_paid"] != ZERO)).to_numpy()
    differs = (
        (joined["local_amount"] != joined["ar_amount"])
        | (joined["local_paid"] != joined["ar_paid"])
        | (joined["local_outstanding"] != joined["ar_outstanding"])
    ).to_numpy(dtype=bool)
    created = has_local & ~carries
    removed = carries & ~has_local
    changed = has_local & carries & differs
    lowered = changed & (joined["local_amount"] < joined["ar_amount"]).to_numpy(dtype=bool)
    change = np.select([created, removed, changed], list(STATEMENT_CHANGES), default="")
    rows = joined.assign(change=change.astype(object)).loc[change != ""]
    return StatementPlan(
        held=int(carries.sum()),
        created=int(created.sum()),
        changed=int(changed.sum()),
        removed=int(removed.sum()),
        lowered=int(lowered.sum()),
        ar_billed=_total(joined["ar_amount"]),
        local_billed=_total(joined["local_amount"]),
        ar_paid=_total(joined["ar_paid"]),
        local_paid=_total(joined["local_paid"]),
        ar_outstanding=_total(joined["ar_outstanding"]),
        local_outstanding=_total(joined["local_outstanding"]),
        rows=rows.reset_index(drop=True),
    )


def _statement_side(frame: pd.DataFrame, side: str) -> pd.DataFrame:
    """``key, <side>_customer, <side>_period_start, <side>_amount, <side>_paid,
    <side>_outstanding`` (outstanding as stated, else amount - paid)."""
    amount = [money(v) for v in frame.get("amount", pd.Series(dtype=object))]
    paid = [money(v) for v in frame.get("paid_amount", pd.Series(dtype=object))]
    stated = frame.get("outstanding")
    outstanding = (
        [money(v) for v in stated]
        if stated is not None
        else [a - p for a, p in zip(amount, paid, strict=True)]
    )
    keys = frame[STATEMENT_KEY] if STATEMENT_KEY in frame else pd.Series(dtype=object)
    customers = frame[CUSTOMER] if CUSTOMER in frame else pd.Series([None] * len(frame))
    periods = frame["period_start"] if "period_start" in frame else pd.Series([None] * len(frame))
    return pd.DataFrame(
        {
            "key": pd.Series(keys.astype(str).to_numpy(dtype=object), dtype=object),
            f"{side}_customer": pd.Series(customers.to_numpy(dtype=object), dtype=object),
            f"{side}_period_start": pd.Series(periods.to_numpy(dtype=object), dtype=object),
            f"{side}_amount": pd.Series(amount, dtype=object),
            f"{side}_paid": pd.Series(paid, dtype=object),
            f"{side}_outstanding": pd.Series(outstanding, dtype=object),
        }
    )


def plan_practice(
    warehouse: Warehouse,
    *,
    practice_id: str,
    local_statements: pd.DataFrame | None = None,
    local_schema: str | None = None,
    full_customers: bool = False,
    full_ledger_entries: bool = False,
) -> PushPlan:
    """The plan of the practice's next push, read from the warehouse without writing
    to it: what ``push_customers`` and ``push_ledger_entries`` will send (every record
    of a kind whose ``full_*`` is set, as those push with ``full``); with
    ``local_statements`` (the dbt mart), what the push does to AR's statements as last
    read back. With ``local_schema`` instead (the schema of the practice's dbt models),
    only the statements of the customers whose entries the push sends are read and
    compared, the statements of the others standing as AR holds them: a night costs
    what it changes (every statement is compared when most customers are touched)."""
    customers_spec, ledger_spec = kind_spec("customers"), kind_spec("ledger_entries")
    customers = warehouse.read(CUSTOMERS, practice_id=practice_id, columns=CUSTOMER_COLUMNS)
    since = None if full_ledger_entries else warehouse.get_cursor(practice_id, PUSHED_THROUGH)
    entries = warehouse.read_after(
        LEDGER_ENTRIES,
        practice_id=practice_id,
        column="loaded_at",
        after=since,
        columns=LEDGER_COLUMNS,
    )
    mark = warehouse.placeholder
    landed = warehouse.query(
        f"select count(*) as landed from {warehouse.relation(PUSH_STATE)}"  # noqa: S608
        f" where practice_id = {mark} and kind = {mark}"
        f" and last_result in ({', '.join([mark] * len(LANDED))})",
        [practice_id, ledger_spec.kind, *LANDED],
    )
    ledger_entries = _planned(
        warehouse, practice_id, entries, ledger_spec, full=full_ledger_entries
    )
    statements = None
    if local_statements is not None:
        ar = warehouse.read(AR_STATEMENTS, practice_id=practice_id)
        statements = compare_statements(local_statements, ar)
    elif local_schema is not None:
        statements = _touched_statements(
            warehouse, practice_id, local_schema, ledger_entries.records
        )
    return PushPlan(
        practice_id=practice_id,
        customers=_planned(warehouse, practice_id, customers, customers_spec, full=full_customers),
        ledger_entries=ledger_entries,
        pushed_entries=int(landed["landed"].iloc[0]),
        statements=statements,
    )


# Past this many touched customers, every statement is read and compared: one scan
# costs less than lists of customers that long.
TOUCHED_SCOPE_LIMIT = 20_000


def _touched_statements(
    warehouse: Warehouse, practice_id: str, local_schema: str, sent: pd.DataFrame
) -> StatementPlan:
    """``compare_statements`` over the customers of the entries to send; AR's other
    statements are counted and summed in the database, and stand as they are."""
    local_relation = warehouse.qualified(local_schema, "statements")
    touched = sorted({str(c) for c in sent.get(CUSTOMER, pd.Series(dtype=object)).dropna()})
    if len(touched) > TOUCHED_SCOPE_LIMIT:
        local = warehouse.query(f"select * from {local_relation}")  # noqa: S608 - dbt's
        return compare_statements(local, warehouse.read(AR_STATEMENTS, practice_id=practice_id))
    mark = warehouse.placeholder
    marks = ", ".join([mark] * len(touched)) or "null"
    local = warehouse.query(
        f"select * from {local_relation} where {CUSTOMER} in ({marks})",  # noqa: S608
        touched,
    )
    ar = warehouse.read_in(AR_STATEMENTS, practice_id=practice_id, column=CUSTOMER, values=touched)
    scoped = compare_statements(local, ar)
    everything = _ar_totals(warehouse, practice_id)
    untouched = {
        name: everything[name] - getattr(scoped, name)
        for name in ("ar_billed", "ar_paid", "ar_outstanding")
    }
    return replace(
        scoped,
        held=everything["held"],
        ar_billed=everything["ar_billed"],
        ar_paid=everything["ar_paid"],
        ar_outstanding=everything["ar_outstanding"],
        local_billed=untouched["ar_billed"] + scoped.local_billed,
        local_paid=untouched["ar_paid"] + scoped.local_paid,
        local_outstanding=untouched["ar_outstanding"] + scoped.local_outstanding,
    )


def _ar_totals(warehouse: Warehouse, practice_id: str) -> dict[str, Any]:
    """AR's statements as last read back, counted and summed in the database: those
    carrying money (``held``) and the billed, paid and outstanding of all."""
    mark = warehouse.placeholder
    held = "sum(case when amount <> 0 or paid_amount <> 0 then 1 else 0 end)"
    outstanding = "sum(coalesce(outstanding, amount - paid_amount))"
    sums = (
        f"coalesce({held}, 0) as held, coalesce(sum(amount), 0) as billed,"
        f" coalesce(sum(paid_amount), 0) as paid, coalesce({outstanding}, 0) as outstanding"
    )
    relation = warehouse.relation(AR_STATEMENTS)
    sql = f"select {sums} from {relation} where practice_id = {mark}"  # noqa: S608
    found = warehouse.query(sql, [practice_id]).iloc[0]
    return {
        "held": int(found["held"]),
        "ar_billed": money(found["billed"]),
        "ar_paid": money(found["paid"]),
        "ar_outstanding": money(found["outstanding"]),
    }


def _planned(
    warehouse: Warehouse, practice_id: str, current: pd.DataFrame, spec: KindSpec, *, full: bool
) -> PlannedKind:
    dead = read_dead_letters(warehouse, practice_id, spec)
    wanted = None if full else [*current["external_id"], *dead["external_id"]]
    state = read_state(warehouse, practice_id, spec, wanted)
    return plan_kind(current, state, dead, spec, full=full)


@dataclass(frozen=True)
class PlanLimits:
    """How far a push may go unapproved. ``max_void_share``: voids as a share of the
    ledger entries AR holds; ``max_statement_removal_share``: AR's statements removed or
    lowered, as a share of those it holds; ``max_outstanding_change``: how far the total
    outstanding may move either way (no limit when ``None``)."""

    max_void_share: float = DEFAULT_MAX_VOID_SHARE
    max_statement_removal_share: float = DEFAULT_MAX_STATEMENT_REMOVAL_SHARE
    max_outstanding_change: Decimal | None = None


@dataclass(frozen=True)
class Breach:
    """A limit the plan goes past: which, by how much, and in a sentence."""

    limit: str
    value: str
    allowed: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


def judge(plan: PushPlan, limits: PlanLimits) -> list[Breach]:
    """The limits ``plan`` goes past (none for a first push: AR holds nothing of the
    practice, so there is nothing to void, remove or move)."""
    if plan.first_push:
        return []
    breaches: list[Breach] = []
    if not _within(plan.voids, plan.pushed_entries, limits.max_void_share):
        breaches.append(
            Breach(
                "max_void_share",
                f"{plan.void_share:.4f}",
                f"{limits.max_void_share}",
                f"{plan.voids} of the {plan.pushed_entries} ledger entries AR holds would be "
                f"voided ({plan.void_share:.2%}); the limit is {limits.max_void_share:.2%}",
            )
        )
    statements = plan.statements
    if statements is not None and not _within(
        statements.removed_or_lowered, statements.held, limits.max_statement_removal_share
    ):
        breaches.append(
            Breach(
                "max_statement_removal_share",
                f"{plan.statement_removal_share:.4f}",
                f"{limits.max_statement_removal_share}",
                f"{statements.removed} of AR's {statements.held} statements would be removed "
                f"and {statements.lowered} lowered ({plan.statement_removal_share:.2%}); the "
                f"limit is {limits.max_statement_removal_share:.2%}",
            )
        )
    limit = limits.max_outstanding_change
    if statements is not None and limit is not None:
        moved = statements.outstanding_change
        if abs(moved) > limit:
            breaches.append(
                Breach(
                    "max_outstanding_change",
                    str(moved),
                    str(limit),
                    f"the outstanding total would move by {moved} (from "
                    f"{statements.ar_outstanding} to {statements.local_outstanding}); the "
                    f"limit is {limit} either way",
                )
            )
    return breaches


def _within(part: int, whole: int, share: float) -> bool:
    """``part <= share * whole``, exactly (the share as written, not as a float)."""
    return Decimal(part) <= Decimal(str(share)) * Decimal(whole)


@dataclass(frozen=True)
class PlanFiles:
    html: Path
    csv: Path


CSV_COLUMNS = (
    "kind",
    "change",
    "external_id",
    CUSTOMER,
    "date",
    "amount",
    "ar_amount",
)


def write_plan_files(
    plan: PushPlan, reports_dir: Path, breaches: Iterable[Breach] = ()
) -> PlanFiles:
    """``plan_<practice>.csv`` (a row per record sent and per statement changed) and
    ``plan_<practice>.html`` (the figures, the limits gone past, samples) in
    ``reports_dir``."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    files = PlanFiles(
        html=reports_dir / f"plan_{plan.practice_id}.html",
        csv=reports_dir / f"plan_{plan.practice_id}.csv",
    )
    with files.csv.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(_csv_rows(plan))
    files.html.write_text(_html(plan, list(breaches)), encoding="utf-8")
    return files


def _csv_rows(plan: PushPlan) -> Iterable[list[str]]:
    for planned in (plan.customers, plan.ledger_entries):
        records = planned.records
        for row in records.to_dict("records"):
            yield [
                planned.kind,
                row["change"],
                row["external_id"],
                _text(row.get(CUSTOMER)),
                _text(row.get("transaction_date")),
                _text(row.get("amount")),
                "",
            ]
    if plan.statements is not None:
        for row in plan.statements.rows.to_dict("records"):
            customer = _plain(row["local_customer"]) or _plain(row["ar_customer"])
            period = _plain(row["local_period_start"]) or _plain(row["ar_period_start"])
            yield [
                "statements",
                row["change"],
                row["key"],
                _text(customer),
                _text(period),
                _text(row["local_amount"]),
                _text(row["ar_amount"]),
            ]


def _text(value: Any) -> str:
    plain = _plain(value)
    return "" if plain is None else str(plain)


def _plain(value: Any) -> Any:
    """A JSON-safe value: money and dates as text, missing as ``None``."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _html(plan: PushPlan, breaches: list[Breach]) -> str:
    def table(rows: list[tuple[str, Any]]) -> str:
        cells = "".join(
            f"<tr><th>{html.escape(name)}</th><td>{html.escape(str(value))}</td></tr>"
            for name, value in rows
        )
        return f"<table>{cells}</table>"

    def records(samples: list[dict[str, Any]]) -> str:
        if not samples:
            return "<p>None.</p>"
        head = "".join(f"<th>{html.escape(name)}</th>" for name in samples[0])
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_text(v))}</td>" for v in sample.values()) + "</tr>"
            for sample in samples
        )
        return f"<table><tr>{head}</tr>{body}</table>"

    parts = [f"<h1>Push plan of practice {html.escape(plan.practice_id)}</h1>"]
    if plan.first_push:
        parts.append("<p>First push: AR holds nothing of this practice yet.</p>")
    if breaches:
        items = "".join(f"<li>{html.escape(b.message)}</li>" for b in breaches)
        parts.append(f"<h2>Limits gone past</h2><ul>{items}</ul>")
    else:
        parts.append("<p>Within the practice's limits.</p>")
    for planned in (plan.customers, plan.ledger_entries):
        parts.append(f"<h2>{html.escape(planned.kind.replace('_', ' ').capitalize())}</h2>")
        parts.append(table(list(planned.summary().items())))
    parts.append("<h2>Ledger entries AR holds</h2>")
    parts.append(table([("pushed_entries", plan.pushed_entries), ("voids", plan.voids)]))
    if plan.statements is not None:
        parts.append("<h2>AR's statements</h2>")
        parts.append(table(list(plan.statements.summary().items())))
    parts.append("<h2>First voids</h2>")
    parts.append(records(plan.ledger_entries.samples("void")))
    parts.append("<h2>First changes</h2>")
    parts.append(records(plan.ledger_entries.samples("changed")))
    style = "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:2px 6px}"
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Push plan {html.escape(plan.practice_id)}</title><style>{style}</style>"
        f"</head><body>{''.join(parts)}</body></html>"
    )
