"""Concurrent ledger pushes end exactly as the same pushes one after another.

One request is one transaction, and two concurrent pushes for the same customer give
the result of the two in sequence (``docs/contract.md#one-request-one-transaction``).
Threads push overlapping batches at once (entries moving between customers in a cycle,
new external_ids created by several threads at the same moment) and the final
statements and allocations are compared with a sequential replay on a fresh
company and with the pure reference. On Postgres the pushes race on row locks;
on SQLite they must queue behind the write lock. Either way no push may fail.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from graphlib import CycleError, TopologicalSorter
from typing import Any

import httpx
import pytest

from ar_pipelines.statements.reference import LedgerEntry
from tests.ar_sandbox.ledger_api import (
    LedgerApi,
    ServerView,
    assert_view_matches,
    entry,
    ledger_of,
    money,
    read_view,
)
from tests.sandbox_server import RunningSandbox

CUSTOMERS = tuple(f"PT-{c}" for c in "ABCDEFGHIJ")
THREADS = 8
ROUNDS = 3
PAYMENT_TYPES = ("patient_payment", "insurance_payment")


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def server(request: pytest.FixtureRequest) -> RunningSandbox:
    name = "sandbox" if request.param == "sqlite" else "pg_sandbox"
    running: RunningSandbox = request.getfixturevalue(name)
    return running


def new_company(server: RunningSandbox) -> dict[str, Any]:
    company = server.bootstrap()
    with server.client(company["live_key"]) as client:
        LedgerApi(client).create_customers(CUSTOMERS)
    return company


def push_all_at_once(
    server: RunningSandbox, key: str, pushes: Sequence[Sequence[LedgerEntry]]
) -> list[dict[str, Any]]:
    """Push ``pushes`` from ``THREADS`` threads released together; every answer, in order."""
    answers: list[dict[str, Any] | None] = [None] * len(pushes)
    failures: list[BaseException] = []
    barrier = threading.Barrier(THREADS)
    guard = threading.Lock()
    in_flight = [0, 0]  # now, most ever

    def worker(lane: int) -> None:
        with server.client(key) as client:
            api = LedgerApi(client)
            barrier.wait(timeout=30)
            for index in range(lane, len(pushes), THREADS):
                with guard:
                    in_flight[0] += 1
                    in_flight[1] = max(in_flight)
                try:
                    answers[index] = api.push(pushes[index])
                except BaseException as failure:  # reported below, with the rest
                    failures.append(failure)
                with guard:
                    in_flight[0] -= 1

    threads = [threading.Thread(target=worker, args=(lane,)) for lane in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a push never answered"
    assert not failures, failures  # a 5xx or a deadlock surfaces here as a non-200
    assert all(a is not None for a in answers)
    assert in_flight[1] > 1, "the pushes never overlapped: nothing was tested"
    return [a for a in answers if a is not None]


def push_in_sequence(
    server: RunningSandbox,
    initial: Sequence[LedgerEntry],
    pushes: Sequence[Sequence[LedgerEntry]],
) -> ServerView:
    company = new_company(server)
    with server.client(company["live_key"]) as client:
        api = LedgerApi(client)
        api.push(initial)
        for batch in pushes:
            api.push(batch)
        return read_view(api)


def comparable(view: ServerView) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Statements and allocations without the ids that differ between companies."""
    return view.statement_tuples(), list(view.allocations())


def initial_ledger() -> list[LedgerEntry]:
    """Every customer with a charge in each of three months and one payment."""
    rows = []
    for n, customer in enumerate(CUSTOMERS):
        for month in range(1, 4):
            rows.append(
                entry(
                    f"S-{customer}-{month}",
                    customer,
                    f"2026-0{month}-1{n}",
                    "charge",
                    f"{100 + 7 * n + month}.{n}{month}",
                )
            )
        rows.append(entry(f"P-{customer}", customer, "2026-02-14", "patient_payment", "-133.33"))
    return rows


def check_answers(
    answers: Sequence[dict[str, Any]],
    pushes: Sequence[Sequence[LedgerEntry]],
    new_ids: set[str],
) -> None:
    """Each push upserts its entries; each new external_id is created exactly once."""
    for answer, batch in zip(answers, pushes, strict=True):
        ledger, statements = answer["ledger_entries"], answer["statements"]
        unique = len({e.external_id for e in batch})
        assert (ledger["total"], ledger["skipped"], ledger["failed"]) == (len(batch), 0, 0)
        assert ledger["created"] + ledger["updated"] == unique
        assert statements["failed"] == 0
        assert statements["total"] == (
            statements["created"] + statements["updated"] + statements["skipped"]
        )
    assert sum(a["ledger_entries"]["created"] for a in answers) == len(new_ids)


