"""Ledger pushes and statement read-back over HTTP, with money as ``Decimal`` throughout.

Shared by the aggregation property tests and the concurrency tests: a thin client
for the endpoints, a model of what a push must answer (``docs/contract.md#push-counts``),
and one check that everything the server shows agrees with the pure reference
(``docs/contract.md#statement-aggregation``) and with the identities
(``docs/contract.md#identities``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from ar_pipelines.statements.reference import (
    BILLABLE,
    PAYMENTS,
    LedgerEntry,
    compute_statements,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def money(text: str | int) -> Decimal:
    return Decimal(text).quantize(CENT)


def entry(external_id: str, customer: str, day: str, kind: str, amount: str | int) -> LedgerEntry:
    """A reference ledger entry as a test writes it: the day in ISO form, the amount exact."""
    return LedgerEntry(external_id, customer, date.fromisoformat(day), kind, money(amount))


def to_json(value: Any) -> str:
    """JSON text in which a ``Decimal`` is written as the exact number it is."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    return json.dumps(value)


def envelope_data(response: httpx.Response, status: int = 200) -> Any:
    """The ``data`` of a success envelope, numbers parsed as ``Decimal``."""
    assert response.status_code == status, response.text
    body = json.loads(response.text, parse_float=Decimal)
    assert body["success"] is True
    assert body["status_code"] == status
    return body["data"]


def record(entry: LedgerEntry) -> dict[str, Any]:
    """The push record of an entry (its customer named by external id)."""
    return {
        "external_id": entry.external_id,
        "customer_external_id": entry.customer,
        "transaction_date": entry.transaction_date.isoformat(),
        "transaction_type": entry.transaction_type,
        "amount": entry.amount,
    }


