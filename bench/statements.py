"""Monthly statements computed locally, at 1,000,000 and 10,000,000 ledger entries.

A seeded ledger (200,000 customers, 36 months) is drawn by ``ar_demo.entries`` and
written to parquet by DuckDB. On each, the statement models run through
``compute_local_statements`` on embedded DuckDB, and the same computation runs as one
hand-written DuckDB query (the waterfall of ``docs/contract.md#payment-waterfall`` by
merging the statements' and payments' end points with window functions). On the
smaller ledger, a naive pandas loop (one iteration per customer) does it too, and the
models run on Postgres.

Every step runs in a process of its own, so that each process's peak RSS is its own,
and every wall time is file to files: the runner loads the ledger into its warehouse,
builds the models (tests not run) and writes its three marts as sorted CSV; the query
reads the parquet and writes statements and allocations to one parquet file.

Checks: the hand-written query matches ``ar_pipelines.statements.reference``
statement by statement on a small ledger; then, at every size, the statement and
allocation totals of the models, the naive loop and Postgres equal the query's.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.machine import python_loop_ms
from bench.steps import run_step

SEED = 20_250_105
FIRST_DAY = date(2023, 1, 1)
MONTHS = 36  # of visits
REFERENCE_SIZE = (4_000, 300)  # entries, customers: the statement-by-statement check
REFERENCE_LEDGER = "reference_ledger.parquet"

TARGET_DUCKDB_SECONDS = 20.0  # the models on the larger ledger
TARGET_PEAK_MIB = 4_096
TARGET_VS_QUERY = 2.5  # the models' wall time against the hand-written query's
TARGET_POSTGRES_SECONDS = 60.0  # the models on Postgres, smaller ledger

BILLABLE = ("charge", "adjustment", "other_debit", "other_credit")
PAYMENTS = ("patient_payment", "insurance_payment")


@dataclass(frozen=True)
class Size:
    name: str
    entries: int
    customers: int


FULL = (Size("1M", 1_000_000, 200_000), Size("10M", 10_000_000, 200_000))
# One size: every dbt run starts a process that parses the project, several seconds.
QUICK = (Size("20k", 20_000, 2_000),)


# --- the ledger ---------------------------------------------------------------------------

# The ledger is ar_demo's (``ar_demo.entries``), imported where it is drawn so that the
# other steps' processes, whose peak RSS is measured, do not load it.
_WRITE = """
COPY (
SELECT
    'LE' || lpad(CAST(number AS VARCHAR), 9, '0') AS external_id,
    'PT-' || lpad(CAST(customer AS VARCHAR), 6, '0') AS customer_external_id,
    DATE '1970-01-01' + CAST(day AS INTEGER) AS transaction_date,
    {types}[type + 1] AS transaction_type,
    CAST(cents / 100.0 AS DECIMAL(18, 2)) AS amount,
    CASE WHEN type = {charge} THEN CAST(0 AS DECIMAL(18, 2)) END AS amount_paid,
    CASE WHEN type = {charge} THEN CAST(round(cents * 0.6) / 100.0 AS DECIMAL(18, 2)) END
        AS estimated_insurance,
    CASE WHEN type IN {credits}
        THEN 'LE' || lpad(CAST(number - number % {per_visit} AS VARCHAR), 9, '0') END
        AS payment_link_id,
    CASE WHEN procedure >= 0 THEN {codes}[procedure + 1] END AS procedure_code,
    CASE WHEN procedure >= 0 THEN {descriptions}[procedure + 1] END AS description
FROM drawn
) TO '{path}' (FORMAT parquet, COMPRESSION zstd)
"""


# Four entries per visit, one per slot; a slot's rows are (type, weight, lowest cents,
# highest cents, first and last day after the visit): the charge; an insurance payment
# weeks later (or an adjustment, a write-off credit, an other debit); the patient's
# payment (sometimes paid ahead, sometimes overpaid, sometimes a second charge); a
# second procedure or another payment or credit. Credits link to the visit's charge.
VISIT_MIX = (
    (("charge", 1, 1_500, 100_000, 0, 0),),
    (
        ("insurance_payment", 70, 10_000, 56_000, 21, 62),
        ("adjustment", 10, 1_000, 14_000, 0, 0),
        ("other_credit", 12, 2_000, 60_000, 30, 149),
        ("other_debit", 8, 500, 5_000, 0, 29),
    ),
    (
        ("charge", 10, 1_500, 31_500, 0, 0),
        ("patient_payment", 10, 5_000, 30_000, -14, -1),  # paid ahead
        ("patient_payment", 10, 40_000, 80_000, 30, 89),  # overpaid
        ("patient_payment", 70, 1_000, 27_000, 14, 103),
    ),
    (
        ("charge", 50, 1_500, 31_500, 0, 0),
        ("insurance_payment", 20, 10_000, 56_000, 21, 62),
        ("other_credit", 10, 2_000, 60_000, 30, 149),
        ("patient_payment", 20, 1_000, 27_000, 14, 103),
    ),
)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _sql_list(values: Sequence[str]) -> str:
    return "[" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + "]"


def generate_ledger(path: Path, entries: int, customers: int, seed: int = SEED) -> None:
    """A ledger of ``entries`` rows for ``customers`` customers as one parquet file: the
    same arguments give the same file on every run."""
    import duckdb
    import pandas as pd

    from ar_demo.catalog import PROCEDURES
    from ar_demo.entries import CREDITS, Period, draw_ledger
    from ar_pipelines.normalize.transactions import LEDGER_TYPES

    period = Period(FIRST_DAY, MONTHS)
    ledger = draw_ledger(entries, customers, seed=seed, period=period, mix=VISIT_MIX)
    drawn = pd.DataFrame({f.name: getattr(ledger, f.name) for f in fields(ledger)}, copy=False)
    sql = _WRITE.format(
        types=_sql_list(LEDGER_TYPES),
        charge=LEDGER_TYPES.index("charge"),
        credits=tuple(LEDGER_TYPES.index(kind) for kind in CREDITS),
        per_visit=len(VISIT_MIX),
        codes=_sql_list([p.code for p in PROCEDURES]),
        descriptions=_sql_list([p.description for p in PROCEDURES]),
        path=_quoted(path),
    )
    with duckdb.connect() as connection:
        connection.register("drawn", drawn)
        connection.execute(sql)


# --- the hand-written query ---------------------------------------------------------------

# Statements are laid end to end on one axis ([C(i-1), C(i))) and payments on another
# ([Q(j-1), Q(j))). Sorting both kinds of end point together cuts each customer's axis
# into segments; the segment ending at an end point lies in the first statement and the
# first payment whose ends are at or after it, since every end before it is at or before
# the segment's start. Each (statement, payment) overlap is one such segment, so a
# segment of positive length inside both a statement and a payment is one allocation.
# A statement's paid amount is where the payments' total falls on its own interval.
# Statements and allocations come out of the one statement as rows of one parquet file.
_QUERY = """
COPY (
WITH net AS (
    SELECT customer_external_id AS customer,
        CAST(date_trunc('month', transaction_date) AS DATE) AS period_start,
        CAST(sum(amount) AS DECIMAL(18, 2)) AS amount
    FROM read_parquet('{ledger}')
    WHERE transaction_type IN {billable}
    GROUP BY customer, period_start
), statements AS (
    SELECT customer, period_start, amount,
        CAST(sum(amount) OVER (
            PARTITION BY customer ORDER BY period_start ROWS UNBOUNDED PRECEDING
        ) AS DECIMAL(18, 2)) AS ends_at
    FROM net
    WHERE amount > 0
), payments AS (
    SELECT customer_external_id AS customer, external_id, transaction_date,
        CAST(-sum(amount) OVER (
            PARTITION BY customer_external_id ORDER BY transaction_date, external_id
            ROWS UNBOUNDED PRECEDING
        ) AS DECIMAL(18, 2)) AS ends_at
    FROM read_parquet('{ledger}')
    WHERE transaction_type IN {payments}
), paid_in AS (
    SELECT customer, max(ends_at) AS total FROM payments GROUP BY customer
), ends AS (
    SELECT customer, ends_at, 0 AS is_payment, period_start,
        NULL AS external_id, NULL AS transaction_date
    FROM statements
    UNION ALL
    SELECT customer, ends_at, 1, NULL, external_id, transaction_date FROM payments
), segments AS (
    SELECT customer,
        ends_at - coalesce(lag(ends_at) OVER (
            PARTITION BY customer ORDER BY ends_at, is_payment
        ), 0) AS length,
        first_value(period_start IGNORE NULLS) OVER later AS period_start,
        first_value(external_id IGNORE NULLS) OVER later AS payment_external_id,
        first_value(transaction_date IGNORE NULLS) OVER later AS transaction_date
    FROM ends
    WINDOW later AS (
        PARTITION BY customer ORDER BY ends_at, is_payment
        ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING
    )
), allocations AS (
    SELECT customer, period_start, payment_external_id, transaction_date, length AS allocated
    FROM segments
    WHERE length > 0 AND period_start IS NOT NULL AND payment_external_id IS NOT NULL
), paid AS (
    SELECT s.customer, s.period_start, s.amount,
        greatest(0, least(s.ends_at, coalesce(t.total, 0)) - (s.ends_at - s.amount))
            AS paid_amount
    FROM statements AS s LEFT JOIN paid_in AS t USING (customer)
)
SELECT 'statement' AS kind, customer AS customer_external_id,
    'STMT-' || strftime(period_start, '%Y-%m') || '-' || customer AS external_id,
    NULL AS invoice_id, NULL AS payment_external_id,
    period_start AS transaction_date, period_start, last_day(period_start) AS period_end,
    period_start + 180 AS due_date, amount, paid_amount,
    amount - paid_amount AS outstanding
FROM paid
UNION ALL
SELECT 'allocation', customer,
    'ALLOC-' || payment_external_id || '-STMT-' || strftime(period_start, '%Y-%m') || '-'
        || customer,
    'STMT-' || strftime(period_start, '%Y-%m') || '-' || customer, payment_external_id,
    transaction_date, period_start, NULL, NULL, -allocated, NULL, NULL
FROM allocations
) TO '{out}' (FORMAT parquet)
"""


def handwritten_query(ledger: Path, out: Path) -> Path:
    """Statements (kind 'statement') and allocations (kind 'allocation') of ``ledger``
    as one parquet file, ``out``."""
    import duckdb

    with duckdb.connect() as connection:
        sql = _QUERY.format(
            ledger=_quoted(ledger), out=_quoted(out), billable=BILLABLE, payments=PAYMENTS
        )
        connection.execute(sql)
    return out


# --- totals: what is compared between the implementations ---------------------------------


@dataclass(frozen=True)
class Totals:
    statements: int
    amount: Decimal
    paid: Decimal
    allocations: int
    allocated: Decimal  # the allocations' amounts, positive

    def as_json(self) -> dict[str, Any]:
        return {
            "statements": self.statements,
            "amount": str(self.amount),
            "paid": str(self.paid),
            "allocations": self.allocations,
            "allocated": str(self.allocated),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Totals:
        return cls(
            int(data["statements"]),
            Decimal(data["amount"]),
            Decimal(data["paid"]),
            int(data["allocations"]),
            Decimal(data["allocated"]),
        )

    def differences(self, other: Totals) -> list[str]:
        return [
            f"{name} {mine:,} against {theirs:,}"
            for name, mine, theirs in zip(
                ("statements", "amount", "paid", "allocations", "allocated"),
                self._fields(),
                other._fields(),
                strict=True,
            )
            if mine != theirs
        ]

    def _fields(self) -> tuple[int | Decimal, ...]:
        return (self.statements, self.amount, self.paid, self.allocations, self.allocated)


def _reader(path: Path) -> str:
    """A DuckDB table expression for an output file (parquet or CSV) or a directory of
    parquet files."""
    if path.is_dir():
        return f"read_parquet('{_quoted(path)}/**/*.parquet')"
    if path.suffix == ".csv":
        return f"read_csv('{_quoted(path)}')"
    return f"read_parquet('{_quoted(path)}')"


def _query_part(out: Path, kind: str) -> str:
    return f"(SELECT * FROM read_parquet('{_quoted(out)}') WHERE kind = '{kind}')"  # noqa: S608


def table_totals(statements: str, allocations: str, allocated: str) -> Totals:
    """Totals of two DuckDB table expressions, ``allocated`` being what an allocation
    gave: amounts to the cent, whatever type they were stored as."""
    import duckdb

    cents = "CAST({} AS DECIMAL(18, 2))"
    with duckdb.connect() as connection:
        [(count, amount, paid)] = connection.execute(
            f"SELECT count(*), coalesce(sum({cents.format('amount')}), 0), "  # noqa: S608
            f"coalesce(sum({cents.format('paid_amount')}), 0) FROM {statements}"
        ).fetchall()
        [(allocations_count, allocated)] = connection.execute(
            f"SELECT count(*), coalesce(sum({cents.format(allocated)}), 0) "  # noqa: S608
            f"FROM {allocations}"
        ).fetchall()
    cent = Decimal("0.01")
    return Totals(
        int(count),
        Decimal(amount).quantize(cent),
        Decimal(paid).quantize(cent),
        int(allocations_count),
        Decimal(allocated).quantize(cent),
    )


def run_totals(files: dict[str, Path]) -> Totals:
    """Totals of ``compute_local_statements``'s files (allocations are positive there)."""
    return table_totals(
        _reader(files["statements"]), _reader(files["payment_allocations"]), "allocated_amount"
    )


