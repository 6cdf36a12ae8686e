"""Ledger push throughput of the sandbox, on SQLite and on Postgres.

Pushes a seeded workload of ledger entries (sorted by customer, in batches of 500)
to ``ar-sandbox serve`` running as a subprocess, then re-pushes all of it, and
prints entries/s, batch latency and the server's peak RSS for each pass. At the
end the statements the server materialized are checked against totals computed
here independently, so a fast figure from a wrong server does not pass unnoticed.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from ar_demo.entries import CustomerRow, EntryRow, Period, customer_rows, draw_ledger, entry_rows
from ar_pipelines.local_sandbox import SandboxProcess, bootstrap_company, sandbox_process
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

SEED = 20_240_601
FULL_SIZE = (100_000, 2_000)  # entries, customers
QUICK_SIZE = (10_000, 200)
LEDGER_BATCH = 500  # the documented maximum per push
CUSTOMER_BATCH = 100  # the documented maximum per bulk customer request
STATEMENT_PAGE = 100  # the documented maximum per_page of GET /statements
SAMPLE_EVERY = 20  # every 20th customer's statements are compared one by one
PERIOD = Period(date(2023, 1, 1), 36)  # 36 statement months
ENTRY_IDS = "BENCH-TX-{:07d}"
CUSTOMER_IDS = "BENCH-PT-{:05d}"

POSTGRES_MIN_ENTRIES_PER_SECOND = 5_000
POSTGRES_MAX_P95_MS = 500.0

# (type, weight, lowest cents, highest cents), each entry on its own; the sign is the
# type's (ar_demo.entries.SIGN).
TRANSACTION_MIX = (
    ("charge", 50, 2_000, 150_000),
    ("adjustment", 8, 0, 20_000),
    ("other_credit", 7, 0, 30_000),
    ("patient_payment", 20, 500, 40_000),
    ("insurance_payment", 15, 2_000, 120_000),
)
BILLABLE_TYPES = frozenset({"charge", "adjustment", "other_debit", "other_credit"})
PAYMENT_TYPES = frozenset({"patient_payment", "insurance_payment"})


@dataclass(frozen=True)
class Workload:
    customers: list[CustomerRow]
    entries: list[EntryRow]  # sorted by customer; amounts are Decimal


@dataclass(frozen=True)
class Statement:
    period_start: str  # YYYY-MM-DD
    amount: Decimal
    paid: Decimal


@dataclass(frozen=True)
class StatementTotals:
    count: int
    amount: Decimal
    paid: Decimal


@dataclass
class PassResult:
    name: str
    entries: int
    seconds: float
    latencies_ms: list[float]
    peak_rss_bytes: int
    ledger: Counter[str]  # created/updated/skipped/failed, summed over the batches
    statements: Counter[str]

    @property
    def entries_per_second(self) -> float:
        return self.entries / self.seconds

    def latency_percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class StatementCheck:
    stored_count: int
    expected_count: int
    sampled_customers: int
    sampled_statements: int
    seconds: float
    problems: list[str]


@dataclass
class BackendResult:
    label: str
    loop_ms: float  # bench.machine.python_loop_ms just before the run
    setup_seconds: float
    passes: list[PassResult]
    check: StatementCheck
    problems: list[str] = field(default_factory=list)


# --- the workload -------------------------------------------------------------------------


def generate_workload(entry_count: int, customer_count: int, seed: int = SEED) -> Workload:
    """The same entries for the same arguments, on every run and every machine."""
    customers = customer_rows(customer_count, seed=seed, customer_ids=CUSTOMER_IDS)
    ledger = draw_ledger(
        entry_count, customer_count, seed=seed, period=PERIOD, mix=(TRANSACTION_MIX,)
    )
    entries = entry_rows(ledger, entry_ids=ENTRY_IDS, customer_ids=CUSTOMER_IDS)
    # Sorted by customer, as an integration pushing one practice's ledger would.
    entries.sort(key=lambda e: e["customer_external_id"])
    return Workload(customers, entries)


def expected_statements(entries: Sequence[EntryRow]) -> dict[str, list[Statement]]:
    """Statements (``docs/contract.md#statement-aggregation``) from first principles, per
    customer external id.

    A statement per month with positive billable net, oldest first. The waterfall
    spends a customer's payments on all of its statements oldest-first whatever the
    payments' dates, so statement ``i`` is paid whatever of the paid-in total is left
    after the statements before it, up to its amount.
    """
    net: defaultdict[str, defaultdict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    paid_in: defaultdict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        customer, kind = entry["customer_external_id"], entry["transaction_type"]
        if kind in BILLABLE_TYPES:
            net[customer][entry["transaction_date"].replace(day=1).isoformat()] += entry["amount"]
        elif kind in PAYMENT_TYPES:
            paid_in[customer] -= entry["amount"]
    expected = {}
    for customer, months in net.items():
        left = paid_in[customer]
        statements = []
        for month in sorted(m for m, amount in months.items() if amount > 0):
            amount = months[month]
            paid = min(amount, left)
            left -= paid
            statements.append(Statement(month, amount, paid))
        expected[customer] = statements
    return expected


def totals(statements: dict[str, list[Statement]]) -> StatementTotals:
    every = [s for of_customer in statements.values() for s in of_customer]
    return StatementTotals(
        len(every),
        sum((s.amount for s in every), Decimal()),
        sum((s.paid for s in every), Decimal()),
    )


def encode(body: Any) -> bytes:
    """JSON with Decimal as a number and a date as ISO text (``plain_json``)."""
    return json.dumps(body, default=plain_json, separators=(",", ":")).encode()


def decode(response: httpx.Response) -> Any:
    """The ``data`` of a success envelope, with money parsed as Decimal."""
    if response.status_code != 200:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:500]}"
        )
    return json.loads(response.content, parse_float=Decimal)["data"]


# --- the benchmark against one running server ----------------------------------------------


def create_customers(client: httpx.Client, customers: Sequence[CustomerRow]) -> None:
    for start in range(0, len(customers), CUSTOMER_BATCH):
        batch = customers[start : start + CUSTOMER_BATCH]
        result = decode(client.post("/customers/bulk", content=encode({"customers": batch})))
        if result["failed"]:
            raise RuntimeError(f"customer bulk failed: {result['errors'][:3]}")


def push_pass(name: str, client: httpx.Client, bodies: Sequence[bytes], rss: PeakRss) -> PassResult:
    """Push every batch in order, one request at a time, timing each."""
    rss.reset()
    latencies_ms: list[float] = []
    ledger: Counter[str] = Counter()
    statements: Counter[str] = Counter()
    started = time.perf_counter()
    for body in bodies:
        sent = time.perf_counter()
        response = client.post("/ledgers/bulk", content=body)
        latencies_ms.append((time.perf_counter() - sent) * 1000)
        result = decode(response)
        ledger.update(counts(result["ledger_entries"]))
        statements.update(counts(result["statements"]))
    seconds = time.perf_counter() - started
    entries = ledger["total"]
    return PassResult(name, entries, seconds, latencies_ms, rss.peak_bytes(), ledger, statements)


def check_statements(
    client: httpx.Client, expected: dict[str, list[Statement]], customers: Sequence[str]
) -> StatementCheck:
    """The stored count against the expected one, and a sample of customers in full.

    Paging through every statement would cost more than the pushes (the list is sorted
    server-side on every page); a customer's statements fit in one cheap request.
    """
    started = time.perf_counter()
    problems = []
    stored_count = decode(client.get("/statements", params={"per_page": 1}))["total"]
    expected_count = sum(len(of_customer) for of_customer in expected.values())
    if stored_count != expected_count:
        problems.append(f"{stored_count:,} statements stored, expected {expected_count:,}")
    sample = customers[::SAMPLE_EVERY]
    mismatched = []
    for customer in sample:
        if stored_statements_of(client, customer) != expected.get(customer, []):
            mismatched.append(customer)
    if mismatched:
        problems.append(f"statements differ for {len(mismatched)} sampled customers: {mismatched}")
    sampled_statements = sum(len(expected.get(customer, [])) for customer in sample)
    seconds = time.perf_counter() - started
    return StatementCheck(
        stored_count, expected_count, len(sample), sampled_statements, seconds, problems
    )


def stored_statements_of(client: httpx.Client, customer: str) -> list[Statement]:
    """One customer's statements, oldest first."""
    statements: list[Statement] = []
    page, pages = 1, 1
    while page <= pages:
        params: dict[str, str | int] = {
            "customer_external_id": customer,
            "page": page,
            "per_page": STATEMENT_PAGE,
        }
        data = decode(client.get("/statements", params=params))
        statements.extend(
            Statement(s["period_start"], s["amount"], s["paid_amount"]) for s in data["statements"]
        )
        pages, page = data["total_pages"], page + 1
    return sorted(statements, key=lambda s: s.period_start)


def ledger_problems(entry_count: int, first: PassResult, again: PassResult) -> list[str]:
    n = entry_count
    problems = []
    wanted = {
        "first push": (first.ledger, {"total": n, "created": n, "updated": 0, "failed": 0}),
        "re-push": (again.ledger, {"total": n, "created": 0, "updated": n, "failed": 0}),
    }
    for name, (got, want) in wanted.items():
        for key, value in want.items():
            if got[key] != value:
                problems.append(f"{name}: ledger_entries.{key} = {got[key]}, expected {value}")
    # Identical values re-pushed: aggregation must find every statement unchanged.
    for key in ("created", "updated", "failed"):
        if again.statements[key]:
            problems.append(f"re-push: statements.{key} = {again.statements[key]}, expected 0")
    return problems


def bench_backend(
    label: str, database_url: str, workload: Workload, expected: dict[str, list[Statement]]
) -> BackendResult:
    loop_ms = python_loop_ms()
    company = bootstrap_company(database_url)
    bodies = [
        encode({"ledger_entries": workload.entries[start : start + LEDGER_BATCH]})
        for start in range(0, len(workload.entries), LEDGER_BATCH)
    ]
    customers = [customer["external_id"] for customer in workload.customers]
    with (
        sandbox_process(database_url) as server,
        PeakRss(server.pid) as rss,
        _client(server, company["live_key"]) as client,
    ):
        started = time.perf_counter()
        create_customers(client, workload.customers)
        setup_seconds = time.perf_counter() - started
        first = push_pass("first push", client, bodies, rss)
        again = push_pass("re-push", client, bodies, rss)
        check = check_statements(client, expected, customers)
    problems = ledger_problems(len(workload.entries), first, again) + check.problems
    return BackendResult(label, loop_ms, setup_seconds, [first, again], check, problems)


def _client(server: SandboxProcess, key: str) -> httpx.Client:
    """One client, so one connection pool: every request reuses a kept-alive connection."""
    headers = {"X-Api-Key": key, "Content-Type": "application/json"}
    return httpx.Client(base_url=server.api, headers=headers, timeout=httpx.Timeout(300.0))


# --- printing -----------------------------------------------------------------------------


def _describe(summary: StatementTotals) -> str:
    return f"{summary.count:,} statements, amount {summary.amount:,}, paid {summary.paid:,}"


def print_backend(result: BackendResult, *, with_targets: bool) -> None:
    print(f"\n{result.label}")
    print(
        f"  setup: customers created in {result.setup_seconds:.1f} s; machine speed: "
        f"reference Python loop {result.loop_ms:.0f} ms (lower is faster)"
    )
    header = f"  {'pass':<11}{'entries/s':>11}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}"
    print(f"{header}{'peak RSS MiB':>14}{'seconds':>9}")
    for one in result.passes:
        p95 = one.latency_percentile(0.95)
        line = (
            f"  {one.name:<11}{one.entries_per_second:>11,.0f}"
            f"{one.latency_percentile(0.50):>10.1f}{p95:>10.1f}{max(one.latencies_ms):>10.1f}"
            f"{one.peak_rss_bytes / 2**20:>14.1f}{one.seconds:>9.1f}"
        )
        if with_targets:
            line += "   " + _target_verdict(one.entries_per_second, p95)
        print(line)
    for one in result.passes:
        ledger, statements = one.ledger, one.statements
        print(
            f"  {one.name}: ledger_entries created {ledger['created']:,} updated "
            f"{ledger['updated']:,} skipped {ledger['skipped']:,} failed {ledger['failed']:,}; "
            f"statements created {statements['created']:,} updated {statements['updated']:,} "
            f"skipped {statements['skipped']:,} failed {statements['failed']:,}"
        )
    check = result.check
    print(
        f"  check ({check.seconds:.1f} s): {check.stored_count:,} statements stored "
        f"(expected {check.expected_count:,}); {check.sampled_customers:,} sampled customers, "
        f"{check.sampled_statements:,} statements compared on amount and paid_amount: "
        f"{'OK' if not result.problems else 'WRONG'}"
    )
    for problem in result.problems:
        print(f"    {problem}")


def _target_verdict(entries_per_second: float, p95_ms: float) -> str:
    throughput_met = entries_per_second >= POSTGRES_MIN_ENTRIES_PER_SECOND
    latency_met = p95_ms < POSTGRES_MAX_P95_MS
    return (
        f"target >= {POSTGRES_MIN_ENTRIES_PER_SECOND:,}/s: {met(throughput_met)}"
        f", p95 < {POSTGRES_MAX_P95_MS:.0f} ms: {met(latency_met)}"
    )


# --- entry point --------------------------------------------------------------------------


def run(quick: bool) -> bool:
    """Run on SQLite, then on Postgres when reachable; True when every check passed."""
    entry_count, customer_count = QUICK_SIZE if quick else FULL_SIZE
    workload = generate_workload(entry_count, customer_count)
    print(
        f"sandbox_push: {entry_count:,} ledger entries for {customer_count:,} customers "
        f"(seed {SEED}), batches of {LEDGER_BATCH}, pushed twice over HTTP"
    )
    expected = expected_statements(workload.entries)
    print(f"  expected: {_describe(totals(expected))}")
    results = []
    with sqlite_database() as url:
        results.append(bench_backend("SQLite (temporary file)", url, workload, expected))
        print_backend(results[-1], with_targets=False)
    base_url = postgres_base_url()
    shown = shown_url(base_url)
    reason = postgres_unreachable(base_url)
    if reason is not None:
        print(f"\nPostgres ({shown}): skipped, unreachable: {reason}")
    else:
        with postgres_schema(base_url) as url:
            results.append(
                bench_backend(f"Postgres ({shown}, fresh schema)", url, workload, expected)
            )
            print_backend(results[-1], with_targets=True)
    return all(not result.problems for result in results)
