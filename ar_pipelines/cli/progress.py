"""What ``ar-pipelines demo`` shows of its runs while they go.

``RunProgress`` is a logging handler on a Dagster logger of the demo's runs
(``run_logger``): Dagster hands it every record of a run, each carrying its Dagster
event, if any, in ``dagster_meta``. It prints a line on the terminal as each step ends:
the step, its seconds, and the counts its materializations and checks hold (a failed
step: FAILED, and its innermost cause). And it writes the run's log to ``runs.log`` in
plain text: the run's and its steps' starts and ends, retries, materializations and check
results, and every message at INFO and above. What the steps print (dbt's output) goes
to ``runs.log`` too, through ``PlainText``, without the terminal's colour codes.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

import dagster as dg

from ar_pipelines.causes import cause_line
from ar_pipelines.defs.common import (
    AR_STATEMENTS,
    NORMALIZED_CUSTOMERS,
    NORMALIZED_LEDGER,
    PUSHED_CUSTOMERS,
    PUSHED_LEDGER,
    QUARANTINE,
    RAW_PATIENTS,
    RAW_TRANSACTIONS,
    RECONCILIATION,
)

LOGGER = "demo_progress"  # the logger's name in the runs' config
# A terminal's escape sequences: CSI ("\x1b[32m", "\x1b[0m", "\x1b[2K") and the two-byte ones.
ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")
_EVENT = dg.DagsterEventType
# The events of a run that runs.log holds whatever their level (Dagster logs them at DEBUG).
LOGGED_EVENTS = frozenset(
    {
        _EVENT.RUN_START,
        _EVENT.RUN_SUCCESS,
        _EVENT.RUN_FAILURE,
        _EVENT.RUN_CANCELED,
        _EVENT.STEP_START,
        _EVENT.STEP_SUCCESS,
        _EVENT.STEP_FAILURE,
        _EVENT.STEP_UP_FOR_RETRY,
        _EVENT.STEP_RESTARTED,
        _EVENT.STEP_SKIPPED,
        _EVENT.ASSET_MATERIALIZATION,
        _EVENT.ASSET_CHECK_EVALUATION,
    }
)
MISMATCHES = ("amount_mismatch", "paid_mismatch", "missing_in_ar", "unexpected_in_ar")
# What a step's line counts: (asset, label, the metadata summed), in the line's order. The
# metadata is the asset's materialization's and its checks'; an asset the step did not
# materialize, or a name its metadata lacks, is left out.
COUNTED: tuple[tuple[dg.AssetKey, str, tuple[str, ...]], ...] = (
    (RAW_PATIENTS, "patients", ("rows",)),
    (RAW_PATIENTS, "guarantors", ("guarantors",)),
    (RAW_TRANSACTIONS, "transactions", ("rows",)),
    (RAW_TRANSACTIONS, "deletions", ("deletions",)),
    (NORMALIZED_CUSTOMERS, "customers", ("customers",)),
    (NORMALIZED_LEDGER, "ledger entries", ("ledger_entries",)),
    (NORMALIZED_LEDGER, "transactions quarantined", ("transactions_quarantined",)),
    (QUARANTINE, "rows quarantined", ("quarantined_this_run",)),
    *(
        (pushed, label, (label,))
        for pushed in (PUSHED_CUSTOMERS, PUSHED_LEDGER)
        for label in ("sent", "created", "updated", "failed", "rejected")
    ),
    (AR_STATEMENTS, "statements read back", ("statements",)),
    (RECONCILIATION, "matched", ("matched",)),
    (RECONCILIATION, "mismatched", MISMATCHES),
)
_COUNTED_ASSETS = frozenset(asset.to_user_string() for asset, _, _ in COUNTED)


class Stream(Protocol):
    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class PlainText:
    """A text stream that writes to ``target`` what it is given without terminal escape
    sequences (colours): where what the steps print goes."""

    def __init__(self, target: Stream) -> None:
        self.target = target

    def write(self, text: str, /) -> int:
        self.target.write(plain(text))
        return len(text)

    def flush(self) -> None:
        self.target.flush()


def plain(text: str) -> str:
    return ANSI_ESCAPE.sub("", text)


@dataclass
class _Step:
    """What a running step did so far: when it started, what it materialized and checked."""

    started: float
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)  # by asset
    models: int = 0  # assets COUNTED does not name: dbt's models
    tests: list[bool] = field(default_factory=list)  # their checks: dbt's tests
    failed_checks: list[str] = field(default_factory=list)  # the other assets' failed checks

    def materialized(self, asset: str, metadata: dict[str, Any]) -> None:
        if asset in _COUNTED_ASSETS:
            self.metadata.setdefault(asset, {}).update(metadata)
        else:
            self.models += 1

    def checked(self, asset: str, check: str, passed: bool, metadata: dict[str, Any]) -> None:
        if asset not in _COUNTED_ASSETS:
            self.tests.append(passed)
            return
        # The asset's counts are its materialization's; the check adds only what it lacks.
        counts = self.metadata.setdefault(asset, {})
        for name, value in metadata.items():
            counts.setdefault(name, value)
        if not passed:
            self.failed_checks.append(check)

    def counts(self) -> str:
        parts = []
        for asset, label, names in COUNTED:
            metadata = self.metadata.get(asset.to_user_string(), {})
            values = [metadata[name] for name in names if isinstance(metadata.get(name), int)]
            if values:
                parts.append(f"{label} {sum(values):,}")
        if self.models:
            parts.append(f"models built {self.models:,}")
        if self.tests:
            parts.append(f"tests passed {sum(self.tests):,} of {len(self.tests):,}")
        parts += [f"check {check} FAILED" for check in self.failed_checks]
        return ", ".join(parts)


class RunProgress(logging.Handler):
    """The records of the demo's runs: a line on ``terminal`` per step as it ends, and
    the run's log in plain text on ``log``."""

    def __init__(self, terminal: Stream, log: Stream) -> None:
        super().__init__(logging.DEBUG)
        self.terminal = terminal
        self.log = log
        self._practices: dict[str, str] = {}  # by run id
        self._steps: dict[tuple[str, str], _Step] = {}  # by run id and step key

    def start_run(self, practice_id: str) -> str:
        """A new run's id, for ``practice_id``, with its header written to the log."""
        run_id = str(uuid.uuid4())
        self._practices[run_id] = practice_id
        now = time.strftime("%Y-%m-%d %H:%M:%S %z")
        self._write_log(f"\n=== practice {practice_id}, run {run_id}, {now} ===\n")
        return run_id

    def emit(self, record: logging.LogRecord) -> None:
        try:
            meta = getattr(record, "dagster_meta", None)
            if meta is None:
                return
            event = meta.get("dagster_event")
            practice = self._practices.get(meta.get("run_id") or "", "")
            self._log_record(record, meta, practice, event)
            if event is not None and meta.get("step_key"):
                self._follow(record, meta["run_id"], meta["step_key"], practice, event)
        except Exception:
            self.handleError(record)

    def _log_record(
        self, record: logging.LogRecord, meta: dict[str, Any], practice: str, event: Any
    ) -> None:
        kind = None if event is None else event.event_type
        if kind not in LOGGED_EVENTS and record.levelno < logging.INFO:
            return
        moment = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
        label = record.levelname if kind is None else kind.name
        if kind is not None and record.levelno >= logging.WARNING:
            label = f"{label} {record.levelname}"
        text = str(meta.get("orig_message", record.getMessage()))
        if kind == _EVENT.ASSET_MATERIALIZATION:
            text += _numbers(_materialization(event)[1])
        elif kind == _EVENT.ASSET_CHECK_EVALUATION:
            text += _numbers(_check(event)[3])
        error = _error(event)
        if error is not None:
            text += "\n" + error.to_string().rstrip()
        where = meta.get("step_key") or "run"
        self._write_log(f"{moment}  {practice}  {where}  {label}  {text}\n")

    def _follow(
        self, record: logging.LogRecord, run_id: str, step_key: str, practice: str, event: Any
    ) -> None:
        """A step's events: its start, what it materialized and checked, its end."""
        kind = event.event_type
        step = self._steps.setdefault((run_id, step_key), _Step(record.created))
        if kind == _EVENT.ASSET_MATERIALIZATION:
            step.materialized(*_materialization(event))
        elif kind == _EVENT.ASSET_CHECK_EVALUATION:
            step.checked(*_check(event))
        elif kind in (_EVENT.STEP_SUCCESS, _EVENT.STEP_FAILURE, _EVENT.STEP_SKIPPED):
            del self._steps[(run_id, step_key)]
            seconds = record.created - step.started
            if kind == _EVENT.STEP_SUCCESS:
                what = step.counts()
            elif kind == _EVENT.STEP_SKIPPED:
                what = "skipped"
            else:
                error = _error(event)
                what = "FAILED" + ("" if error is None else f": {cause_line(error)}")
            self._say(practice, step_key, seconds, what)
        elif kind == _EVENT.STEP_UP_FOR_RETRY:
            error = _error(event)
            why = "" if error is None else f": {cause_line(error)}"
            self._say(practice, step_key, record.created - step.started, f"to be retried{why}")

    def _say(self, practice: str, step_key: str, seconds: float, what: str) -> None:
        line = f"  {practice:<6}{step_key:<20} {seconds:6.1f} s  {what}".rstrip()
        self.terminal.write(line + "\n")
        self.terminal.flush()

    def _write_log(self, text: str) -> None:
        self.log.write(plain(text))
        self.log.flush()


