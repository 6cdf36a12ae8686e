"""``push_changes``: send AR only what changed since it last landed, and remember the
outcome of every record.

Upserts are idempotent by ``external_id``, so sending a record twice is harmless and
losing one is not: whatever has not surely landed is sent again next run (it stays
changed in ``push.state`` and waits in ``push.dead_letter``). Records go in slices,
and each slice's outcome is in the warehouse before the next is sent, so a failure
late in a large push loses nothing that landed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ar_pipelines.client import ARClient, Progress, PushIncompleteError, PushReport, RecordIssue
from ar_pipelines.clock import utc_now
from ar_pipelines.normalize import schemas
from ar_pipelines.sync.payloads import (
    Kind,
    KindSpec,
    ObjectArray,
    frame_from_payloads,
    kind_spec,
    payload_hashes,
    records_frame,
)
from ar_pipelines.sync.report import SyncCounts, SyncIncompleteError, SyncReport, merge_reports
from ar_pipelines.sync.state import (
    LANDED,
    dead_letter_size,
    drop_superseded,
    looked_up,
    note_touched,
    outcome_results,
    read_dead_letters,
    read_state,
    record_outcome,
)
from ar_pipelines.warehouse import CUSTOMERS, LEDGER_ENTRIES, Warehouse

DEFAULT_SLICE_SIZE = 50_000
CUSTOMER_COLUMNS = tuple(schemas.customers.columns)
LEDGER_COLUMNS = tuple(schemas.ledger_entries.columns)
# The ``loaded_at`` of the last ledger entry a completed push sent (``push.cursors``).
PUSHED_THROUGH = "ledger_entries_pushed_through"
ProgressCallback = Callable[[Progress], None]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Plan:
    """The records to send, in order, with their hashes and whether each had landed."""

    records: pd.DataFrame
    hashes: ObjectArray
    landed_before: BoolArray
    considered: int
    from_dead_letter: int


def plan_push(
    current: pd.DataFrame,
    hashes: ObjectArray,
    state: pd.DataFrame,
    dead: pd.DataFrame,
    spec: KindSpec,
    *,
    full: bool,
) -> Plan:
    """This run's new or changed records (all with ``full``), then the dead letters this
    run does not carry a newer version of."""
    previous = state.set_index("external_id")
    ids = current["external_id"]
    landed = looked_up(previous["last_result"], ids).isin(LANDED).to_numpy(dtype=bool)
    same = looked_up(previous["payload_hash"], ids).to_numpy(dtype=object) == hashes
    dead_ids = dead["external_id"]
    owed = ids.isin(dead_ids).to_numpy(dtype=bool)
    send = np.ones(len(current), dtype=bool) if full else ~(same & landed) | owed
    retry = frame_from_payloads(dead.loc[~dead_ids.isin(ids), "payload"], spec)
    retry_hashes = payload_hashes(retry, spec)
    retry_landed = looked_up(previous["last_result"], retry["external_id"]).isin(LANDED)
    records = pd.concat([current.loc[send], retry], ignore_index=True)
    return Plan(
        records=records,
        hashes=np.concatenate([hashes[send], retry_hashes]),
        landed_before=np.concatenate([landed[send], retry_landed.to_numpy(dtype=bool)]),
        considered=len(current) + len(retry),
        from_dead_letter=int(owed[send].sum()) + len(retry),
    )


def push_changes(
    client: ARClient,
    warehouse: Warehouse,
    *,
    practice_id: str,
    kind: Kind,
    records: pd.DataFrame,
    full: bool = False,
    on_progress: ProgressCallback | None = None,
    slice_size: int = DEFAULT_SLICE_SIZE,
) -> SyncReport:
    """Push the new and changed ``records`` of one practice (every one with ``full``)
    and every dead letter of this kind, and record each outcome in the warehouse.

    ``records`` is shaped like the normalizer's ``customers`` or ``ledger_entries``
    (``None`` for a field left unset; other columns are ignored). Raises
    ``SyncIncompleteError`` (with the report) when the push had to stop; what landed
    before is recorded, and the rest goes again next run.
    """
    if slice_size < 1:
        raise ValueError("slice_size must be at least 1")
    spec = kind_spec(kind)
    current = records_frame(records, spec)
    dead = read_dead_letters(warehouse, practice_id, spec)
    # A full push sends every record: its plan needs the whole state in any case.
    wanted = None if full else [*current["external_id"], *dead["external_id"]]
    state = read_state(warehouse, practice_id, spec, wanted)
    dead = drop_superseded(warehouse, practice_id, spec, dead, state)
    plan = plan_push(current, payload_hashes(current, spec), state, dead, spec, full=full)
    total = len(plan.records)
    report = SyncReport(
        kind=spec.kind,
        practice_id=practice_id,
        counts=SyncCounts(
            considered=plan.considered,
            unchanged=plan.considered - total,
            sent=total,
            retried_from_dead_letter=plan.from_dead_letter,
        ),
    )
    send = client.customers.bulk_upsert if spec.kind == "customers" else client.ledgers.bulk_upsert
    for start in range(0, total, slice_size):
        end = min(start + slice_size, total)
        part = plan.records.iloc[start:end].reset_index(drop=True)
        progress = _offset_progress(on_progress, start, total, report.push)
        if spec.kind == "ledger_entries":
            note_touched(
                warehouse, practice_id=practice_id, records=part, state=state, now=utc_now()
            )
        stopped: PushIncompleteError | None = None
        try:
            outcome = send(_record_dicts(part, spec), on_progress=progress)
        except PushIncompleteError as err:
            outcome, stopped = err.report, err
        _settle(warehouse, report, plan, spec, start, part, outcome, dead)
        if stopped is not None:
            _give_up(warehouse, report, plan, spec, end, dead, stopped)
            report.dead_letter_size = dead_letter_size(warehouse, practice_id, spec)
            counts = report.counts
            raise SyncIncompleteError(
                f"{counts.unsent} of {total} {spec.kind} of practice {practice_id} were not "
                f"sent ({counts.created + counts.updated} landed); they go again next run: "
                f"{stopped}",
                report,
            ) from stopped
    report.dead_letter_size = dead_letter_size(warehouse, practice_id, spec)
    return report


def push_customers(
    client: ARClient, warehouse: Warehouse, *, practice_id: str, full: bool = False
) -> SyncReport:
    """Push the practice's new and changed customers (every one with ``full``)."""
    records = warehouse.read(CUSTOMERS, practice_id=practice_id, columns=CUSTOMER_COLUMNS)
    return push_changes(
        client, warehouse, practice_id=practice_id, kind="customers", records=records, full=full
    )


