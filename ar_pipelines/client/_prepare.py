"""Before sending: type-check every record, keep the last of each ``external_id``, write
each record's JSON once, and order the records (ledger entries by customer)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from pydantic import ValidationError

from ar_pipelines._collector import collector_paused
from ar_pipelines.client.records import Record, plain_fields
from ar_pipelines.client.reports import RecordIssue

R = TypeVar("R", bound=Record)


class Item(NamedTuple):
    """One record ready to send: its place in the caller's input, its ``external_id``
    and its JSON text (bytes hold no references, so a large push costs the garbage
    collector nothing)."""

    input_index: int
    external_id: str | None
    body: bytes


@dataclass
class Prepared:
    items: list[Item]
    rejected: list[RecordIssue]
    skipped: list[RecordIssue]


def _reason(err: ValidationError) -> str:
    parts = []
    for problem in err.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in problem["loc"])
        parts.append(f"{where}: {problem['msg']}" if where else problem["msg"])
    return "; ".join(parts)


def prepare(
    records: Iterable[R | Mapping[str, Any]],
    model: type[R],
    *,
    order: Callable[[Mapping[str, Any]], str] | None = None,
) -> Prepared:
    """Type-check every record, keep the last of each ``external_id``, and sort them by
    ``order`` (a key computed from each record's checked values).

    Each record's JSON is written as soon as it is checked and nothing else of it is
    kept, and the cyclic garbage collector waits until the end: checking allocates a
    few containers per record, which set off full collections that walk everything
    the process holds (the caller's records included) again and again, for nothing,
    since checking makes no cycles. On a large push that cost as much as the checking.
    """
    with collector_paused():
        return _prepare(records, model, order)


def _prepare(
    records: Iterable[R | Mapping[str, Any]],
    model: type[R],
    order: Callable[[Mapping[str, Any]], str] | None,
) -> Prepared:
    items: list[Item] = []
    keys: list[str] = []
    rejected: list[RecordIssue] = []
    fields = plain_fields(model)
    check = fields.validator.validate_python if fields else None
    write = fields.serializer.to_json if fields else None
    for index, record in enumerate(records):
        try:
            if isinstance(record, model):
                values: Mapping[str, Any] = record.__dict__
                body = record.json_bytes()
            elif check is not None and write is not None:
                values = check(record)
                body = write(values, exclude_none=True)
            else:
                valid = model.model_validate(record)
                values, body = valid.__dict__, valid.json_bytes()
        except ValidationError as err:
            raw_id = record.get("external_id") if isinstance(record, Mapping) else None
            external_id = raw_id if isinstance(raw_id, str) else None
            rejected.append(RecordIssue(index, external_id, f"invalid record: {_reason(err)}"))
            continue
        items.append(Item(index, values.get("external_id"), body))
        if order is not None:
            keys.append(order(values))
    items, keys, skipped = _drop_superseded(items, keys)
    if order is not None:
        ranked = sorted(range(len(items)), key=keys.__getitem__)  # stable: input order ties
        items = [items[position] for position in ranked]
    return Prepared(items, rejected, skipped)


def _drop_superseded(
    items: list[Item], keys: list[str]
) -> tuple[list[Item], list[str], list[RecordIssue]]:
    """Keep the last record of each ``external_id``; the earlier ones are skipped."""
    last = {item.external_id: item.input_index for item in items if item.external_id is not None}
    if len(last) == sum(item.external_id is not None for item in items):
        return items, keys, []  # no repeats: the usual case, and the cheap one
    kept_items: list[Item] = []
    kept_keys: list[str] = []
    skipped: list[RecordIssue] = []
    for position, item in enumerate(items):
        latest = last.get(item.external_id) if item.external_id is not None else None
        if latest is not None and latest != item.input_index:
            reason = (
                f"superseded by record {latest} with the same external_id "
                "(the last occurrence wins)"
            )
            skipped.append(RecordIssue(item.input_index, item.external_id, reason))
            continue
        kept_items.append(item)
        if keys:
            kept_keys.append(keys[position])
    return kept_items, kept_keys, skipped
