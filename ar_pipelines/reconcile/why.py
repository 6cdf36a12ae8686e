"""Why a statement differs: the ledger entries and allocations behind each mismatch.

A reconciliation says which statements differ; ``explain`` says why. For each statement
that did not match (the largest differences first, at most ``limit`` of them) it reads
AR's side (the customer's ledger entries, and the statement with its entries when AR
has it) and compares it with the local side (the entries the pipeline pushed,
``normalized.ledger_entries``, and the dbt mart ``payment_allocations``). Each finding
is one row, naming its cause (``Cause``):

- ``entry_missing_in_ar``: a local entry of the statement's month that AR does not have;
- ``entry_differs``: an entry both sides have, with a different ``field`` (``amount``,
  ``date`` or ``type``), both values given;
- ``entry_extra_in_ar``: an entry in AR under the practice's prefix (``<practice_id>-``)
  that the local ledger does not have;
- ``same_entries_different_allocation``: the entries agree, yet AR allocates a payment
  to the statement otherwise (``field`` ``allocated_amount``, per payment);
- ``same_entries_different_statement``: the entries and allocations agree, yet AR's
  statement (``field`` ``amount``, ``paid_amount`` or ``statement``) does not;
- ``statement_only_in_ar``: AR holds a statement that no entry supports.

The month's entries are compared first. When they agree and the paid amount differs,
the customer's other entries are compared (a payment, or an earlier month's amount,
moves the whole waterfall); then the statement's allocations.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from ar_pipelines.client import ARClient
from ar_pipelines.client.errors import NotFoundError
from ar_pipelines.client.models import LedgerEntry, StatementDetail
from ar_pipelines.reconcile.inputs import ZERO, to_dates, to_money
from ar_pipelines.reconcile.result import Status, money_text
from ar_pipelines.warehouse import LEDGER_ENTRIES, Warehouse

DEFAULT_LIMIT = 200
CAUSE_COLUMNS = (
    "external_invoice_id",
    "status",
    "cause",
    "entry_external_id",
    "field",
    "local_value",
    "ar_value",
)
ALLOCATION_TYPE = "payment_allocation"
ALLOCATION_PREFIX = "ALLOC-"
# The fields of an entry compared, as the rows name them, and the entry's attribute.
COMPARED_FIELDS = (("amount", "amount"), ("date", "transaction_date"), ("type", "transaction_type"))
CUSTOMER = "customer_external_id"
_IN_GROUP = 500


class Cause(StrEnum):
    """Why a statement differs; the values are what the ``cause`` column holds."""

    ENTRY_MISSING_IN_AR = "entry_missing_in_ar"
    ENTRY_DIFFERS = "entry_differs"
    ENTRY_EXTRA_IN_AR = "entry_extra_in_ar"
    SAME_ENTRIES_DIFFERENT_ALLOCATION = "same_entries_different_allocation"
    SAME_ENTRIES_DIFFERENT_STATEMENT = "same_entries_different_statement"
    STATEMENT_ONLY_IN_AR = "statement_only_in_ar"


CAUSE_MEANINGS = {
    Cause.ENTRY_MISSING_IN_AR: "A local entry AR does not have: not pushed, or deleted in AR.",
    Cause.ENTRY_DIFFERS: "An entry both sides have, with a different amount, date or type.",
    Cause.ENTRY_EXTRA_IN_AR: "An entry in AR under the practice's prefix that the local "
    "ledger does not have.",
    Cause.SAME_ENTRIES_DIFFERENT_ALLOCATION: "The entries agree, yet AR allocates payments "
    "to the statement otherwise: evidence for AR's support.",
    Cause.SAME_ENTRIES_DIFFERENT_STATEMENT: "The entries and allocations agree, yet AR's "
    "statement differs: evidence for AR's support.",
    Cause.STATEMENT_ONLY_IN_AR: "AR holds a statement that none of the entries support.",
}


class Entry(NamedTuple):
    """The fields of a ledger entry that make statements."""

    transaction_date: date
    transaction_type: str
    amount: Decimal


@dataclass(frozen=True)
class Pair:
    """One line of a drill-down: an entry (``kind`` ``entry``) or a payment's allocation
    to the statement (``kind`` ``allocation``), as each side has it (``None``: absent)."""

    kind: str
    external_id: str
    local: Entry | None
    ar: Entry | None


@dataclass(frozen=True)
class Causes:
    """The causes of one practice's mismatches.

    ``rows``: ``CAUSE_COLUMNS``, one row per differing entry and field (money as
    ``Decimal``, dates as ``date``, a missing value ``None``), statements in the order
    they were looked at. ``explained``: the statements looked at, of ``differing``;
    ``pairs``: per statement number, its entries and allocations side by side.
    """

    practice_id: str
    rows: pd.DataFrame
    explained: int
    differing: int
    limit: int
    pairs: dict[str, list[Pair]] = field(default_factory=dict)

    @property
    def capped(self) -> bool:
        """Whether statements went unexplained because of the limit."""
        return self.differing > self.explained

    def counts(self) -> dict[str, int]:
        """Rows per cause, every cause given (zero-filled)."""
        found = self.rows["cause"].value_counts()
        return {cause.value: int(found.get(cause.value, 0)) for cause in Cause}

    def by_statement(self) -> dict[str, list[str]]:
        """The distinct causes of each statement looked at, in the order found."""
        found: dict[str, list[str]] = {}
        for key, cause in zip(self.rows["external_invoice_id"], self.rows["cause"], strict=True):
            causes = found.setdefault(str(key), [])
            if cause not in causes:
                causes.append(str(cause))
        return found

    def summary(self) -> dict[str, object]:
        """JSON-safe, for run metadata."""
        return {
            "counts": self.counts(),
            "capped": self.capped,
            "explained": self.explained,
            "differing": self.differing,
            "limit": self.limit,
        }

    def csv_frame(self) -> pd.DataFrame:
        """The rows as the CSV holds them: money as two-decimal text, dates ISO, a
        missing value empty."""
        frame = self.rows.copy()
        for column in ("local_value", "ar_value"):
            frame[column] = [value_text(value) for value in frame[column]]
        frame["entry_external_id"] = frame["entry_external_id"].fillna("")
        frame["field"] = frame["field"].fillna("")
        return frame

    def write_csv(self, path: Path) -> Path:
        self.csv_frame().to_csv(path, index=False, lineterminator="\n")
        return path


def value_text(value: object) -> str:
    """A value as the CSV and the page show it."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, Decimal):
        return money_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def explain(
    client: ARClient,
    warehouse: Warehouse,
    *,
    practice_id: str,
    local_schema: str,
    differing: pd.DataFrame,
    limit: int = DEFAULT_LIMIT,
) -> Causes:
    """The causes of the statements in ``differing`` (rows of a reconciliation that did
    not match, in the order to look at them), the first ``limit`` of them."""
    if limit < 0:
        raise ValueError("limit must be at least 0")
    differing = differing[differing["status"] != Status.MATCHED]
    chosen = [
        {str(k): v for k, v in row.items()} for row in differing.head(limit).to_dict("records")
    ]
    customers = sorted({str(row[CUSTOMER]) for row in chosen if row[CUSTOMER] is not None})
    local = _local_entries(warehouse, practice_id, customers)
    allocated = _local_allocations(warehouse, local_schema, customers)
    ar_entries = {c: _ar_entries(client.ledgers.list(customer_external_id=c)) for c in customers}
    rows: list[dict[str, Any]] = []
    pairs: dict[str, list[Pair]] = {}
    for statement in chosen:
        customer = str(statement[CUSTOMER])
        ar_id = statement.get("ar_statement_id")
        detail = _statement(client, str(ar_id)) if ar_id else None
        found, pairs[str(statement["key"])] = _explain_one(
            statement,
            practice_id=practice_id,
            local=local.get(customer, {}),
            ar=ar_entries.get(customer, {}),
            local_allocated=allocated.get(str(statement["key"]), {}),
            detail=detail,
        )
        rows.extend(found)
    frame = pd.DataFrame(rows, columns=list(CAUSE_COLUMNS), dtype=object)
    return Causes(practice_id, frame, len(chosen), len(differing), limit, pairs)