def push_ledger_entries(
    client: ARClient, warehouse: Warehouse, *, practice_id: str, full: bool = False
) -> SyncReport:
    """Push the practice's new, changed and voided ledger entries: those loaded since the
    last push that completed (every one with ``full``), so a push that stopped half-way
    is picked up where it was. The mark moves only when the push completed."""
    since = None if full else warehouse.get_cursor(practice_id, PUSHED_THROUGH)
    records = warehouse.read_after(
        LEDGER_ENTRIES,
        practice_id=practice_id,
        column="loaded_at",
        after=since,
        columns=("loaded_at", *LEDGER_COLUMNS),
    )
    report = push_changes(
        client,
        warehouse,
        practice_id=practice_id,
        kind="ledger_entries",
        records=records,
        full=full,
    )
    if len(records):
        warehouse.set_cursor(practice_id, PUSHED_THROUGH, records["loaded_at"].max())
    return report


def _record_dicts(part: pd.DataFrame, spec: KindSpec) -> list[dict[str, Any]]:
    """The records as the client takes them; an unset field is ``None``, which the
    client leaves out of the payload."""
    names = list(spec.columns)
    columns = [part[name].to_numpy(dtype=object) for name in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _offset_progress(
    on_progress: ProgressCallback | None, start: int, total: int, before: PushReport | None
) -> ProgressCallback | None:
    """Progress of one slice as progress of the whole push."""
    if on_progress is None:
        return None
    requests = before.requests if before is not None else 0
    retries = before.retry_count if before is not None else 0

    def report(progress: Progress) -> None:
        on_progress(
            Progress(
                start + progress.done,
                total,
                requests + progress.requests,
                retries + progress.retries,
            )
        )

    return report


def _settle(
    warehouse: Warehouse,
    report: SyncReport,
    plan: Plan,
    spec: KindSpec,
    start: int,
    part: pd.DataFrame,
    outcome: PushReport,
    dead: pd.DataFrame,
) -> None:
    """Record one slice's outcome in the warehouse and in the report."""
    end = start + len(part)
    results, messages = outcome_results(outcome, len(part), plan.landed_before[start:end])
    record_outcome(
        warehouse,
        practice_id=report.practice_id,
        spec=spec,
        records=part,
        hashes=plan.hashes[start:end],
        results=results,
        messages=messages,
        dead=dead,
        now=utc_now(),
    )
    report.push = merge_reports(report.push, outcome, start)
    counts = report.counts
    counts.created += outcome.created
    counts.updated += outcome.updated
    counts.failed += int((results == "failed").sum())
    counts.rejected += int((results == "rejected").sum())
    counts.unsent += int((results == "unsent").sum())
    push = report.push
    report.issues = sorted([*push.failed, *push.rejected, *push.unsent], key=lambda i: i.index)


def _give_up(
    warehouse: Warehouse,
    report: SyncReport,
    plan: Plan,
    spec: KindSpec,
    start: int,
    dead: pd.DataFrame,
    stopped: PushIncompleteError,
) -> None:
    """Record the records after a stopped slice as unsent: they were never tried."""
    rest = plan.records.iloc[start:].reset_index(drop=True)
    if rest.empty:
        return
    reason = f"not sent: the push stopped after an earlier request failed: {stopped}"
    unsent = PushReport(kind=spec.kind, total=len(rest))
    unsent.unsent.extend(
        RecordIssue(index, external_id, reason)
        for index, external_id in enumerate(rest["external_id"])
    )
    _settle(warehouse, report, plan, spec, start, rest, unsent, dead)
