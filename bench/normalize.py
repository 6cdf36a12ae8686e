"""Generate a Sikka-shaped source on SQLite, then extract and normalize it, at two sizes.

Each step runs in a process of its own, so that each process's peak RSS is its own:
generation (timed), then extraction and normalization together (streamed chunk by
chunk, as a pipeline run does; extraction and normalization are timed apart). The
second size is three times the first: a streaming run's peak memory must not grow
with it. Checks: rows in = ledger entries + quarantined, and every defect the
generator planted is in the quarantine under the reason it must have.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.machine import python_loop_ms
from bench.steps import run_step
from bench.targets import met

TARGET_ROWS_PER_SECOND = 200_000
TARGET_PEAK_MIB = 1_536
DEFECT_RATE = 0.01
SEED = 20_241_121
MONTHS = 24
PATIENTS = 2_500  # per practice; 20 practices give about 1,000,000 transactions


@dataclass(frozen=True)
class Scale:
    """The same practices and patients at both sizes: only the months of history (so
    the transactions) triple, and memory must not follow them."""

    name: str
    practices: int
    patients: int
    months: int


FULL = (Scale("1M", 20, PATIENTS, MONTHS), Scale("3M", 20, PATIENTS, 3 * MONTHS))
QUICK = (Scale("20k", 2, 250, MONTHS), Scale("60k", 2, 250, 3 * MONTHS))


def _child(step: str, url: str, scale: Scale) -> dict[str, Any]:
    arguments = [url, str(scale.practices), str(scale.patients), str(scale.months)]
    return run_step("bench.normalize", step, *arguments)


def _peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate_step(url: str, practices: str, patients: str, months: str) -> None:
    from ar_demo.generate import generate

    summary = generate(
        url,
        practices=int(practices),
        patients=int(patients),
        months=int(months),
        seed=SEED,
        defect_rate=DEFECT_RATE,
    )
    rows = summary.rows.get("transactions", 0)
    print(json.dumps({"seconds": summary.seconds, "rows": rows, "peak_mib": _peak_mib()}))


def normalize_step(url: str, *_: str) -> None:
    from ar_demo.catalog import REFUND_PAYMENT_TYPE
    from ar_pipelines.normalize import Normalizer, PracticeSettings
    from ar_pipelines.sources.sql_reader import SqlLayout, SqlSource

    layout = SqlLayout(cursor_column="_loaded_at", key_column="_row_id")
    with SqlSource(url, layout=layout) as source:
        normalizer = Normalizer(
            settings=PracticeSettings(refund_payment_types=(REFUND_PAYMENT_TYPE,)),
            payment_types=source.payment_types(),
            patients=source.patients(),
            guarantors=source.guarantors(),
        )
        extract_seconds = normalize_seconds = 0.0
        quarantined: set[tuple[str, str, str]] = set()
        started = time.perf_counter()
        for chunk in source.transactions():
            read = time.perf_counter()
            extract_seconds += read - started
            result = normalizer.transactions(chunk)
            q = result.quarantine
            quarantined.update(
                zip(q["practice_id"], q["source_id"].fillna(""), q["reason"], strict=True)
            )
            started = time.perf_counter()
            normalize_seconds += started - read
        pq = normalizer.patient_quarantine
        quarantined.update(zip(pq["practice_id"], pq["source_id"], pq["reason"], strict=True))
        counts = normalizer.counts
        planted = _planted(url)
    missing = [p for p in planted if (p[0], p[1], p[2]) not in quarantined]
    print(
        json.dumps(
            {
                "rows": counts.rows,
                "ledger_entries": counts.ledger_entries,
                "quarantined": sum(counts.quarantined.values()),
                "by_reason": dict(counts.quarantined),
                "customers": len(normalizer.customers),
                "planted": len(planted),
                "planted_missing": missing[:5],
                "planted_missing_count": len(missing),
                "extract_seconds": extract_seconds,
                "normalize_seconds": normalize_seconds,
                "peak_mib": _peak_mib(),
            }
        )
    )


def _planted(url: str) -> list[tuple[str, str, str]]:
    """(practice_id, source id, expected reason) of every planted defect."""
    from ar_demo.defects import EXPECTED_REASON, Defect
    from ar_demo.generate import demo_defects
    from ar_pipelines.sources.schema import source_engine, transactions

    engine = source_engine(url)
    planted: list[tuple[str, str, str]] = []
    with engine.connect() as connection:
        rows = connection.execute(select(demo_defects)).all()
        # Only the planted rows' numbers: a map of every row would cost more memory
        # than the run being measured.
        ids = [int(r.source_id) for r in rows if r.table_name == "transactions"]
        numbers: dict[int, str | None] = {}
        for start in range(0, len(ids), 1_000):
            row_ids = transactions.c._row_id
            wanted = row_ids.in_(ids[start : start + 1_000])
            query = select(row_ids, transactions.c.transaction_sr_no).where(wanted)
            numbers.update(
                (int(row_id), number) for row_id, number in connection.execute(query).tuples()
            )
        for row in rows:
            reason = EXPECTED_REASON[Defect(row.defect)].value
            if row.table_name == "patients":
                planted.append((row.practice_id, row.source_id, reason))
            else:
                planted.append((row.practice_id, numbers[int(row.source_id)] or "", reason))
    engine.dispose()
    return planted


def _run_scale(scale: Scale, directory: Path) -> tuple[bool, float, float]:
    url = f"sqlite:///{directory / f'source_{scale.name}.db'}"
    generated = _child("generate_step", url, scale)
    result = _child("normalize_step", url, scale)
    rows = result["rows"]
    extract_rate = rows / max(result["extract_seconds"], 1e-9)
    normalize_rate = rows / max(result["normalize_seconds"], 1e-9)
    print(
        f"  {scale.name:>4}  {generated['rows']:>10,}  {generated['seconds']:>8.1f}"
        f"  {extract_rate:>12,.0f}  {normalize_rate:>14,.0f}  {result['peak_mib']:>14.0f}"
        f"  {generated['peak_mib']:>12.0f}"
    )
    conserved = rows == result["ledger_entries"] + result["quarantined"]
    all_planted = result["planted_missing_count"] == 0
    reasons = Counter(result["by_reason"])
    print(
        f"        check: {rows:,} rows = {result['ledger_entries']:,} ledger entries + "
        f"{result['quarantined']:,} quarantined ({len(reasons)} reasons); "
        f"{result['planted']:,} planted defects all quarantined under their reason: "
        f"{'OK' if conserved and all_planted else 'FAILED ' + str(result['planted_missing'])}"
    )
    return conserved and all_planted, normalize_rate, float(result["peak_mib"])


def print_header(scales: tuple[Scale, ...]) -> None:
    print(
        f"normalize: generate a Sikka-shaped source on SQLite ({scales[0].practices} practices "
        f"of {scales[0].patients:,} patients, {DEFECT_RATE:.0%} defects, seed {SEED}; "
        f"{scales[0].months} then {scales[-1].months} months), then extract (SqlSource, "
        "streamed) and normalize (Normalizer, chunk by chunk)"
    )
    print(f"  machine: reference Python loop {python_loop_ms():.0f} ms (lower is faster)")
    print("  size  transactions  gen s  extract rows/s  normalize rows/s  peak RSS MiB  (gen MiB)")


def print_targets(scales: tuple[Scale, ...], rates: list[float], peaks: list[float]) -> None:
    slowest = min(rates)
    print(
        f"  normalization: {slowest:,.0f} rows/s at the slower size "
        f"(target >= {TARGET_ROWS_PER_SECOND:,}: {met(slowest >= TARGET_ROWS_PER_SECOND)})"
    )
    small, large = peaks[0], peaks[-1]
    flat = large <= small * 1.25 + 50  # "not growing": within a quarter (plus noise)
    bounded = max(peaks) < TARGET_PEAK_MIB
    print(
        f"  extract + normalize peak RSS: {small:,.0f} MiB at {scales[0].name}, "
        f"{large:,.0f} MiB at {scales[-1].name} (target < {TARGET_PEAK_MIB:,} MiB: "
        f"{met(bounded)}; not growing with rows: {met(flat)})"
    )


def run(quick: bool) -> bool:
    scales = QUICK if quick else FULL
    print_header(scales)
    ok = True
    peaks: list[float] = []
    rates: list[float] = []
    with tempfile.TemporaryDirectory(prefix="ar_bench_normalize_") as directory:
        for scale in scales:
            passed, rate, peak = _run_scale(scale, Path(directory))
            ok = ok and passed
            rates.append(rate)
            peaks.append(peak)
    print_targets(scales, rates, peaks)
    return ok
