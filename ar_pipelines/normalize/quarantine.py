"""The quarantine: one row per source row that cannot become a record, with why.

Checks run in a fixed order and the first that fails gives the row its reason (``Triage``);
a row is never quarantined twice. Details and the raw JSON are built for quarantined rows
only, which are the exception, so their cost does not grow with the clean rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _quote

import numpy as np
import numpy.typing as npt
import pandas as pd

from ar_pipelines.normalize.reasons import Reason
from ar_pipelines.normalize.text import BoolArray, ObjectArray

QUARANTINE_COLUMNS = (
    "source",  # "transactions", "patients" or "guarantors"
    "practice_id",
    "source_id",  # transaction_sr_no, patient_id or guarantor_id, as given
    "row_number",  # 1-based position in the extract (the rows read in this run)
    "loaded_date",
    "reason",  # a Reason value
    "detail",  # what was wrong, for a person
    "raw",  # the source row as JSON text
)
REASON_CODES: tuple[Reason, ...] = tuple(Reason)

Rows = npt.NDArray[np.intp]
Describe = Callable[[Rows], Iterable[str]]


@dataclass(frozen=True)
class Verdict:
    """What a check says of a frame's rows: the ``failing`` ones fail it for ``reason``,
    and ``describe`` says why for the rows it is given."""

    reason: Reason
    failing: BoolArray
    describe: Describe


class Triage:
    """Reasons for the rows of one frame, first failing check wins."""

    def __init__(self, size: int) -> None:
        self.reason = np.full(size, -1, dtype=np.int16)
        self.detail = np.full(size, None, dtype=object)

    @property
    def clean(self) -> BoolArray:
        """Rows no check has claimed yet."""
        return self.reason < 0

    def flag(self, reason: Reason, failing: BoolArray, describe: Describe) -> None:
        """Quarantine ``failing`` rows not already quarantined; ``describe`` says why."""
        rows = np.flatnonzero(failing & self.clean)
        if len(rows):
            self.reason[rows] = REASON_CODES.index(reason)
            self.detail[rows] = list(describe(rows))

    def apply(self, verdicts: Iterable[Verdict]) -> None:
        """``flag`` each verdict, in order."""
        for verdict in verdicts:
            self.flag(verdict.reason, verdict.failing, verdict.describe)

    def part(self, rows: Rows) -> Triage:
        """The triage of the given rows only, in their order."""
        part = Triage(len(rows))
        part.reason, part.detail = self.reason[rows], self.detail[rows]
        return part

    def counts(self) -> dict[str, int]:
        codes, counts = np.unique(self.reason[self.reason >= 0], return_counts=True)
        return {REASON_CODES[c].value: int(n) for c, n in zip(codes, counts, strict=True)}


def shown(value: object) -> str:
    """A value for a detail message: quoted, invisible characters escaped."""
    return repr(value) if isinstance(value, str) else "empty"


def raw_json(frame: pd.DataFrame, rows: Rows) -> list[str]:
    """The given rows of ``frame`` as JSON objects (ASCII, so nothing hides in them).

    The same text ``json.dumps`` writes, put together from quoted pieces: source values
    are almost all text or missing, so each column is quoted in one pass with its key
    in front (``{"name": `` for the first, ``, "name": `` after), and a row is its
    pieces end to end.
    """
    columns = [
        _column_json(("{" if at == 0 else ", ") + _quote(str(name)) + ": ", frame[name], rows)
        for at, name in enumerate(frame.columns)
    ]
    if not columns:
        return ["{}"] * len(rows)
    return [text + "}" for text in map("".join, zip(*columns, strict=True))]


def _column_json(key: str, column: pd.Series, rows: Rows) -> list[str]:
    values = column.to_numpy(dtype=object)[rows]
    return [
        key + (_quote(v) if type(v) is str else "null" if v is None else _json_value(v))
        for v in values
    ]


def _json_value(value: object) -> str:
    if value is None:
        return "null"
    if type(value) is str:
        return _quote(value)
    return json.dumps(_plain(value))


def _plain(value: object) -> object:
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, float) and np.isnan(value):
        return None
    return str(value)


def quarantine_frame(
    *,
    source: str,
    frame: pd.DataFrame,
    triage: Triage,
    practice_id: ObjectArray,
    source_id: ObjectArray,
    first_row_number: int,
) -> pd.DataFrame:
    """The quarantine rows of ``frame`` under ``triage``."""
    rows = np.flatnonzero(~triage.clean)
    loaded = (
        frame["loaded_date"].to_numpy(dtype=object)[rows]
        if "loaded_date" in frame.columns
        else np.full(len(rows), None, dtype=object)
    )
    columns = {
        "source": np.full(len(rows), source, dtype=object),
        "practice_id": practice_id[rows],
        "source_id": source_id[rows],
        "row_number": (rows + first_row_number).astype(np.int64),
        "loaded_date": np.array([_plain(v) for v in loaded], dtype=object),
        "reason": np.array([REASON_CODES[c].value for c in triage.reason[rows]], dtype=object),
        "detail": triage.detail[rows],
        "raw": np.array(raw_json(frame, rows), dtype=object),
    }
    return pd.DataFrame(
        {
            name: pd.Series(values, dtype=np.int64 if name == "row_number" else object)
            for name, values in columns.items()
        }
    )


def empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame(
        {
            name: pd.Series([], dtype=np.int64 if name == "row_number" else object)
            for name in QUARANTINE_COLUMNS
        }
    )