def query_totals(out: Path) -> Totals:
    """Totals of the hand-written query's file (allocations are negative there, as the
    allocation rows of ``docs/contract.md#allocation-rows``)."""
    return table_totals(_query_part(out, "statement"), _query_part(out, "allocation"), "-amount")


# --- the naive loop -----------------------------------------------------------------------


def naive_totals(ledger: Path) -> Totals:
    """A data engineer's first version: the ledger in pandas, sorted, then a loop over
    the customers that sums each one's months and pays the positive ones oldest first."""
    import duckdb

    with duckdb.connect() as connection:
        frame = connection.execute(
            "SELECT external_id, customer_external_id, transaction_date, transaction_type, "  # noqa: S608
            f"amount FROM read_parquet('{_quoted(ledger)}')"
        ).df()
    frame["cents"] = (frame["amount"].astype(float) * 100).round().astype("int64")
    frame["month"] = frame["transaction_date"].dt.year * 12 + frame["transaction_date"].dt.month
    frame = frame.sort_values(["customer_external_id", "transaction_date", "external_id"])
    statements = amount = paid = allocations = 0
    for _, rows in frame.groupby("customer_external_id", sort=False):
        net: dict[int, int] = defaultdict(int)
        payments = []
        for kind, month, cents in zip(
            rows["transaction_type"], rows["month"], rows["cents"], strict=True
        ):
            if kind in BILLABLE:
                net[month] += cents
            elif kind in PAYMENTS:
                payments.append(-cents)
        owed = [net[month] for month in sorted(net) if net[month] > 0]
        statements += len(owed)
        amount += sum(owed)
        oldest = 0
        for value in payments:  # in (date, external_id) order: the frame is sorted
            left = value
            while left > 0 and oldest < len(owed):
                given = min(left, owed[oldest])
                owed[oldest] -= given
                left -= given
                paid += given
                allocations += 1
                if owed[oldest] == 0:
                    oldest += 1
    cent = Decimal("0.01")
    # Every cent paid was given by an allocation: allocated and paid are one total here.
    return Totals(statements, amount * cent, paid * cent, allocations, paid * cent)


