"""Repair what a reconciliation explained: push the practice's own version of the
entries AR lost or holds differently, and void the entries AR holds under the
practice's prefix that the practice does not have.

The input is the causes of the practice's mismatches (the rows of
``reconcile.why.explain``: ``external_invoice_id``, ``status``, ``cause``,
``entry_external_id``, ``field``, ``local_value``, ``ar_value``), worked out fresh
against AR by the caller just before the repair. ``plan_repair`` decides, per row:

- ``entry_missing_in_ar`` and ``entry_differs``: the local entry
  (``normalized.ledger_entries``) is pushed again, as the push sends it;
- ``entry_extra_in_ar``: the entry is pushed again at amount 0 (a void: AR has no
  delete), with the customer, date and type AR holds for it;
- anything else is refused, with the reason, per statement: the entries agree, so
  nothing local can make AR's allocation or statement right.

Only entries whose external id starts with ``<practice_id>-`` are ever written; any
other is refused and reported. ``guard`` holds the repair against the practice's
``PlanLimits`` (voids as a share of the entries AR holds, and how far the outstanding
total moves), and ``apply_repair`` sends it through ``push_changes``, so that the
push state records the payloads that landed and the next nightly push neither sends
them again nor undoes them, and the customers touched are noted for the read-back.

No Dagster and no reconciliation here: the caller explains before and reconciles after.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from ar_pipelines.client import ARClient
from ar_pipelines.sync.payloads import KINDS, records_frame
from ar_pipelines.sync.plan import Breach, PlanLimits
from ar_pipelines.sync.push import LEDGER_COLUMNS, push_changes
from ar_pipelines.sync.report import SyncReport
from ar_pipelines.sync.state import LANDED
from ar_pipelines.sync.voids import VOID_AMOUNT
from ar_pipelines.warehouse import LEDGER_ENTRIES, PUSH_STATE, Warehouse

# The causes' names, as ``reconcile.why.Cause`` writes them in the ``cause`` column.
ENTRY_MISSING_IN_AR = "entry_missing_in_ar"
ENTRY_DIFFERS = "entry_differs"
ENTRY_EXTRA_IN_AR = "entry_extra_in_ar"
REPUSHED = (ENTRY_MISSING_IN_AR, ENTRY_DIFFERS)
REPAIRABLE = (*REPUSHED, ENTRY_EXTRA_IN_AR)
# Why each other cause is refused.
REFUSED_BECAUSE = {
    "same_entries_different_allocation": (
        "every entry agrees with AR, yet AR allocates a payment to the statement otherwise: "
        "nothing local to push would change that; send the rows to AR's support"
    ),
    "same_entries_different_statement": (
        "every entry and allocation agrees with AR, yet AR's statement differs: it was "
        "changed in AR directly or not re-aggregated; send it to AR's support"
    ),
    "statement_only_in_ar": (
        "AR holds a statement no entry supports: nothing local bills that month; ask AR's "
        "support where it comes from"
    ),
}
NOT_OURS = (
    "the entry's external id does not start with the practice's prefix {prefix!r}: it "
    "belongs to no practice here and is never written"
)
NOT_LOCAL = "the entry is not in the practice's local ledger any more: nothing to push again"
NOT_IN_AR = "AR no longer holds the entry: nothing to void"
_STATEMENT_PARTS = 4  # STMT-YYYY-MM-<customer>


@dataclass(frozen=True)
class Refusal:
    """A cause left alone: its statement, the entry (if any) and why."""

    statement: str
    cause: str
    entry_external_id: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RepairPlan:
    """What a repair will send: ``records`` (ledger entries shaped like the normalizer's,
    voids at amount 0 among them), the entries by cause, and what it refuses.
    ``outstanding_change``: how far the records move AR's total (local amount less AR's,
    summed)."""

    practice_id: str
    records: pd.DataFrame
    repaired: dict[str, list[str]]
    refused: list[Refusal]
    outstanding_change: Decimal
    customers: list[str] = field(default_factory=list)

    @property
    def voids(self) -> int:
        return len(self.repaired.get(ENTRY_EXTRA_IN_AR, []))

    @property
    def empty(self) -> bool:
        return self.records.empty

    def summary(self) -> dict[str, Any]:
        """JSON-safe, for run metadata."""
        return {
            "repaired": {cause: len(self.repaired.get(cause, [])) for cause in REPAIRABLE},
            "entries": {cause: sorted(self.repaired.get(cause, [])) for cause in REPAIRABLE},
            "refused": [refusal.as_dict() for refusal in self.refused],
            "outstanding_change": format(self.outstanding_change, "f"),
            "customers": self.customers,
        }


@dataclass(frozen=True)
class RepairOutcome:
    """A repair: its plan, the limits it went past, and what the push reported
    (``None`` when nothing was sent: nothing to repair, or refused by the guard)."""

    plan: RepairPlan
    breaches: list[Breach]
    report: SyncReport | None

    @property
    def sent(self) -> bool:
        return self.report is not None


def customer_of(statement: str) -> str | None:
    """The customer's external id in a statement number (``STMT-YYYY-MM-<customer>``)."""
    parts = statement.split("-", _STATEMENT_PARTS - 1)
    return parts[-1] if len(parts) == _STATEMENT_PARTS and parts[0] == "STMT" else None


