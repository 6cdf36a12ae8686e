"""Ledger push throughput of the AR client, beside a naive loop doing the same work.

A seeded workload (customers, then ledger entries in shuffled order) is pushed to
``ar-sandbox serve`` running as a subprocess: by ``ARClient.ledgers.bulk_upsert`` at
several concurrencies, and by a naive baseline that sends the entries as they come,
500 per request, one request at a time, on a new connection each time, without
retries. Each run gets its own database and company, so every run is a first push of
the same data. Prints entries/s, the client's own CPU per 10,000 entries and as a
share of wall time, and the server's peak RSS. After each run the statements the
server materialized are read back and compared, one by one, with those computed by
``ar_pipelines.statements.reference`` from the same entries.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar

import httpx

from ar_demo.entries import CustomerRow, EntryRow, Period, customer_rows, draw_ledger, entry_rows
from ar_pipelines.client import ARClient, PushIncompleteError, PushReport
from ar_pipelines.local_sandbox import SandboxProcess, bootstrap_company, sandbox_process
from ar_pipelines.statements.reference import LedgerEntry, compute_statements
from bench.databases import (
    postgres_base_url,
    postgres_schema,
    postgres_unreachable,
    shown_url,
    sqlite_database,
)
from bench.machine import python_loop_ms
from bench.sandbox_api import counts, plain_json
from bench.sandbox_process import PeakRss
from bench.targets import met

SEED = 20_240_615
PERIOD = Period(date(2025, 1, 1), 12)  # twelve statement months
ENTRY_IDS = "CLIENT-TX-{:07d}"
CUSTOMER_IDS = "CLIENT-PT-{:05d}"
NAIVE = "naive"
NAIVE_BATCH = 500  # the documented maximum per push
CPU_PER_ENTRIES = 10_000  # client CPU is shown per this many entries
COMPARED_CONCURRENCY = 4
TARGET_SPEEDUP = 3.0  # concurrency 4 against the naive loop
TARGET_CPU_SHARE = 0.10  # client CPU seconds per wall second
# The RSS sampler runs in this process, so its CPU counts as the client's: sample
# sparsely (the kernel's high-water mark still catches the server's short peaks).
RSS_INTERVAL_SECONDS = 0.5
NAIVE_TIMEOUT = httpx.Timeout(300.0, connect=5.0)
SHOWN_EXAMPLES = 3

# (type, weight, lowest cents, highest cents), each entry on its own; the sign is the
# type's (ar_demo.entries.SIGN).
TRANSACTION_MIX = (
    ("charge", 64, 2_000, 150_000),
    ("adjustment", 3, 0, 20_000),
    ("other_debit", 2, 500, 15_000),
    ("other_credit", 3, 0, 30_000),
    ("patient_payment", 17, 500, 40_000),
    ("insurance_payment", 11, 2_000, 120_000),
)

T = TypeVar("T")


@dataclass(frozen=True)
class Size:
    entries: int
    customers: int
    concurrencies: tuple[int, ...]


FULL_SIZE = Size(entries=100_000, customers=2_000, concurrencies=(1, 4, 8))
QUICK_SIZE = Size(entries=2_000, customers=100, concurrencies=(1, 4))


@dataclass(frozen=True)
class Workload:
    customers: list[CustomerRow]
    entries: list[EntryRow]  # shuffled: no order by customer, date or id


@dataclass(frozen=True)
class Figures:
    """What is compared of a statement."""

    amount: Decimal
    paid: Decimal


@dataclass(frozen=True)
class PushFigures:
    entries: int
    seconds: float
    cpu_seconds: float
    requests: int
    retries: int | None  # None: the pusher never retries
    counts: str  # the ledger and statement counts, as one line
    checked: str  # what the problems were looked for in
    problems: list[str]


@dataclass(frozen=True)
class StoredStatements:
    listed: int
    by_number: dict[str, Figures]  # by external_invoice_id
    seconds: float


@dataclass
class RunResult:
    name: str
    push: PushFigures
    customers_seconds: float
    peak_rss_bytes: int
    stored: StoredStatements
    problems: list[str] = field(default_factory=list)

    @property
    def entries_per_second(self) -> float:
        return self.push.entries / self.push.seconds

    @property
    def cpu_per_entries(self) -> float:
        return self.push.cpu_seconds * CPU_PER_ENTRIES / self.push.entries

    @property
    def cpu_share(self) -> float:
        return self.push.cpu_seconds / self.push.seconds


# A pusher sends every entry to the server with the key and says what it measured.
Pusher = Callable[[SandboxProcess, str, Sequence[EntryRow]], PushFigures]


# --- the workload -------------------------------------------------------------------------


def generate_workload(size: Size, seed: int = SEED) -> Workload:
    """The same customers and entries for the same arguments, on every run and machine."""
    customers = customer_rows(size.customers, seed=seed, customer_ids=CUSTOMER_IDS)
    # Shuffled, as an extract in no particular order would come.
    ledger = draw_ledger(
        size.entries, size.customers, seed=seed, period=PERIOD, mix=(TRANSACTION_MIX,), shuffle=True
    )
    return Workload(customers, entry_rows(ledger, entry_ids=ENTRY_IDS, customer_ids=CUSTOMER_IDS))


def expected_statements(entries: Sequence[EntryRow]) -> dict[str, Figures]:
    """The reference implementation's statements, by external_invoice_id."""
    result = compute_statements(
        LedgerEntry(
            external_id=e["external_id"],
            customer=e["customer_external_id"],
            transaction_date=e["transaction_date"],
            transaction_type=e["transaction_type"],
            amount=e["amount"],
        )
        for e in entries
    )
    return {s.external_invoice_id: Figures(s.amount, s.paid_amount) for s in result.statements}