# --- the reference check ------------------------------------------------------------------


def reference_problems(directory: Path) -> tuple[int, list[str]]:
    """The hand-written query against ``ar_pipelines.statements.reference`` on a small
    ledger, statement by statement (amount, paid) and allocation by allocation."""
    import duckdb

    from ar_pipelines.statements.reference import LedgerEntry, compute_statements

    ledger = directory / REFERENCE_LEDGER
    generate_ledger(ledger, *REFERENCE_SIZE)
    out = handwritten_query(ledger, directory / "reference_query.parquet")
    with duckdb.connect() as connection:
        rows = connection.execute(
            "SELECT external_id, customer_external_id, transaction_date, transaction_type, "  # noqa: S608
            f"amount FROM read_parquet('{_quoted(ledger)}')"
        ).fetchall()
        statements = connection.execute(
            f"SELECT external_id, amount, paid_amount FROM {_query_part(out, 'statement')}"  # noqa: S608
        ).fetchall()
        allocations = connection.execute(
            "SELECT external_id, payment_external_id, invoice_id, transaction_date, -amount "  # noqa: S608
            f"FROM {_query_part(out, 'allocation')}"
        ).fetchall()
    expected = compute_statements(LedgerEntry(*row) for row in rows)
    want_statements = {
        s.external_invoice_id: (s.amount, s.paid_amount) for s in expected.statements
    }
    got_statements = {number: (amount, paid) for number, amount, paid in statements}
    want_allocations = []
    for a in expected.allocations:
        number = f"STMT-{a.period_start:%Y-%m}-{a.customer}"
        allocation_id = f"ALLOC-{a.payment_external_id}-{number}"
        want_allocations.append(
            (allocation_id, a.payment_external_id, number, a.transaction_date, a.amount)
        )
    want_allocations.sort()
    got_allocations = sorted(allocations)
    problems = []
    if got_statements != want_statements:
        wrong = sorted(want_statements.keys() ^ got_statements.keys()) or sorted(
            n for n in want_statements if want_statements[n] != got_statements[n]
        )
        problems.append(f"statements differ, first: {', '.join(wrong[:3])}")
    if got_allocations != want_allocations:
        problems.append(
            f"allocations differ: {len(got_allocations):,} against {len(want_allocations):,}"
        )
    return len(want_statements), problems