def test_concurrent_overlapping_pushes_end_as_the_same_pushes_in_sequence(
    server: RunningSandbox,
) -> None:
    rng = random.Random(20260501)
    initial = initial_ledger()
    by_id = {e.external_id: e for e in initial}
    # Final values: moves around a cycle of customers (every push locks several),
    # amount changes, voids, and new entries that several threads create at once.
    targets: list[LedgerEntry] = []
    for n, customer in enumerate(CUSTOMERS):
        other = CUSTOMERS[(n + 1) % len(CUSTOMERS)]
        targets.append(replace(by_id[f"S-{customer}-1"], customer=other))
        targets.append(replace(by_id[f"S-{customer}-2"], amount=money("0.00")))
        targets.append(replace(by_id[f"S-{customer}-3"], amount=money("1.01")))
        targets.append(replace(by_id[f"P-{customer}"], customer=other, amount=money("-250.05")))
        for k in range(3):
            targets.append(
                entry(
                    f"N-{customer}-{k}", customer, f"2026-0{k + 3}-{n + 1:02d}", "charge", "33.34"
                )
            )
        targets.append(entry(f"NP-{customer}", other, "2026-01-01", PAYMENT_TYPES[n % 2], "-66.67"))
    pushes = [rng.sample(targets, rng.randint(4, 10)) for _ in range(THREADS * ROUNDS)]
    missing = [t for t in targets if all(t not in batch for batch in pushes)]
    pushes[0].extend(missing)

    company = new_company(server)
    with server.client(company["live_key"]) as client:
        api = LedgerApi(client)
        api.push(initial)
        answers = push_all_at_once(server, company["live_key"], pushes)
        concurrent = read_view(api)

    new_ids = {t.external_id for t in targets} - set(by_id)
    check_answers(answers, pushes, new_ids)
    final = {**by_id, **{t.external_id: t for t in targets}}
    assert_view_matches(concurrent, final.values())
    assert comparable(concurrent) == comparable(push_in_sequence(server, initial, pushes))


def serial_order(
    pushes: Sequence[Sequence[LedgerEntry]], final: dict[str, LedgerEntry]
) -> list[int]:
    """An order of the pushes in which each entry's last writer is the one that won.

    The push whose value an entry ended with must come after every other push of
    that entry; if these constraints have a cycle, no serial order explains the
    result and the pushes were not isolated.
    """
    graph: dict[int, set[int]] = {p: set() for p in range(len(pushes))}
    for external_id, value in final.items():
        writers = [
            p for p, batch in enumerate(pushes) if any(e.external_id == external_id for e in batch)
        ]
        winners = [p for p in writers if value in pushes[p]]
        assert len(winners) == 1, (external_id, value, winners)
        graph[winners[0]] |= set(writers) - set(winners)
    return list(TopologicalSorter(graph).static_order())


def test_concurrent_conflicting_pushes_land_as_in_some_serial_order(
    server: RunningSandbox,
) -> None:
    rng = random.Random(7)
    initial = initial_ledger()
    contested = [e.external_id for e in initial if e.customer == CUSTOMERS[0]]
    contested += [f"NEW-{k}" for k in range(3)]  # created concurrently, on any customer

    def value(push: int, external_id: str) -> LedgerEntry:
        # Every push writes its own amounts, so the push an entry ended with is known.
        kind = rng.choice(["charge", "other_debit", "patient_payment", "insurance_payment"])
        cents = 10_000 + 100 * push + rng.randrange(100)
        amount = Decimal(cents if kind in {"charge", "other_debit"} else -cents) / 100
        return LedgerEntry(
            external_id,
            rng.choice(CUSTOMERS),
            date(2026, rng.randint(1, 4), rng.randint(1, 28)),
            kind,
            amount.quantize(Decimal("0.01")),
        )

    company = new_company(server)
    replayed: list[list[LedgerEntry]] = []
    with server.client(company["live_key"]) as client:
        api = LedgerApi(client)
        api.push(initial)
        for wave in range(ROUNDS):
            # One push per thread, all released at once, all writing the same few
            # entries to customers of their own choosing: moves race with moves.
            pushes = [
                [value(wave * THREADS + p, x) for x in rng.sample(contested, rng.randint(2, 4))]
                for p in range(THREADS)
            ]
            before = {r["external_id"] for r in api.ledger()}
            answers = push_all_at_once(server, company["live_key"], pushes)
            concurrent = read_view(api)
            ledger = ledger_of(concurrent)
            touched = {e.external_id for batch in pushes for e in batch}
            check_answers(answers, pushes, touched - before)
            order = serial_order(pushes, {x: ledger[x] for x in touched})
            # Every customer an entry left or joined was re-aggregated.
            assert_view_matches(concurrent, ledger.values())
            replayed += [pushes[p] for p in order]

    in_sequence = push_in_sequence(server, initial, replayed)
    assert comparable(concurrent) == comparable(in_sequence)


def test_the_isolation_check_refuses_two_pushes_that_each_won_one_entry() -> None:
    """A torn pair of pushes (each won one of the entries both wrote) has no serial order."""
    x1 = entry("X", "PT-A", "2026-01-01", "charge", "1.00")
    y1 = entry("Y", "PT-A", "2026-01-01", "charge", "1.00")
    x2, y2 = replace(x1, amount=money("2.00")), replace(y1, amount=money("2.00"))
    assert serial_order([[x1, y1], [x2, y2]], {"X": x2, "Y": y2}) == [0, 1]
    with pytest.raises(CycleError):
        serial_order([[x1, y1], [x2, y2]], {"X": x1, "Y": y2})


def test_on_sqlite_a_read_answers_while_a_writer_holds_the_lock(
    sandbox: RunningSandbox, live: httpx.Client
) -> None:
    path = sandbox.database.engine.url.database
    assert path is not None
    writer = sqlite3.connect(path, timeout=1, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # what a push holds while it writes
    try:
        statements = live.get("/statements", params={"customer_external_id": "PT-A"}, timeout=5)
        customers = live.get("/customers", timeout=5)
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    assert statements.status_code == 200, statements.text
    assert statements.json()["data"]["total"] == 0
    assert customers.status_code == 200, customers.text