def _statement(client: ARClient, statement_id: str) -> StatementDetail | None:
    """AR's statement with its entries; ``None`` when AR no longer has it (deleted since
    the read-back, when its month stopped qualifying)."""
    try:
        return client.statements.get(statement_id, include_entries=True)
    except NotFoundError:
        return None


def _explain_one(
    statement: dict[str, Any],
    *,
    practice_id: str,
    local: dict[str, Entry],
    ar: dict[str, Entry],
    local_allocated: dict[str, Decimal],
    detail: StatementDetail | None,
) -> tuple[list[dict[str, Any]], list[Pair]]:
    key, status = str(statement["key"]), str(statement["status"])
    month = statement["period_start"]
    in_month = {i for i, e in local.items() if _same_month(e, month)}
    in_month |= {i for i, e in ar.items() if _same_month(e, month)}
    prefix = f"{practice_id}-"
    found = list(_entry_causes(sorted(in_month), local, ar, prefix))
    shown = sorted(in_month)
    paid_differs = statement.get("paid_difference") not in (None, ZERO)
    if not found and paid_differs:
        # A payment or another month's amount moves the waterfall of every statement.
        others = sorted((set(local) | set(ar)) - in_month)
        found = list(_entry_causes(others, local, ar, prefix))
        shown += [row["entry_external_id"] for row in found]
    pairs = [Pair("entry", i, local.get(i), ar.get(i)) for i in dict.fromkeys(shown)]
    ar_allocated = _ar_allocations(detail)
    for payment in sorted(set(local_allocated) | set(ar_allocated)):
        mine = _allocation(month, local_allocated.get(payment))
        pairs.append(
            Pair("allocation", payment, mine, _allocation(month, ar_allocated.get(payment)))
        )
    if not found:
        found = _statement_causes(statement, detail, local_allocated, ar_allocated)
    return [{"external_invoice_id": key, "status": status, **row} for row in found], pairs