def plan_repair(
    client: ARClient, warehouse: Warehouse, *, practice_id: str, causes: pd.DataFrame
) -> RepairPlan:
    """The repair of ``causes`` (fresh rows of ``explain``): which entries to push again,
    which to void, and which causes are refused and why."""
    prefix = f"{practice_id}-"
    refused: list[Refusal] = []
    wanted: dict[str, dict[str, str]] = {cause: {} for cause in REPAIRABLE}
    for row in causes.to_dict("records"):
        statement, cause = str(row["external_invoice_id"]), str(row["cause"])
        entry = row.get("entry_external_id")
        entry = None if entry is None or entry != entry else str(entry)
        if cause not in REPAIRABLE:
            reason = REFUSED_BECAUSE.get(cause, f"{cause} is not a cause a repair knows")
            refused.append(Refusal(statement, cause, entry, reason))
        elif entry is None or not entry.startswith(prefix):
            refused.append(Refusal(statement, cause, entry, NOT_OURS.format(prefix=prefix)))
        else:
            wanted[cause].setdefault(entry, statement)
    repush = {**wanted[ENTRY_MISSING_IN_AR], **wanted[ENTRY_DIFFERS]}
    local = _local(warehouse, practice_id, list(repush))
    for entry, statement in repush.items():
        if entry not in local.index:
            cause = ENTRY_DIFFERS if entry in wanted[ENTRY_DIFFERS] else ENTRY_MISSING_IN_AR
            refused.append(Refusal(statement, cause, entry, NOT_LOCAL))
    extra = {e: s for e, s in wanted[ENTRY_EXTRA_IN_AR].items() if e not in local.index}
    customers = sorted({c for c in (customer_of(s) for s in extra.values()) if c})
    held = _ar_entries(client, customers)
    voids = []
    for entry, statement in extra.items():
        found = held.get(entry)
        if found is None:
            refused.append(Refusal(statement, ENTRY_EXTRA_IN_AR, entry, NOT_IN_AR))
        else:
            voids.append(found)
    pushed = local.loc[[e for e in repush if e in local.index]].reset_index()
    ar_now = _ar_entries(client, sorted(set(pushed["customer_external_id"].astype(str))))
    change = sum(
        (
            Decimal(amount) - (ar_now[e]["amount"] if e in ar_now else Decimal(0))
            for e, amount in zip(pushed["external_id"], pushed["amount"], strict=True)
        ),
        start=Decimal(0),
    ) - sum((v["amount"] for v in voids), start=Decimal(0))
    void_records = pd.DataFrame(
        [{**{name: None for name in LEDGER_COLUMNS}, **v, "amount": VOID_AMOUNT} for v in voids],
        columns=list(LEDGER_COLUMNS),
    )
    records = pd.concat(
        [frame for frame in (pushed[list(LEDGER_COLUMNS)], void_records) if not frame.empty]
        or [void_records],
        ignore_index=True,
    )
    repaired = {
        ENTRY_MISSING_IN_AR: [e for e in wanted[ENTRY_MISSING_IN_AR] if e in local.index],
        ENTRY_DIFFERS: [
            e
            for e in wanted[ENTRY_DIFFERS]
            if e in local.index and e not in wanted[ENTRY_MISSING_IN_AR]
        ],
        ENTRY_EXTRA_IN_AR: [str(v["external_id"]) for v in voids],
    }
    touched = sorted(set(records["customer_external_id"].dropna().astype(str)))
    return RepairPlan(
        practice_id, records, repaired, refused, change.quantize(Decimal("0.01")), touched
    )


