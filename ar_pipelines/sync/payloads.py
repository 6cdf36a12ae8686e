"""Records as the push sends them: one canonical frame per kind, a stable hash of each
record's payload, and the JSON a dead letter keeps.

The hash is of the values AR receives, written canonically (money with two places,
dates as ``YYYY-MM-DD``, each field length-prefixed so that no two records share a
text), with BLAKE2b: the same in every process and on every machine, unlike
Python's ``hash``. Canonical texts are built per distinct value of each column, so
a million records cost one pass of string joins and one of hashing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ar_pipelines.normalize import schemas
from ar_pipelines.warehouse.tables import MONEY_COLUMNS

Kind = Literal["customers", "ledger_entries"]
ObjectArray = npt.NDArray[np.object_]
CENT = Decimal("0.01")
# Part of every hash: a change to the canonical form changes the name, and with it
# every hash, so that records are sent again rather than wrongly taken as unchanged.
HASH_PERSON = b"ar-sync-v1"
MISSING = "-"  # a field left unset; a present field is "<length>:<text>"


@dataclass(frozen=True)
class KindSpec:
    kind: Kind
    columns: tuple[str, ...]  # the normalized columns, which are the record's fields
    money: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()


KINDS: dict[str, KindSpec] = {
    "customers": KindSpec("customers", tuple(schemas.customers.columns)),
    "ledger_entries": KindSpec(
        "ledger_entries",
        tuple(schemas.ledger_entries.columns),
        money=MONEY_COLUMNS,
        dates=("transaction_date",),
    ),
}


def kind_spec(kind: str) -> KindSpec:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, not {kind!r}") from None


def _per_distinct(values: ObjectArray, convert: Callable[[Any], Any]) -> ObjectArray:
    """``convert`` once per distinct present value; missing values (None, NaN, NaT)
    become ``None``."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    converted = np.empty(len(uniques) + 1, dtype=object)
    converted[:-1] = [convert(value) for value in np.asarray(uniques, dtype=object)]
    converted[-1] = None
    result: ObjectArray = converted[codes]
    return result


def _iso_date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def _money(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValueError(f"money must be Decimal, not {type(value).__name__}: {value!r}")
    return Decimal(value)


def records_frame(records: pd.DataFrame, spec: KindSpec) -> pd.DataFrame:
    """The kind's columns of ``records`` (others, such as ``practice_id``, are dropped),
    ``object`` with ``None`` for unset fields, dates as ISO text; the last record of
    each ``external_id`` wins, as it would on the server."""
    missing = [name for name in spec.columns if name not in records.columns]
    if missing:
        raise ValueError(f"{spec.kind} records lack column(s): {', '.join(missing)}")
    columns: dict[str, ObjectArray] = {}
    for name in spec.columns:
        values: ObjectArray = records[name].to_numpy(dtype=object)
        if name in spec.dates:
            columns[name] = _per_distinct(values, _iso_date)
        elif name in spec.money:
            columns[name] = _per_distinct(values, _money)
        elif pd.api.types.infer_dtype(values, skipna=False) == "string":
            columns[name] = values  # all text, none missing: nothing to convert
        else:
            columns[name] = _per_distinct(values, lambda text: text)
    frame = pd.DataFrame({name: pd.Series(v, dtype=object) for name, v in columns.items()})
    if frame["external_id"].isna().any():
        raise ValueError(f"every {spec.kind} record needs an external_id to be tracked")
    return frame.drop_duplicates("external_id", keep="last").reset_index(drop=True)


def _fields(values: ObjectArray, text: Callable[[Any], str]) -> ObjectArray:
    """Each value's canonical field, ``"<length>:<text>"``, or ``MISSING``; written once
    per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = [text(value) for value in np.asarray(uniques, dtype=object)]
    fields = np.array([f"{len(t)}:{t}" for t in texts] + [MISSING], dtype=object)
    result: ObjectArray = fields[codes]
    return result


def _money_text(value: Decimal) -> str:
    return format(value.quantize(CENT), "f")


def payload_hashes(frame: pd.DataFrame, spec: KindSpec) -> ObjectArray:
    """One hex digest per record of a ``records_frame``: equal exactly when AR would
    receive the same values."""
    columns = [
        _fields(frame[name].to_numpy(dtype=object), _money_text if name in spec.money else str)
        for name in spec.columns
    ]
    digests = [
        hashlib.blake2b("".join(fields).encode(), digest_size=16, person=HASH_PERSON).hexdigest()
        for fields in zip(*columns, strict=True)
    ]
    return np.array(digests, dtype=object)


def payload_json(frame: pd.DataFrame) -> ObjectArray:
    """Each record as the JSON text a dead letter keeps: unset fields left out, money
    as exact decimal strings."""
    texts = [
        json.dumps(
            {key: value for key, value in record.items() if value is not None},
            default=str,
            sort_keys=True,
            ensure_ascii=False,
        )
        for record in frame.to_dict("records")
    ]
    return np.array(texts, dtype=object)


def frame_from_payloads(payloads: pd.Series, spec: KindSpec) -> pd.DataFrame:
    """Records kept as JSON by ``payload_json``, as a ``records_frame``."""
    rows = [json.loads(text) for text in payloads]
    frame = pd.DataFrame(
        {name: pd.Series([row.get(name) for row in rows], dtype=object) for name in spec.columns}
    )
    for name in spec.money:
        frame[name] = _per_distinct(frame[name].to_numpy(dtype=object), Decimal)
    return records_frame(frame, spec)