# --- steps, each in a process of its own --------------------------------------------------


def _peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """This process's CPU time so far, every thread (DuckDB's included)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(step: str, *arguments: str) -> dict[str, Any]:
    return run_step("bench.statements", step, *arguments)


class _Timer:
    """Wall and CPU seconds from its creation, and the peak RSS when read."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), _cpu_seconds()

    def figures(self) -> dict[str, float]:
        return {
            "seconds": time.perf_counter() - self.wall,
            "cpu_seconds": _cpu_seconds() - self.cpu,
            "peak_mib": _peak_mib(),
        }


def generate_step(path: str, entries: str, customers: str) -> None:
    timer = _Timer()
    generate_ledger(Path(path), int(entries), int(customers))
    print(json.dumps(timer.figures()))


def query_step(ledger: str, out: str) -> None:
    timer = _Timer()
    handwritten_query(Path(ledger), Path(out))
    figures = timer.figures()
    print(json.dumps({**figures, "totals": query_totals(Path(out)).as_json()}))


def naive_step(ledger: str) -> None:
    timer = _Timer()
    totals = naive_totals(Path(ledger))
    print(json.dumps({**timer.figures(), "totals": totals.as_json()}))


def models_step(ledger: str, out_dir: str, warehouse: str) -> None:
    from ar_pipelines.statements.local import compute_local_statements

    timer = _Timer()
    run = compute_local_statements(
        Path(ledger), Path(out_dir), warehouse=warehouse or None, run_tests=False
    )
    figures = timer.figures()
    phases = {
        "load_seconds": run.load_seconds,
        "dbt_seconds": run.dbt_seconds,
        "export_seconds": run.export_seconds,
    }
    print(json.dumps({**figures, **phases, "totals": run_totals(run.files).as_json()}))