def guard(warehouse: Warehouse, plan: RepairPlan, limits: PlanLimits) -> list[Breach]:
    """The limits the repair goes past: its voids as a share of the practice's entries
    AR holds (as the push state knows them), and how far it moves the outstanding total."""
    breaches: list[Breach] = []
    held = _landed_entries(warehouse, plan.practice_id)
    share = plan.voids / held if held else (1.0 if plan.voids else 0.0)
    if plan.voids and share > limits.max_void_share:
        breaches.append(
            Breach(
                "max_void_share",
                f"{share:.4f}",
                f"{limits.max_void_share}",
                f"the repair would void {plan.voids} of the {held} ledger entries AR holds "
                f"({share:.2%}); the limit is {limits.max_void_share:.2%}",
            )
        )
    limit = limits.max_outstanding_change
    if limit is not None and abs(plan.outstanding_change) > limit:
        breaches.append(
            Breach(
                "max_outstanding_change",
                format(plan.outstanding_change, "f"),
                format(limit, "f"),
                f"the repair would move the outstanding total by {plan.outstanding_change}; "
                f"the limit is {limit}",
            )
        )
    return breaches


def apply_repair(
    client: ARClient, warehouse: Warehouse, plan: RepairPlan, *, limits: PlanLimits, approved: bool
) -> RepairOutcome:
    """Send the repair, unless it goes past ``limits`` and is not ``approved``. Sent
    through ``push_changes`` (every record of the plan, and any dead letter waiting, as
    any push sends them), which records each outcome in the push state and notes the
    customers touched. Raises ``SyncIncompleteError`` when the push stopped; what
    landed is recorded, and a second repair sends the rest."""
    breaches = guard(warehouse, plan, limits)
    if plan.empty or (breaches and not approved):
        return RepairOutcome(plan, breaches, None)
    report = push_changes(
        client,
        warehouse,
        practice_id=plan.practice_id,
        kind="ledger_entries",
        records=plan.records,
        full=True,
    )
    return RepairOutcome(plan, breaches, report)


def _local(warehouse: Warehouse, practice_id: str, entries: list[str]) -> pd.DataFrame:
    """The entries as the push sends them (a ``records_frame``), by external id."""
    frame = warehouse.read_in(
        LEDGER_ENTRIES,
        practice_id=practice_id,
        column="external_id",
        values=entries,
        columns=list(LEDGER_COLUMNS),
    )
    return records_frame(frame, KINDS["ledger_entries"]).set_index("external_id")


def _ar_entries(client: ARClient, customers: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The customers' entries in AR, each described as a void of it would be."""
    found: dict[str, dict[str, Any]] = {}
    for customer in customers:
        for entry in client.ledgers.list(customer_external_id=customer):
            when: date = entry.transaction_date
            found[entry.external_id] = {
                "external_id": entry.external_id,
                "customer_external_id": customer,
                "transaction_date": when.isoformat(),
                "transaction_type": entry.transaction_type,
                "amount": Decimal(entry.amount),
            }
    return found


def _landed_entries(warehouse: Warehouse, practice_id: str) -> int:
    state = warehouse.read(
        PUSH_STATE,
        practice_id=practice_id,
        columns=["external_id", "last_result"],
        where={"kind": "ledger_entries"},
    )
    return int(state["last_result"].isin(LANDED).sum())
