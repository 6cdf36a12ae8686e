"""What the warehouse remembers of earlier pushes, and how each outcome is recorded.

``push.state`` holds, per record, the hash of the payload last sent and how it
ended; a record is unchanged only when its hash is the one that last *landed*.
``push.dead_letter`` holds every record that must go again whatever the next run
reads from the source: refused ones (failed, rejected) and ones never answered for
(unsent), each with its payload.

Per slice the dead letters are written first, then the state, then the landed
records leave the dead letter, each step its own transaction. A process stopped
between steps leaves nothing lost: a dead letter whose record then landed is
recognised as superseded (its state landed after it failed) and dropped.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import numpy as np
import pandas as pd

from ar_pipelines.client import PushReport, RecordIssue
from ar_pipelines.sync.payloads import KindSpec, ObjectArray, payload_json
from ar_pipelines.warehouse import DEAD_LETTER, PUSH_STATE, TOUCHED_CUSTOMERS, Warehouse
from ar_pipelines.warehouse.tables import PRACTICE_ID

LANDED = ("created", "updated")
STATE_COLUMNS = ["external_id", "payload_hash", "last_result", "pushed_at", "customer_external_id"]
CUSTOMER = "customer_external_id"
# Past this many records a push reads the kind's whole state rather than looking each up.
STATE_LOOKUP_LIMIT = 20_000
DEAD_LETTER_COLUMNS = ["external_id", "payload", "attempts", "first_failed_at", "last_failed_at"]


def looked_up(values: pd.Series, keys: pd.Series) -> pd.Series:
    """``values`` (indexed by unique keys) for each of ``keys``, missing where absent; in
    the order and with the index of ``keys``."""
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index)


def read_state(
    warehouse: Warehouse,
    practice_id: str,
    spec: KindSpec,
    external_ids: Collection[str] | None = None,
) -> pd.DataFrame:
    """The state of every record of the kind; with ``external_ids``, of those records
    only, looked up without reading the practice's whole state (a night sends a few
    thousand of a million), unless they are so many that one read of it all is cheaper."""
    if external_ids is None or len(external_ids) > STATE_LOOKUP_LIMIT:
        return warehouse.read(
            PUSH_STATE, practice_id=practice_id, columns=STATE_COLUMNS, where={"kind": spec.kind}
        )
    return warehouse.read_in(
        PUSH_STATE,
        practice_id=practice_id,
        column="external_id",
        values=external_ids,
        columns=STATE_COLUMNS,
        where={"kind": spec.kind},
    )


def read_dead_letters(warehouse: Warehouse, practice_id: str, spec: KindSpec) -> pd.DataFrame:
    """Every dead letter of the kind, superseded ones included (``drop_superseded``)."""
    return warehouse.read(
        DEAD_LETTER, practice_id=practice_id, columns=DEAD_LETTER_COLUMNS, where={"kind": spec.kind}
    )


def drop_superseded(
    warehouse: Warehouse, practice_id: str, spec: KindSpec, dead: pd.DataFrame, state: pd.DataFrame
) -> pd.DataFrame:
    """The dead letters still owed a retry (``state`` holds at least theirs); superseded
    ones, whose record landed after they failed, are deleted on the way."""
    if dead.empty:
        return dead
    landed_at = state.loc[state["last_result"].isin(LANDED)].set_index("external_id")["pushed_at"]
    landed_after = looked_up(landed_at, dead["external_id"]) > dead["last_failed_at"]
    if landed_after.any():
        warehouse.delete(
            DEAD_LETTER,
            practice_id=practice_id,
            column="external_id",
            values=dead.loc[landed_after, "external_id"].tolist(),
            where={"kind": spec.kind},
        )
    return dead.loc[~landed_after].reset_index(drop=True)


def dead_letter_size(warehouse: Warehouse, practice_id: str, spec: KindSpec) -> int:
    waiting = warehouse.read(
        DEAD_LETTER, practice_id=practice_id, columns=["external_id"], where={"kind": spec.kind}
    )
    return len(waiting)


def outcome_results(
    report: PushReport, size: int, landed_before: np.ndarray
) -> tuple[ObjectArray, ObjectArray]:
    """Per record of a slice: its ``last_result`` and the message that goes with it.

    The server counts created and updated per request, not per record; when one slice
    holds both, a record counts as updated if it had landed before, as far as this
    warehouse knows.
    """
    results = np.full(size, "", dtype=object)
    messages = np.full(size, None, dtype=object)
    named = np.zeros(size, dtype=bool)
    buckets: tuple[tuple[str, list[RecordIssue]], ...] = (
        ("unsent", report.unsent),
        ("unsent", report.skipped),  # never expected (records are unique): send again
        ("rejected", report.rejected),
        ("failed", report.failed),
    )
    for result, issues in buckets:
        for issue in issues:
            results[issue.index] = result
            messages[issue.index] = issue.reason
            named[issue.index] = True
    landed = ~named
    if report.updated == 0:
        results[landed] = "created"
    elif report.created == 0:
        results[landed] = "updated"
    else:
        results[landed] = np.where(landed_before[landed], "updated", "created")
    return results, messages


def record_outcome(
    warehouse: Warehouse,
    *,
    practice_id: str,
    spec: KindSpec,
    records: pd.DataFrame,
    hashes: ObjectArray,
    results: ObjectArray,
    messages: ObjectArray,
    dead: pd.DataFrame,
    now: datetime,
) -> None:
    """Write one slice's outcome: dead letters, then state, then landed records out of
    the dead letter (see the module's docstring for why in that order)."""
    ids = records["external_id"].to_numpy(dtype=object)
    owed = np.isin(results, ("failed", "rejected", "unsent"))
    if owed.any():
        warehouse.upsert(
            DEAD_LETTER,
            _dead_letters(practice_id, spec, records, owed, results, messages, dead, now),
        )
    state = pd.DataFrame(
        {
            PRACTICE_ID: practice_id,
            "kind": spec.kind,
            "external_id": pd.Series(ids, dtype=object),
            "payload_hash": pd.Series(hashes, dtype=object),
            "last_result": pd.Series(results, dtype=object),
            "message": pd.Series(messages, dtype=object),
            "pushed_at": now,
            CUSTOMER: _customers(records),
        }
    )
    warehouse.upsert(PUSH_STATE, state)
    landed = ~owed
    was_dead = landed & np.isin(ids, dead["external_id"].to_numpy(dtype=object))
    if was_dead.any():
        warehouse.delete(
            DEAD_LETTER,
            practice_id=practice_id,
            column="external_id",
            values=ids[was_dead].tolist(),
            where={"kind": spec.kind},
        )


def note_touched(
    warehouse: Warehouse,
    *,
    practice_id: str,
    records: pd.DataFrame,
    state: pd.DataFrame,
    now: datetime,
) -> int:
    """Before ledger entries are sent, note the customers whose statements in AR they
    may change: each entry's customer now and the one it was last sent with (an entry
    moved between customers changes both). Noted first, so that a push that stops
    half-way leaves no customer unverified. Returns how many customers."""
    if CUSTOMER not in records or records.empty:
        return 0
    previous = looked_up(state.set_index("external_id")[CUSTOMER], records["external_id"])
    customers = pd.concat([records[CUSTOMER], previous]).dropna().drop_duplicates()
    touched = pd.DataFrame(
        {
            PRACTICE_ID: practice_id,
            CUSTOMER: pd.Series(customers.to_numpy(dtype=object), dtype=object),
            "touched_at": now,
        }
    )
    warehouse.upsert(TOUCHED_CUSTOMERS, touched)
    return len(touched)


def _customers(records: pd.DataFrame) -> pd.Series:
    """Each ledger entry's customer; ``None`` for a customer record."""
    if CUSTOMER in records:
        return pd.Series(records[CUSTOMER].to_numpy(dtype=object), dtype=object)
    return pd.Series([None] * len(records), dtype=object)


def _dead_letters(
    practice_id: str,
    spec: KindSpec,
    records: pd.DataFrame,
    owed: np.ndarray,
    results: ObjectArray,
    messages: ObjectArray,
    dead: pd.DataFrame,
    now: datetime,
) -> pd.DataFrame:
    """Dead letter rows for the ``owed`` records: refused ones count an attempt; unsent
    ones were not (surely) answered, so their count stays."""
    owed_records = records.loc[owed].reset_index(drop=True)
    ids = owed_records["external_id"]
    earlier = dead.set_index("external_id")
    attempts = looked_up(earlier["attempts"], ids).fillna(0).astype("int64")
    refused = pd.Series(results[owed] != "unsent")
    first_failed = looked_up(earlier["first_failed_at"], ids)
    return pd.DataFrame(
        {
            PRACTICE_ID: practice_id,
            "kind": spec.kind,
            "external_id": ids,
            "payload": pd.Series(payload_json(owed_records), dtype=object),
            "reason": pd.Series(messages[owed], dtype=object),
            "attempts": attempts + refused.astype("int64"),
            "first_failed_at": first_failed.where(first_failed.notna(), now),
            "last_failed_at": now,
        }
    )
