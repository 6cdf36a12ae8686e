"""Deterministic demo data in the tables of a landed Sikka office (``docs/sources.md``).

``generate`` fills ``practices``, ``payment_types``, ``patients``, ``guarantors``,
``transactions`` and ``practice_events`` of one office with seeded, realistic rows as
Sikka serves them (same arguments, same rows, on every database) and, when asked,
plants defects of every kind in ``Defect``. What it planted goes to ``demo_defects``, a
table of ours rather than Sikka's, so that tests and benchmarks can check that each
planted row ends in the quarantine under ``EXPECTED_REASON``.

The practices are Sikka's locations ``"1"``, ``"2"``, ... of the office; the demo's
settings bill the guarantors of every fifth practice from the second on
(``bills_guarantors``) and list ``REFUND_PAYMENT_TYPE`` as the refund type.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import Column, Connection, MetaData, String, Table, func, insert, select, text

from ar_demo.catalog import CITIES, PAYMENT_TYPES, PRACTICE_KINDS
from ar_demo.dates import day_number, history_start, last_full_month_end
from ar_demo.ledger import NONE, Ledger, concat, make_ledger
from ar_demo.patients import PracticePatients, guarantor_rows, make_patients
from ar_demo.plant import TRANSACTION_DEFECTS, Plan, plan_defects
from ar_demo.rows import (
    Context,
    Row,
    event_rows,
    payment_type_rows,
    plant_patient_defect,
    practice_rows,
    transaction_rows,
)
from ar_pipelines.sources import schema

CHUNK_ROWS = 50_000
FIRST_SR_NO = 100_001
FUTURE_DAYS = 3650  # FUTURE_DATE dates start ten years after the history ends

demo_metadata = MetaData()
demo_defects = Table(
    "demo_defects",
    demo_metadata,
    Column("office_id", String(schema.ID), primary_key=True),
    Column("practice_id", String(schema.ID), primary_key=True),
    Column("table_name", String(16), primary_key=True),  # "transactions" or "patients"
    Column("source_id", String(schema.ID), primary_key=True),  # _row_id, or patient_id
    Column("defect", String(schema.SHORT), nullable=False),  # a Defect value
)


@dataclass(frozen=True)
class GenerationSummary:
    start: date
    end: date
    rows: dict[str, int]  # per table
    defects: dict[str, int] = field(default_factory=dict)  # per Defect value planted
    seconds: float = 0.0


def generate(
    url: str,
    *,
    practices: int,
    patients: int,
    months: int,
    seed: int,
    defect_rate: float = 0.0,
    end: date | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    office_id: str = "D1000",
) -> GenerationSummary:
    """Write office ``office_id``: ``practices`` practices of ``patients`` patients each,
    with ``months`` months of transactions ending at ``end`` (default: the last full
    month before today).

    With ``defect_rate`` > 0, about that share of transactions and of patients carry one
    planted defect, every kind in turn. The office must not be in the database yet;
    other offices may be.
    """
    if practices < 1 or patients < 1 or months < 1:
        raise ValueError("practices, patients and months must be at least 1")
    if not 0 <= defect_rate < 1:
        raise ValueError("defect_rate must be at least 0 and below 1")
    started = time.perf_counter()
    end = end or last_full_month_end(datetime.now(UTC).date())
    start = history_start(end, months)
    first, last = day_number(start), day_number(end)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(practices + 1)]
    practice_ids = [str(i + 1) for i in range(practices)]
    cities = [CITIES[i % len(CITIES)] for i in range(practices)]
    guarantor_billed = [bills_guarantors(p) for p in practice_ids]
    people: list[PracticePatients] = []
    parts: list[Ledger] = []
    for i, practice_id in enumerate(practice_ids):
        people.append(
            make_patients(streams[i], office_id, practice_id, patients, cities[i], first, last)
        )
        parts.append(make_ledger(streams[i], i, people[-1], first, last))
    ledger = _in_load_order(concat(parts))
    sr_no = _serial_numbers(ledger.practice, practices)
    plan = plan_defects(
        streams[-1],
        ledger,
        rate=defect_rate,
        patient_counts=[len(p.ids) for p in people],
        guarantor_billed=guarantor_billed,
        is_guarantor=[p.is_guarantor for p in people],
    )
    patient_rows = [row for p in people for row in p.rows]
    offsets = np.cumsum([0] + [len(p.ids) for p in people])
    for (practice, patient), defect in plan.patient_defects.items():
        plant_patient_defect(patient_rows[offsets[practice] + patient], defect, patient)
    guarantor_table = [row for p in people for row in guarantor_rows(p)]

    engine = schema.source_engine(url)
    schema.create_tables(engine)
    demo_metadata.create_all(engine)
    try:
        with engine.connect() as connection:
            _prepare(connection, office_id)
            context = Context(
                office_id=office_id,
                practice_ids=practice_ids,
                patient_ids=[p.ids for p in people],
                guarantor_ids=[p.guarantor_ids for p in people],
                sr_no=sr_no,
                first_row_id=_next_row_id(connection),
                last_day=last,
                future_day=last + FUTURE_DAYS,
            )
            names = [
                f"{c.name} {PRACTICE_KINDS[i % len(PRACTICE_KINDS)]}" for i, c in enumerate(cities)
            ]
            planted = _planted_rows(ledger, plan, context)
            events = event_rows(ledger, plan, context)
            batches: list[tuple[Table, int, Callable[[int, int], list[Row]]]] = [
                (
                    schema.practices,
                    practices,
                    _slicer(practice_rows(office_id, practice_ids, names, cities)),
                ),
                (
                    schema.payment_types,
                    practices * len(PAYMENT_TYPES),
                    _slicer(payment_type_rows(office_id, practice_ids)),
                ),
                (schema.patients, len(patient_rows), _slicer(patient_rows)),
                (schema.guarantors, len(guarantor_table), _slicer(guarantor_table)),
                (
                    schema.transactions,
                    len(ledger),
                    lambda lo, hi: transaction_rows(ledger, plan, context, lo, hi),
                ),
                (schema.practice_events, len(events), _slicer(events)),
                (demo_defects, len(planted), _slicer(planted)),
            ]
            _write(connection, batches, on_progress)
    finally:
        engine.dispose()
    counts = Counter(str(row["defect"]) for row in planted)
    rows = {table.name: count for table, count, _ in batches}
    rows[schema.transactions.name] -= int(plan.deleted.sum())
    return GenerationSummary(
        start=start,
        end=end,
        rows=rows,
        defects={d: counts[d] for d in sorted(counts)},
        seconds=time.perf_counter() - started,
    )


def bills_guarantors(practice_id: str) -> bool:
    """Whether the demo's settings bill a practice's guarantors rather than its patients."""
    return int(practice_id) % 5 == 2


def _in_load_order(ledger: Ledger) -> Ledger:
    """Rows sorted by when they were loaded, so row ids (and serial numbers) follow it."""
    order = np.lexsort((np.arange(len(ledger)), ledger.practice, ledger.loaded))
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    sorted_ledger = ledger.take(order)
    links = sorted_ledger.link
    sorted_ledger.link = np.where(links >= 0, position[np.maximum(links, 0)], NONE)
    return sorted_ledger


def _serial_numbers(practice: np.ndarray, practices: int) -> np.ndarray:
    """Each practice numbers its transactions from FIRST_SR_NO in load order."""
    serial = np.zeros(len(practice), dtype=np.int64)
    for p in range(practices):
        rows = np.flatnonzero(practice == p)
        serial[rows] = FIRST_SR_NO + np.arange(len(rows))
    return serial


def _planted_rows(ledger: Ledger, plan: Plan, context: Context) -> list[Row]:
    rows: list[Row] = [
        {
            "office_id": context.office_id,
            "practice_id": context.practice_ids[ledger.practice[i]],
            "table_name": "transactions",
            "source_id": str(context.first_row_id + i),
            "defect": TRANSACTION_DEFECTS[plan.defect[i]].value,
        }
        for i in np.flatnonzero(plan.defect != NONE)
    ]
    rows += [
        {
            "office_id": context.office_id,
            "practice_id": context.practice_ids[practice],
            "table_name": "patients",
            "source_id": context.patient_ids[practice][patient],
            "defect": defect.value,
        }
        for (practice, patient), defect in sorted(plan.patient_defects.items())
    ]
    return rows


def _slicer(rows: list[Row]) -> Callable[[int, int], list[Row]]:
    return lambda lo, hi: rows[lo:hi]


def _prepare(connection: Connection, office_id: str) -> None:
    if connection.dialect.name == "sqlite":
        # A bulk load that a crash may lose is fine: the generator can run again.
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        connection.exec_driver_sql("PRAGMA synchronous=OFF")
    column = schema.practices.c.office_id
    found = connection.execute(select(column).where(column == office_id).limit(1)).first()
    connection.commit()
    if found is not None:
        raise ValueError(f"the source already holds office {office_id}")


def _next_row_id(connection: Connection) -> int:
    last = connection.scalar(select(func.max(schema.transactions.c._row_id)))
    connection.commit()
    return int(last or 0) + 1


def _chunks(total: int) -> Iterator[tuple[int, int]]:
    for lo in range(0, total, CHUNK_ROWS):
        yield lo, min(total, lo + CHUNK_ROWS)


def _write(
    connection: Connection,
    batches: list[tuple[Table, int, Callable[[int, int], list[Row]]]],
    on_progress: Callable[[int, int], None] | None,
) -> None:
    """Each table in chunks, one transaction per chunk."""
    total = sum(count for _, count, _ in batches)
    done = 0
    for table, count, rows in batches:
        for lo, hi in _chunks(count):
            chunk = rows(lo, hi)
            if chunk:
                connection.execute(insert(table), chunk)
                connection.commit()
            done += hi - lo
            if on_progress is not None:
                on_progress(done, total)
    if connection.dialect.name == "postgresql":
        # Row ids were given explicitly: move the sequence past them for later inserts.
        connection.execute(
            text(
                "select setval(pg_get_serial_sequence('transactions', '_row_id'), "
                "coalesce((select max(_row_id) from transactions), 0) + 1, false)"
            )
        )
        connection.commit()
