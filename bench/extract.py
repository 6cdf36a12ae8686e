"""Extraction from a generated office of about 1,000,000 transactions: through Sikka's
REST API (the look-alike server of the tests, in a process of its own, serving the
generated database in 5,000-row pages), and from the landed database on SQLite and on
Postgres, each read by both of ``SqlSource``'s readers: the columnar one (ADBC, the
default) and the SQLAlchemy one (the fallback). Each read runs in a fresh process, so its
peak RSS is its own.

Checks: every read gives the same number of transaction rows, the generated count.
Target: the columnar reader reads SQLite at ``SQLITE_TARGET`` rows a second or more
(shown as met or MISSED, beside the SQLAlchemy reader's figure from the same run).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from ar_pipelines.local_sandbox import free_port
from bench.databases import postgres_base_url, postgres_schema, postgres_unreachable
from bench.machine import python_loop_ms
from bench.sandbox_process import PeakRss
from bench.steps import run_step
from bench.targets import met

SEED = 20_241_121
FULL = (20, 2_500, 24)  # practices, patients each, months: about 1,000,000 transactions
QUICK = (2, 200, 12)
PAGE_SIZE = 5_000
SQLITE_TARGET = 150_000  # rows a second, the columnar reader on SQLite
READERS = ("columnar", "sqlalchemy")


def _peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate_step(url: str, practices: str, patients: str, months: str) -> None:
    from ar_demo.generate import generate

    summary = generate(
        url, practices=int(practices), patients=int(patients), months=int(months), seed=SEED
    )
    print(json.dumps({"rows": summary.rows.get("transactions", 0), "seconds": summary.seconds}))


def sql_step(url: str, reader: str) -> None:
    from ar_pipelines.sources.sql_reader import SqlLayout, SqlSource

    layout = SqlLayout(cursor_column="_loaded_at", key_column="_row_id")
    started = time.perf_counter()
    with SqlSource(url, layout=layout, reader=reader) as source:  # type: ignore[arg-type]
        rows = sum(len(chunk) for chunk in source.transactions())
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_mib": _peak_mib()}))


def rest_step(base_url: str) -> None:
    from ar_pipelines.sources.rest_reader import SikkaRestSource
    from tests.ar_pipelines.sources.sikka_server import Credentials

    credentials = Credentials()
    started = time.perf_counter()
    with SikkaRestSource(
        base_url=base_url,
        office_id=credentials.office_id,
        secret_key=credentials.secret_key,
        app_id=credentials.app_id,
        app_key=credentials.app_key,
        page_size=PAGE_SIZE,
    ) as source:
        rows = sum(len(chunk) for chunk in source.transactions())
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_mib": _peak_mib()}))


def serve_step(url: str, port: str) -> None:
    """The look-alike Sikka server over ``url``, until killed."""
    import uvicorn

    from tests.ar_pipelines.sources.sikka_server import Credentials, create_sikka_app

    app = create_sikka_app(url, credentials=Credentials(), page_limit=PAGE_SIZE)
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning")


@contextmanager
def _sikka_server(url: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    code = "import sys; from bench.extract import serve_step; serve_step(*sys.argv[1:])"
    process = subprocess.Popen([sys.executable, "-c", code, url, str(port)])
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base_url + "/v4/practices", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the Sikka look-alike did not start") from None
                time.sleep(0.2)
        yield base_url, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _rate(result: dict[str, Any]) -> float:
    return float(result["rows"]) / max(float(result["seconds"]), 1e-9)


def _line(name: str, result: dict[str, Any], extra: str = "") -> None:
    rate = _rate(result)
    print(
        f"  {name:<26} {result['rows']:>10,} rows  {result['seconds']:>7.1f} s"
        f"  {rate:>10,.0f} rows/s  reader peak RSS {result['peak_mib']:>6,.0f} MiB{extra}"
    )


def run(quick: bool) -> bool:
    practices, patients, months = QUICK if quick else FULL
    print(
        f"extract: one generated office ({practices} practices of {patients:,} patients, "
        f"{months} months, seed {SEED}), read whole: REST in {PAGE_SIZE:,}-row pages, SQL streamed"
    )
    print(f"  machine: reference Python loop {python_loop_ms():.0f} ms (lower is faster)")
    counts: list[int] = []
    with tempfile.TemporaryDirectory(prefix="ar_bench_extract_") as directory:
        sqlite_url = f"sqlite:///{Path(directory) / 'source.db'}"
        generated = run_step(
            "bench.extract", "generate_step", sqlite_url, str(practices), str(patients), str(months)
        )
        print(f"  generated {generated['rows']:,} transactions in {generated['seconds']:.1f} s")
        counts.append(int(generated["rows"]))
        with _sikka_server(sqlite_url) as (base_url, server), PeakRss(server.pid) as server_rss:
            rest = run_step("bench.extract", "rest_step", base_url)
            server_mib = server_rss.peak_bytes() / 2**20
        _line("REST (look-alike)", rest, f" (server {server_mib:,.0f} MiB)")
        counts.append(int(rest["rows"]))
        sqlite = {
            reader: run_step("bench.extract", "sql_step", sqlite_url, reader) for reader in READERS
        }
        for reader, result in sqlite.items():
            _line(f"SQL on SQLite, {reader}", result)
            counts.append(int(result["rows"]))
        columnar, rows_at_once = _rate(sqlite["columnar"]), _rate(sqlite["sqlalchemy"])
        verdict = "not judged at this scale" if quick else met(columnar >= SQLITE_TARGET)
        print(
            f"  target: SQLite read by the columnar reader at >= {SQLITE_TARGET:,} rows/s: "
            f"{columnar:,.0f} rows/s, {columnar / max(rows_at_once, 1e-9):.1f}x the SQLAlchemy "
            f"reader's {rows_at_once:,.0f}: {verdict}"
        )
    base = postgres_base_url()
    unreachable = postgres_unreachable(base)
    if unreachable:
        print(f"  SQL on Postgres: skipped ({unreachable})")
    else:
        with postgres_schema(base) as url:
            run_step(
                "bench.extract", "generate_step", url, str(practices), str(patients), str(months)
            )
            postgres = {
                reader: run_step("bench.extract", "sql_step", url, reader) for reader in READERS
            }
        for reader, result in postgres.items():
            _line(f"SQL on Postgres, {reader}", result)
            counts.append(int(result["rows"]))
    same = len(set(counts)) == 1
    print(
        f"  check: every read gave the {counts[0]:,} generated transactions: "
        f"{'OK' if same else 'FAILED ' + str(counts)}"
    )
    return same


if __name__ == "__main__":  # pragma: no cover - run through ``python -m bench extract``
    sys.exit(0 if run("--quick" in sys.argv) else 1)