def _entry_causes(
    ids: Iterable[str], local: dict[str, Entry], ar: dict[str, Entry], prefix: str
) -> Iterator[dict[str, Any]]:
    for external_id in ids:
        mine, theirs = local.get(external_id), ar.get(external_id)
        if theirs is None and mine is not None:
            yield _row(Cause.ENTRY_MISSING_IN_AR, external_id, None, mine.amount, None)
        elif mine is None and theirs is not None:
            if external_id.startswith(prefix):
                yield _row(Cause.ENTRY_EXTRA_IN_AR, external_id, None, None, theirs.amount)
        elif mine is not None and theirs is not None:
            for name, attribute in COMPARED_FIELDS:
                here, there = getattr(mine, attribute), getattr(theirs, attribute)
                if here != there:
                    yield _row(Cause.ENTRY_DIFFERS, external_id, name, here, there)


def _statement_causes(
    statement: dict[str, Any],
    detail: StatementDetail | None,
    local_allocated: dict[str, Decimal],
    ar_allocated: dict[str, Decimal],
) -> list[dict[str, Any]]:
    """The entries agree: what the statement itself shows."""
    if statement["status"] == Status.UNEXPECTED_IN_AR:
        return [_row(Cause.STATEMENT_ONLY_IN_AR, None, "amount", None, statement.get("ar_amount"))]
    allocation_rows = [
        _row(
            Cause.SAME_ENTRIES_DIFFERENT_ALLOCATION,
            payment,
            "allocated_amount",
            local_allocated.get(payment),
            ar_allocated.get(payment),
        )
        for payment in sorted(set(local_allocated) | set(ar_allocated))
        if local_allocated.get(payment) != ar_allocated.get(payment)
    ]
    if allocation_rows and detail is not None:
        return allocation_rows
    same = Cause.SAME_ENTRIES_DIFFERENT_STATEMENT
    if detail is None:
        return [_row(same, None, "statement", statement.get("local_amount"), None)]
    rows = [
        _row(same, None, name, statement.get(f"local_{side}"), getattr(detail, attribute))
        for name, side, attribute in (
            ("amount", "amount", "amount"),
            ("paid_amount", "paid", "paid_amount"),
        )
        if statement.get(f"local_{side}") != getattr(detail, attribute)
    ]
    return rows or [_row(same, None, None, None, None)]