# --- one size -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    step: str
    size: Size
    seconds: float
    cpu_seconds: float
    peak_mib: float
    totals: Totals
    # compute_local_statements's own split of its time: load, dbt, export.
    phases: tuple[float, float, float] | None = None
    note: str = ""


def _measured(step: str, size: Size, result: dict[str, Any], note: str = "") -> Measured:
    phases = None
    if "dbt_seconds" in result:
        phases = (
            float(result["load_seconds"]),
            float(result["dbt_seconds"]),
            float(result["export_seconds"]),
        )
    return Measured(
        step,
        size,
        float(result["seconds"]),
        float(result["cpu_seconds"]),
        float(result["peak_mib"]),
        Totals.from_json(result["totals"]),
        phases,
        note,
    )


def _print_header() -> None:
    print(
        f"\n  size  {'step':<20}{'wall s':>7}{'CPU s':>7}{'load s':>7}{'dbt s':>7}{'export s':>9}"
        f"{'entries/s':>11}{'peak RSS MiB':>14}{'statements':>12}{'allocations':>13}"
    )


def _print_row(one: Measured) -> None:
    load, dbt, export = (f"{s:.1f}" for s in one.phases) if one.phases else ("", "", "")
    rate = one.size.entries / max(one.seconds, 1e-9)
    print(
        f"  {one.size.name:>4}  {one.step:<20}{one.seconds:>7.1f}{one.cpu_seconds:>7.1f}"
        f"{load:>7}{dbt:>7}{export:>9}"
        f"{rate:>11,.0f}{one.peak_mib:>14,.0f}{one.totals.statements:>12,}"
        f"{one.totals.allocations:>13,}{'  ' + one.note if one.note else ''}"
    )