def run_logger(progress: RunProgress) -> dg.LoggerDefinition:
    """A Dagster logger handing every record of a run to ``progress``: named ``LOGGER``
    among a job's loggers, and in its run config's ``loggers``."""

    def build(_context: dg.InitLoggerContext) -> logging.Logger:
        # Dagster's own events are logged at DEBUG: the logger takes every level.
        logger = logging.Logger(f"ar_pipelines.{LOGGER}", logging.DEBUG)
        logger.addHandler(progress)
        return logger

    return dg.LoggerDefinition(
        build, description="A line per step as it ends, and the run's log in plain text."
    )


def _materialization(event: Any) -> tuple[str, dict[str, Any]]:
    materialization = event.event_specific_data.materialization
    return materialization.asset_key.to_user_string(), _values(materialization.metadata)


def _check(event: Any) -> tuple[str, str, bool, dict[str, Any]]:
    evaluation = event.event_specific_data
    return (
        evaluation.asset_key.to_user_string(),
        evaluation.check_name,
        bool(evaluation.passed),
        _values(evaluation.metadata),
    )


def _values(metadata: Any) -> dict[str, Any]:
    return {name: getattr(value, "value", value) for name, value in (metadata or {}).items()}


def _numbers(metadata: dict[str, Any]) -> str:
    """The metadata's numbers and yes/no values, for a line of the log."""
    shown = [f"{k}={v}" for k, v in metadata.items() if isinstance(v, bool | int | float)]
    return ("  " + " ".join(shown)) if shown else ""


def _error(event: Any) -> Any:
    data = None if event is None else event.event_specific_data
    return getattr(data, "error", None)