def _row(
    cause: Cause, entry: str | None, name: str | None, local: object, ar: object
) -> dict[str, Any]:
    return {
        "cause": cause.value,
        "entry_external_id": entry,
        "field": name,
        "local_value": local,
        "ar_value": ar,
    }


def _same_month(entry: Entry, month: date) -> bool:
    when = entry.transaction_date
    return (when.year, when.month) == (month.year, month.month)


def _allocation(month: date, amount: Decimal | None) -> Entry | None:
    return None if amount is None else Entry(month, ALLOCATION_TYPE, amount)


def _ar_entries(entries: Iterable[LedgerEntry]) -> dict[str, Entry]:
    """A customer's entries in AR, less the allocation rows AR writes itself."""
    return {
        e.external_id: Entry(e.transaction_date, e.transaction_type, e.amount)
        for e in entries
        if e.transaction_type != ALLOCATION_TYPE
    }


def _ar_allocations(detail: StatementDetail | None) -> dict[str, Decimal]:
    """What each payment gives the statement in AR (positive), from its allocation rows
    (``ALLOC-{payment}-{statement id}``)."""
    if detail is None:
        return {}
    suffix = f"-{detail.id}"
    found: dict[str, Decimal] = {}
    for entry in detail.entries or []:
        if entry.transaction_type != ALLOCATION_TYPE:
            continue
        payment = entry.external_id.removeprefix(ALLOCATION_PREFIX).removesuffix(suffix)
        found[payment] = found.get(payment, ZERO) - entry.amount
    return found


def _local_entries(
    warehouse: Warehouse, practice_id: str, customers: list[str]
) -> dict[str, dict[str, Entry]]:
    """The customers' entries the pipeline pushed, by customer and external id."""
    columns = ["external_id", CUSTOMER, "transaction_date", "transaction_type", "amount"]
    frame = warehouse.read_in(
        LEDGER_ENTRIES, practice_id=practice_id, column=CUSTOMER, values=customers, columns=columns
    )
    found: dict[str, dict[str, Entry]] = {}
    if frame.empty:
        return found
    keys = frame["external_id"].to_numpy(dtype=object)
    dates = to_dates(frame["transaction_date"], keys, "transaction_date")
    amounts = to_money(frame["amount"], keys, "amount")
    for key, customer, when, kind, amount in zip(
        keys, frame[CUSTOMER], dates, frame["transaction_type"], amounts, strict=True
    ):
        found.setdefault(str(customer), {})[str(key)] = Entry(when, str(kind), amount)
    return found


def _local_allocations(
    warehouse: Warehouse, schema: str, customers: list[str]
) -> dict[str, dict[str, Decimal]]:
    """What each payment gives each statement locally (the mart ``payment_allocations``),
    by statement number and payment."""
    found: dict[str, dict[str, Decimal]] = {}
    relation = warehouse.qualified(schema, "payment_allocations")
    mark = warehouse.placeholder
    for start in range(0, len(customers), _IN_GROUP):
        group = customers[start : start + _IN_GROUP]
        frame = warehouse.query(
            "select external_invoice_id, payment_external_id, allocated_amount"  # noqa: S608
            f" from {relation} where {CUSTOMER} in ({', '.join([mark] * len(group))})",
            group,
        )
        if frame.empty:
            continue
        keys = frame["external_invoice_id"].to_numpy(dtype=object)
        amounts = to_money(frame["allocated_amount"], keys, "allocated_amount")
        for key, payment, amount in zip(keys, frame["payment_external_id"], amounts, strict=True):
            statement = found.setdefault(str(key), {})
            statement[str(payment)] = statement.get(str(payment), ZERO) + amount
    return found