def run_size(size: Size, directory: Path, *, naive: bool, postgres: bool) -> list[Measured]:
    """Generate the ledger, then each computation on it in a process of its own."""
    ledger = directory / f"ledger_{size.name}.parquet"
    generated = _child("generate_step", str(ledger), str(size.entries), str(size.customers))
    megabytes = ledger.stat().st_size / 2**20
    print(
        f"  {size.name:>4}  (generated {size.entries:,} entries for {size.customers:,} "
        f"customers in {generated['seconds']:.1f} s, {megabytes:,.1f} MiB of parquet)"
    )
    out = directory / f"out_{size.name}"
    steps = [
        ("dbt on DuckDB", "models_step", str(out / "dbt"), ""),
        ("hand-written query", "query_step", str(out / "query.parquet")),
    ]
    if naive:
        steps.append(("naive pandas loop", "naive_step"))
    results = []
    for name, step, *arguments in steps:
        results.append(_measured(name, size, _child(step, str(ledger), *arguments)))
        _print_row(results[-1])
    if postgres:
        pg = postgres_run(size, ledger, out / "postgres")
        if pg is not None:
            _print_row(pg)
            results.append(pg)
    return results


def postgres_run(size: Size, ledger: Path, out_dir: Path) -> Measured | None:
    from bench.databases import (
        postgres_base_url,
        postgres_schema,
        postgres_unreachable,
        shown_url,
    )

    base = postgres_base_url()
    reason = postgres_unreachable(base)
    if reason is not None:
        shown = shown_url(base)
        print(f"  {size.name:>4}  dbt on Postgres: skipped, {shown} unreachable: {reason}")
        return None
    with postgres_schema(base) as url:
        result = _child("models_step", str(ledger), str(out_dir), url)
    return _measured(
        "dbt on Postgres", size, result, "(CPU and RSS: the runner's, not the server's)"
    )


# --- checks and targets -------------------------------------------------------------------


def check_size(results: Sequence[Measured]) -> bool:
    query = next(one for one in results if one.step == "hand-written query")
    size = query.size
    t = query.totals
    problems = {one.step: one.totals.differences(t) for one in results if one is not query}
    internal = t.paid != t.allocated
    agree = not internal and not any(problems.values())
    others = ", ".join(problems)
    print(
        f"        check {size.name}: {others} against the hand-written query "
        f"({t.statements:,} statements, amount {t.amount:,}, paid {t.paid:,}; "
        f"{t.allocations:,} allocations summing to the paid total): "
        f"{'OK' if agree else 'DIFFERENT'}"
    )
    if internal:
        print(f"          the query's allocations sum to {t.allocated:,}, not its paid {t.paid:,}")
    for step, differences in problems.items():
        if differences:
            print(f"          {step}: {'; '.join(differences)}")
    return agree