# --- pushers ------------------------------------------------------------------------------


def timed(work: Callable[[], T]) -> tuple[T, float, float]:
    """``work()``, its wall seconds and this process's CPU seconds (every thread)."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def client_pusher(concurrency: int) -> Pusher:
    """``ar.ledgers.bulk_upsert`` on a client of its own (a cold connection pool)."""

    def push(server: SandboxProcess, key: str, entries: Sequence[EntryRow]) -> PushFigures:
        with ARClient(base_url=server.base_url, api_key=key, concurrency=concurrency) as ar:
            report, seconds, cpu_seconds = timed(lambda: _bulk_upsert(ar, entries))
        return PushFigures(
            entries=len(entries),
            seconds=seconds,
            cpu_seconds=cpu_seconds,
            requests=report.requests,
            retries=report.retry_count,
            counts=_describe_report(report),
            checked="push report complete, every entry created",
            problems=report_problems(report, len(entries)),
        )

    return push


def _bulk_upsert(ar: ARClient, entries: Sequence[EntryRow]) -> PushReport:
    try:
        return ar.ledgers.bulk_upsert(entries)
    except PushIncompleteError as err:  # the report still accounts for every entry
        return err.report


def report_problems(report: PushReport, entry_count: int) -> list[str]:
    problems = []
    if not report.complete:
        problems.append(f"incomplete: {len(report.unsent):,} entries unsent")
    if report.accounted != report.total or report.total != entry_count:
        problems.append(
            f"{report.accounted:,} of {report.total:,} entries accounted for "
            f"({entry_count:,} pushed)"
        )
    if report.created != entry_count:
        problems.append(f"{report.created:,} entries created, expected {entry_count:,}")
    for name, issues in (("rejected", report.rejected), ("failed", report.failed)):
        if issues:
            problems.append(f"{len(issues):,} {name}, first: {issues[0].reason}")
    return problems


def _describe_report(report: PushReport) -> str:
    line = (
        f"ledger_entries created {report.created:,} updated {report.updated:,} "
        f"skipped {report.skipped_count:,} failed {len(report.failed):,} "
        f"rejected {len(report.rejected):,} unsent {len(report.unsent):,}"
    )
    statements = report.statements
    if statements is not None:
        line += (
            f"; statements created {statements.created:,} updated {statements.updated:,} "
            f"allocations created {statements.allocations_created:,}"
        )
    return line


def push_naively(server: SandboxProcess, key: str, entries: Sequence[EntryRow]) -> PushFigures:
    """The entries in input order, 500 per request, one at a time, a new connection each."""
    batches = [entries[i : i + NAIVE_BATCH] for i in range(0, len(entries), NAIVE_BATCH)]

    def push_all() -> tuple[Counter[str], Counter[str]]:
        ledger: Counter[str] = Counter()
        statements: Counter[str] = Counter()
        for batch in batches:
            data = _naive_request(server, key, batch)
            ledger.update(counts(data["ledger_entries"]))
            statements.update(counts(data["statements"]))
        return ledger, statements

    (ledger, statements), seconds, cpu_seconds = timed(push_all)
    return PushFigures(
        entries=len(entries),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        requests=len(batches),
        retries=None,
        counts=_describe_counts(ledger, statements),
        checked="the answers count every entry created",
        problems=naive_problems(ledger, len(entries)),
    )


def _naive_request(
    server: SandboxProcess, key: str, batch: Sequence[EntryRow]
) -> dict[str, dict[str, object]]:
    body = json.dumps({"ledger_entries": list(batch)}, default=plain_json).encode()
    headers = {"X-Api-Key": key, "Content-Type": "application/json"}
    with httpx.Client(timeout=NAIVE_TIMEOUT) as http:  # a new connection for every request
        response = http.post(f"{server.api}/ledgers/bulk", content=body, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"naive push: {response.status_code} {response.text[:500]}")
    data: dict[str, dict[str, object]] = response.json()["data"]
    return data


def naive_problems(ledger: Counter[str], entry_count: int) -> list[str]:
    wanted = {"total": entry_count, "created": entry_count, "updated": 0, "failed": 0}
    return [
        f"ledger_entries.{name} = {ledger[name]:,}, expected {value:,}"
        for name, value in wanted.items()
        if ledger[name] != value
    ]


def _describe_counts(ledger: Counter[str], statements: Counter[str]) -> str:
    return (
        f"ledger_entries created {ledger['created']:,} updated {ledger['updated']:,} "
        f"skipped {ledger['skipped']:,} failed {ledger['failed']:,}; "
        f"statements created {statements['created']:,} updated {statements['updated']:,} "
        f"allocations created {statements['allocations_created']:,}"
    )


# --- one run: a fresh database and company ------------------------------------------------


def bench_run(
    name: str,
    database: Callable[[], AbstractContextManager[str]],
    pusher: Pusher,
    workload: Workload,
    expected: dict[str, Figures],
) -> RunResult:
    with database() as url:
        key = str(bootstrap_company(url)["live_key"])
        with (
            sandbox_process(url) as server,
            PeakRss(server.pid, interval_seconds=RSS_INTERVAL_SECONDS) as rss,
            ARClient(base_url=server.base_url, api_key=key) as ar,
        ):
            customers_seconds = create_customers(ar, workload.customers)
            rss.reset()
            push = pusher(server, key, workload.entries)
            peak_rss = rss.peak_bytes()
            stored = read_statements(ar)
    problems = push.problems + compare_statements(stored, expected, "the reference")
    return RunResult(name, push, customers_seconds, peak_rss, stored, problems)


def create_customers(ar: ARClient, customers: Sequence[CustomerRow]) -> float:
    """Upsert every customer (untimed setup); the seconds it took."""
    report, seconds, _ = timed(lambda: ar.customers.bulk_upsert(customers))
    if not report.complete or report.created != len(customers):
        raise RuntimeError(f"customer upsert fell short: {report.summary()}")
    return seconds


def read_statements(ar: ARClient) -> StoredStatements:
    started = time.perf_counter()
    listed = 0
    by_number: dict[str, Figures] = {}
    for statement in ar.statements.list():
        listed += 1
        by_number[statement.external_invoice_id] = Figures(statement.amount, statement.paid_amount)
    return StoredStatements(listed, by_number, time.perf_counter() - started)


def compare_statements(
    stored: StoredStatements, expected: dict[str, Figures], against: str
) -> list[str]:
    """Every statement, on amount and paid_amount, by external_invoice_id."""
    problems = []
    if stored.listed != len(expected):
        problems.append(f"{stored.listed:,} statements stored, {len(expected):,} in {against}")
    got = stored.by_number
    differences = {
        "missing": sorted(expected.keys() - got.keys()),
        "unexpected": sorted(got.keys() - expected.keys()),
        "different": sorted(n for n in expected.keys() & got.keys() if got[n] != expected[n]),
    }
    for what, numbers in differences.items():
        if numbers:
            examples = ", ".join(numbers[:SHOWN_EXAMPLES])
            problems.append(f"{len(numbers):,} statements {what} against {against}: {examples}")
    return problems


def cross_problems(results: Sequence[RunResult]) -> list[str]:
    """The naive run's statements against each client run's."""
    naive = _naive_of(results)
    problems = []
    for one in _client_runs(results):
        problems += compare_statements(naive.stored, one.stored.by_number, one.name)
    return problems


def _naive_of(results: Sequence[RunResult]) -> RunResult:
    return next(one for one in results if one.name == NAIVE)


def _client_runs(results: Sequence[RunResult]) -> list[RunResult]:
    return [one for one in results if one.name != NAIVE]


# --- printing -----------------------------------------------------------------------------


def print_header(size: Size, expected: dict[str, Figures], loop_ms: float) -> None:
    concurrencies = ", ".join(str(c) for c in size.concurrencies)
    print(
        f"client_push: {size.entries:,} ledger entries for {size.customers:,} customers over "
        f"the {PERIOD.months} months of {PERIOD.first.year} (seed {SEED}), in shuffled order; "
        f"ARClient at concurrency {concurrencies}, then a naive loop (one request at a time, "
        f"{NAIVE_BATCH} entries in input order, a new connection per request, no retries)"
    )
    amount = sum((f.amount for f in expected.values()), Decimal())
    paid = sum((f.paid for f in expected.values()), Decimal())
    print(
        f"  expected (ar_pipelines.statements.reference): {len(expected):,} statements, "
        f"amount {amount:,}, paid {paid:,}"
    )
    print(f"  machine speed: reference Python loop {loop_ms:.0f} ms (lower is faster)")


def print_results(label: str, results: Sequence[RunResult], cross: list[str]) -> None:
    print(f"\n{label}")
    print(
        f"  {'run':<15}{'entries/s':>10}{'seconds':>9}{'requests':>10}{'retries':>9}"
        f"{'CPU s/10k':>11}{'CPU % wall':>12}{'server peak RSS MiB':>21}"
    )
    for one in results:
        retries = "-" if one.push.retries is None else f"{one.push.retries:,}"
        print(
            f"  {one.name:<15}{one.entries_per_second:>10,.0f}{one.push.seconds:>9.1f}"
            f"{one.push.requests:>10,}{retries:>9}{one.cpu_per_entries:>11.3f}"
            f"{one.cpu_share:>12.1%}{one.peak_rss_bytes / 2**20:>21.1f}"
        )
    customers = max(one.customers_seconds for one in results)
    print(
        "  before each run, untimed above: the customers upserted with "
        f"ar.customers.bulk_upsert in at most {customers:.1f} s"
    )
    for one in results:
        print(f"  {one.name}: {one.push.counts}")
    for one in results:
        print_check(one)
    names = ", ".join(one.name for one in _client_runs(results))
    print(f"  check {NAIVE} against {names}: the same statements: {_verdict(cross)}")
    for problem in cross:
        print(f"    {problem}")


def print_check(one: RunResult) -> None:
    stored = one.stored
    print(
        f"  check {one.name} (read back in {stored.seconds:.1f} s): {one.push.checked}; "
        f"{stored.listed:,} statements stored, every one compared with the reference on "
        f"amount and paid_amount: {_verdict(one.problems)}"
    )
    for problem in one.problems:
        print(f"    {problem}")


def _verdict(problems: list[str]) -> str:
    return "OK" if not problems else "WRONG"


def print_targets(results: Sequence[RunResult], *, quick: bool) -> None:
    by_name = {one.name: one for one in results}
    naive = _naive_of(results)
    compared = by_name.get(_run_name(COMPARED_CONCURRENCY))
    print()
    if quick:
        print("  (a quick run: too small for these figures to say much)")
    if compared is not None:
        speedup = compared.entries_per_second / naive.entries_per_second
        print(
            f"  concurrency {COMPARED_CONCURRENCY} vs naive: {speedup:.1f}x "
            f"(target >= {TARGET_SPEEDUP:.0f}x: {met(speedup >= TARGET_SPEEDUP)})"
        )
    busiest = max(_client_runs(results), key=lambda one: one.cpu_share)
    print(
        f"  client CPU: {busiest.cpu_share:.1%} of wall (the most of the client runs, "
        f"{busiest.name}; target < {TARGET_CPU_SHARE:.0%}: "
        f"{met(busiest.cpu_share < TARGET_CPU_SHARE)})"
    )


# --- entry point --------------------------------------------------------------------------


def _run_name(concurrency: int) -> str:
    return f"concurrency {concurrency}"


def pushers(size: Size) -> Iterator[tuple[str, Pusher]]:
    for concurrency in size.concurrencies:
        yield _run_name(concurrency), client_pusher(concurrency)
    yield NAIVE, push_naively


def choose_database() -> tuple[str, Callable[[], AbstractContextManager[str]]]:
    """Postgres (a fresh schema per run) when reachable; otherwise a SQLite file."""
    base_url = postgres_base_url()
    shown = shown_url(base_url)
    reason = postgres_unreachable(base_url)
    if reason is None:
        return f"Postgres ({shown}, a fresh schema per run)", lambda: postgres_schema(base_url)
    print(f"\nPostgres ({shown}): unreachable, running on SQLite instead: {reason}")
    return "SQLite (a temporary file per run)", sqlite_database


def run(quick: bool) -> bool:
    """Every run on one backend; True when every check passed (targets are only shown)."""
    size = QUICK_SIZE if quick else FULL_SIZE
    workload = generate_workload(size)
    expected = expected_statements(workload.entries)
    print_header(size, expected, python_loop_ms())
    label, database = choose_database()
    results = [
        bench_run(name, database, pusher, workload, expected) for name, pusher in pushers(size)
    ]
    cross = cross_problems(results)
    print_results(label, results, cross)
    print_targets(results, quick=quick)
    return not cross and all(not one.problems for one in results)