class LedgerApi:
    """The endpoints these tests drive, on one API key's client."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def post(self, path: str, body: Any, **params: Any) -> httpx.Response:
        return self.client.post(
            path,
            content=to_json(body),
            params=params,
            headers={"Content-Type": "application/json"},
        )

    def create_customers(self, external_ids: Iterable[str]) -> None:
        customers = [
            {"external_id": ext, "email": f"{ext.lower()}@example.com"} for ext in external_ids
        ]
        counts = envelope_data(self.post("/customers/bulk", {"customers": customers}))
        assert counts["failed"] == 0, counts

    def push(self, entries: Sequence[LedgerEntry]) -> dict[str, Any]:
        body = {"ledger_entries": [record(e) for e in entries]}
        result: dict[str, Any] = envelope_data(self.post("/ledgers/bulk", body))
        return result

    def pages(self, path: str, key: str, per_page: int, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paged list, checking the paging fields on the way."""
        items: list[dict[str, Any]] = []
        page, total_pages = 1, 1
        while page <= total_pages:
            body = envelope_data(
                self.client.get(path, params={**params, "page": page, "per_page": per_page})
            )
            assert body["page"] == page
            assert body["per_page"] == per_page
            total_pages = body["total_pages"]
            assert total_pages == -(-body["total"] // per_page)
            assert len(body[key]) == min(per_page, max(0, body["total"] - (page - 1) * per_page))
            items.extend(body[key])
            page += 1
        assert len(items) == body["total"]
        assert len({item["id"] for item in items}) == len(items), "an item on two pages"
        return items

    def customer_keys(self) -> dict[str, str]:
        """Customer UUID to the key statements are numbered by (external id, else UUID)."""
        customers = self.pages("/customers", "customers", 100)
        return {c["id"]: c["external_id"] or c["id"] for c in customers}

    def statements(self, per_page: int = 100, **params: Any) -> list[dict[str, Any]]:
        return self.pages("/statements", "statements", per_page, **params)

    def statement(self, statement_id: str, include_entries: bool = True) -> dict[str, Any]:
        params = {"include_entries": str(include_entries).lower()}
        detail: dict[str, Any] = envelope_data(
            self.client.get(f"/statements/{statement_id}", params=params)
        )
        return detail

    def ledger(self, per_page: int = 200, **params: Any) -> list[dict[str, Any]]:
        return self.pages("/ledgers", "entries", per_page, **params)

    def enroll(self, statement_id: str, campaign_id: str) -> dict[str, Any]:
        response = self.client.post(
            f"/statements/{statement_id}/campaign", params={"campaign_id": campaign_id}
        )
        result: dict[str, Any] = envelope_data(response)
        return result


# --- what a push must answer (docs/contract.md#push-counts) --------------------------


StatementKey = tuple[str, date]  # (customer key, period_start)


def _statement_values(
    entries: Iterable[LedgerEntry], customers: set[str]
) -> dict[StatementKey, tuple[Decimal, Decimal]]:
    result = compute_statements(e for e in entries if e.customer in customers)
    return {(s.customer, s.period_start): (s.amount, s.paid_amount) for s in result.statements}


@dataclass
class ExpectedPush:
    ledger_entries: dict[str, int]
    statements: dict[str, int]
    state: dict[str, LedgerEntry]


def expected_push(state: Mapping[str, LedgerEntry], batch: Sequence[LedgerEntry]) -> ExpectedPush:
    """Counts of a push of ``batch`` onto ``state`` (no enrolled statements) and the new state."""
    last = {e.external_id: e for e in batch}
    created = sum(1 for ext in last if ext not in state)
    ledger_counts = {
        "total": len(batch),
        "created": created,
        "updated": len(last) - created,
        "skipped": len(batch) - len(last),
        "failed": 0,
    }
    touched = {e.customer for e in last.values()}
    touched |= {state[ext].customer for ext in last if ext in state}
    after = {**state, **last}
    old = _statement_values(state.values(), touched)
    new = _statement_values(after.values(), touched)
    changed = sum(1 for key in new.keys() & old.keys() if new[key] != old[key])
    statement_counts = {
        "created": len(new.keys() - old.keys()),
        "updated": changed + len(old.keys() - new.keys()),
        "skipped": len(new.keys() & old.keys()) - changed,
        "failed": 0,
        "allocations_created": len(
            compute_statements(e for e in after.values() if e.customer in touched).allocations
        ),
    }
    statement_counts["total"] = sum(
        statement_counts[k] for k in ("created", "updated", "skipped", "failed")
    )
    return ExpectedPush(ledger_counts, statement_counts, after)


def assert_push_answer(answer: Mapping[str, Any], expected: ExpectedPush) -> None:
    ledger = answer["ledger_entries"]
    assert ledger["errors"] == []
    assert {k: ledger[k] for k in expected.ledger_entries} == expected.ledger_entries
    assert (
        ledger["total"]
        == ledger["created"] + ledger["updated"] + ledger["skipped"] + (ledger["failed"])
    )
    statements = answer["statements"]
    assert {k: statements[k] for k in expected.statements} == expected.statements
    assert statements["total"] == (
        statements["created"] + statements["updated"] + statements["skipped"] + statements["failed"]
    )


# --- what the server shows, against the reference and the identities -----------------


@dataclass
class ServerView:
    """Everything one company-and-mode shows about its ledger and statements."""

    customers: dict[str, str]  # UUID -> key
    statements: list[dict[str, Any]]
    details: dict[str, dict[str, Any]]
    raw_rows: list[dict[str, Any]]
    allocation_rows: list[dict[str, Any]]
    by_id: dict[str, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {s["id"]: s for s in self.statements}

    def customer_of(self, row: Mapping[str, Any]) -> str:
        return self.customers[row["customer_id"]]

    def statement_tuples(self) -> list[tuple[Any, ...]]:
        return sorted(
            (
                self.customer_of(s),
                s["external_invoice_id"],
                date.fromisoformat(s["period_start"]),
                date.fromisoformat(s["period_end"]),
                date.fromisoformat(s["issue_date"]),
                date.fromisoformat(s["due_date"]),
                s["amount"],
                s["paid_amount"],
                s["outstanding"],
            )
            for s in self.statements
        )

    def allocations(self) -> list[tuple[str, str, date, date, Decimal]]:
        """(customer, payment external_id, statement month, date, amount given), checked."""
        out = []
        for row in self.allocation_rows:
            statement = self.by_id[row["invoice_id"]]
            prefix, suffix = "ALLOC-", f"-{statement['id']}"
            assert row["external_id"].startswith(prefix), row
            assert row["external_id"].endswith(suffix), row
            assert row["customer_id"] == statement["customer_id"], row
            payment = row["external_id"][len(prefix) : -len(suffix)]
            out.append(
                (
                    self.customer_of(row),
                    payment,
                    date.fromisoformat(statement["period_start"]),
                    date.fromisoformat(row["transaction_date"]),
                    -row["amount"],
                )
            )
        return sorted(out)


def read_view(api: LedgerApi, *, statements_per_page: int = 100) -> ServerView:
    customers = api.customer_keys()
    statements = api.statements(per_page=statements_per_page)
    details = {s["id"]: api.statement(s["id"]) for s in statements}
    everything = api.ledger()
    allocation_rows = api.ledger(per_page=50, transaction_type="payment_allocation")
    raw_rows = [r for r in everything if r["transaction_type"] != "payment_allocation"]
    assert {r["id"] for r in everything} - {r["id"] for r in raw_rows} == {
        r["id"] for r in allocation_rows
    }, "the transaction_type filter disagrees with the unfiltered list"
    return ServerView(customers, statements, details, raw_rows, allocation_rows)


def ledger_of(view: ServerView) -> dict[str, LedgerEntry]:
    return {
        r["external_id"]: LedgerEntry(
            r["external_id"],
            view.customer_of(r),
            date.fromisoformat(r["transaction_date"]),
            r["transaction_type"],
            r["amount"],
        )
        for r in view.raw_rows
    }


def assert_view_matches(view: ServerView, entries: Iterable[LedgerEntry]) -> None:
    """Statements, allocations, links and entries equal the reference; identities hold."""
    entries = list(entries)
    expected = compute_statements(entries)

    # The ledger holds exactly the final value pushed for every external_id.
    assert len(view.raw_rows) == len(entries), "an external_id is stored more than once"
    assert ledger_of(view) == {e.external_id: e for e in entries}

    # (a) statements exactly as the reference computes them.
    assert view.statement_tuples() == sorted(
        (
            s.customer,
            s.external_invoice_id,
            s.period_start,
            s.period_end,
            s.issue_date,
            s.due_date,
            s.amount,
            s.paid_amount,
            s.outstanding,
        )
        for s in expected.statements
    )
    for s in view.statements:
        assert s["invoice_number"] == s["external_invoice_id"]
        assert (s["billing_type"], s["currency"], s["source"]) == ("statement", "USD", "api")

    # Allocation rows: one per (payment, statement) with a positive share.
    assert view.allocations() == sorted(
        (a.customer, a.payment_external_id, a.period_start, a.transaction_date, a.amount)
        for a in expected.allocations
    )
    assert all(-r["amount"] > 0 for r in view.allocation_rows)

    _assert_links(view, expected.allocations)
    _assert_details(view)
    _assert_identities(view, expected.unapplied_payments)


def _assert_links(view: ServerView, allocations: Sequence[Any]) -> None:
    """Billable rows point at their month's statement; a payment at the oldest it paid."""
    month_statement = {
        (view.customer_of(s), date.fromisoformat(s["period_start"])): s["id"]
        for s in view.statements
    }
    oldest: dict[tuple[str, str], date] = {}
    for a in allocations:
        key = (a.customer, a.payment_external_id)
        oldest[key] = min(oldest.get(key, a.period_start), a.period_start)
    for row in view.raw_rows:
        customer = view.customer_of(row)
        if row["transaction_type"] in BILLABLE:
            month = date.fromisoformat(row["transaction_date"]).replace(day=1)
            wanted = month_statement.get((customer, month))
        else:
            paid = oldest.get((customer, row["external_id"]))
            wanted = None if paid is None else month_statement[(customer, paid)]
        assert row["invoice_id"] == wanted, row


def _assert_details(view: ServerView) -> None:
    """(c) a statement's entries are its month's billable rows and allocations to it."""
    for statement_id, detail in view.details.items():
        listed = view.by_id[statement_id]
        for name in ("external_invoice_id", "amount", "paid_amount", "outstanding", "status"):
            assert detail[name] == listed[name]
        entries = detail["entries"]
        assert sum((e["amount"] for e in entries), ZERO) == detail["outstanding"], detail
        assert {e["id"] for e in entries} == {
            r["id"]
            for r in [*view.raw_rows, *view.allocation_rows]
            if r["invoice_id"] == statement_id
        } - {r["id"] for r in view.raw_rows if r["transaction_type"] in PAYMENTS}
        assert all(e["transaction_type"] not in PAYMENTS for e in entries)


def _assert_identities(view: ServerView, unapplied: Mapping[tuple[str, str], Decimal]) -> None:
    """(b) the identities (docs/contract.md#identities), per customer, to the cent, from
    what the server shows."""
    billable: dict[str, Decimal] = defaultdict(lambda: ZERO)
    net: dict[tuple[str, date], Decimal] = defaultdict(lambda: ZERO)
    payments: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for row in view.raw_rows:
        customer = view.customer_of(row)
        if row["transaction_type"] in BILLABLE:
            billable[customer] += row["amount"]
            month = date.fromisoformat(row["transaction_date"]).replace(day=1)
            net[(customer, month)] += row["amount"]
        else:
            payments[customer][row["external_id"]] = -row["amount"]
    statements: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in view.statements:
        statements[view.customer_of(s)].append(s)
    given: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    received: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for customer, payment, _month, _day, amount in view.allocations():
        given[(customer, payment)] += amount
    for row in view.allocation_rows:
        received[row["invoice_id"]] -= row["amount"]

    for customer in set(billable) | set(payments) | set(statements):
        non_qualifying = sum((v for (c, _m), v in net.items() if c == customer and v <= 0), ZERO)
        amounts = sum((s["amount"] for s in statements[customer]), ZERO)
        assert billable[customer] == amounts + non_qualifying, customer

        values = payments[customer]
        allocated = sum((v for (c, _p), v in given.items() if c == customer), ZERO)
        left = sum((v for (c, _p), v in unapplied.items() if c == customer), ZERO)
        assert sum(values.values(), ZERO) == allocated + left, customer
        for payment, value in values.items():
            assert given.get((customer, payment), ZERO) <= value, (customer, payment)
            assert unapplied.get((customer, payment), ZERO) == value - given.get(
                (customer, payment), ZERO
            )

        ordered = sorted(statements[customer], key=lambda s: s["period_start"])
        for index, s in enumerate(ordered):
            assert ZERO <= s["paid_amount"] <= s["amount"], s
            assert s["outstanding"] == s["amount"] - s["paid_amount"], s
            assert s["paid_amount"] == received[s["id"]], s
            if s["paid_amount"] > 0:
                assert all(earlier["outstanding"] == 0 for earlier in ordered[:index]), ordered