def print_targets(results: Sequence[Measured], sizes: Sequence[Size], *, quick: bool) -> None:
    def find(step: str, size: Size) -> Measured | None:
        return next((r for r in results if r.step == step and r.size == size), None)

    small, large = sizes[0], sizes[-1]
    print()
    if quick:
        print("  (a quick run: too small for these figures to say much)")
    models = find("dbt on DuckDB", large)
    query = find("hand-written query", large)
    if models is not None:
        # The dbt run is what the target judges; the step around it also starts Python,
        # loads the ledger file and writes the three CSVs.
        dbt_seconds = models.phases[1] if models.phases else models.seconds
        print(
            f"  {large.name} dbt run on DuckDB: {dbt_seconds:.1f} s "
            f"(the whole step, file to files: {models.seconds:.1f} s) "
            f"(target <= {TARGET_DUCKDB_SECONDS:.0f} s: "
            f"{_met(dbt_seconds <= TARGET_DUCKDB_SECONDS)})"
        )
        print(
            f"  {large.name} dbt on DuckDB peak RSS: {models.peak_mib:,.0f} MiB "
            f"(target < {TARGET_PEAK_MIB / 1024:.0f} GB: {_met(models.peak_mib < TARGET_PEAK_MIB)})"
        )
        if query is not None:
            ratio = dbt_seconds / max(query.seconds, 1e-9)
            whole = models.seconds / max(query.seconds, 1e-9)
            print(
                f"  dbt run vs hand-written query at {large.name}: {ratio:.1f}x "
                f"(file to files: {whole:.1f}x; "
                f"target <= {TARGET_VS_QUERY}x: {_met(ratio <= TARGET_VS_QUERY)})"
            )
    naive = find("naive pandas loop", small)
    if naive is not None:
        per_million = naive.seconds * 1_000_000 / small.entries
        print(f"  naive pandas loop: {per_million:.1f} s per million entries")
    postgres = find("dbt on Postgres", small)
    if postgres is not None:
        print(
            f"  Postgres {small.name}: {postgres.seconds:.1f} s "
            f"(target <= {TARGET_POSTGRES_SECONDS:.0f} s: "
            f"{_met(postgres.seconds <= TARGET_POSTGRES_SECONDS)})"
        )


def _met(met: bool) -> str:
    return "met" if met else "MISSED"


def run(quick: bool) -> bool:
    sizes = QUICK if quick else FULL
    print(
        f"statements: ledgers of {' and '.join(f'{s.entries:,}' for s in sizes)} entries "
        f"({sizes[0].customers:,} customers, visits over {MONTHS} months from {FIRST_DAY}, seed "
        f"{SEED}) as parquet; the statement models by compute_local_statements (dbt, tests "
        "not run, embedded DuckDB), the same as one hand-written DuckDB query, a naive pandas "
        f"loop per customer and the models on Postgres at {sizes[0].name}"
    )
    print(
        f"  machine: reference Python loop {python_loop_ms():.0f} ms (lower is faster); "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (wall times on a busy "
        "machine vary; CPU seconds less)"
    )
    with tempfile.TemporaryDirectory(prefix="ar_bench_statements_") as name:
        directory = Path(name)
        checked, problems = reference_problems(directory)
        print(
            f"  check: the hand-written query against ar_pipelines.statements.reference on "
            f"{REFERENCE_SIZE[0]:,} entries, {checked:,} statements and every allocation one "
            f"by one: {'OK' if not problems else 'DIFFERENT'}"
        )
        for problem in problems:
            print(f"    {problem}")
        ok = not problems
        if not quick:
            fixed = _child(
                "models_step", str(directory / REFERENCE_LEDGER), str(directory / "fixed"), ""
            )
            print(
                f"  dbt's fixed cost: {fixed['seconds']:.1f} s for the {REFERENCE_SIZE[0]:,} "
                "entries (a new process parsing the project, then every model), "
                "in each wall time below"
            )
        _print_header()
        results: list[Measured] = []
        for size in sizes:
            first = size == sizes[0]
            measured = run_size(size, directory, naive=first, postgres=first)
            ok = check_size(measured) and ok
            results += measured
    print_targets(results, sizes, quick=quick)
    return ok
