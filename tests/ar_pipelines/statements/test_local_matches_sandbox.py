"""Random ledgers pushed to the sandbox (an independent implementation of the contract)
give the statements and allocations the dbt project computes from the same ledger."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from ar_pipelines.client import ARClient
from ar_pipelines.statements.local import compute_local_statements
from ar_pipelines.statements.reference import LedgerEntry
from tests.ar_pipelines.statements.ledgers import push_ledger, write_ledger_csv
from tests.ledger_strategies import ledger_entries
from tests.sandbox_server import RunningSandbox

StatementRow = tuple[date, date, date, date, Decimal, Decimal, Decimal]
AllocationRow = tuple[str, str, date, Decimal]


def pushed_to_sandbox(
    sandbox: RunningSandbox, entries: list[LedgerEntry]
) -> tuple[dict[str, StatementRow], set[AllocationRow]]:
    """Push the ledger to a new company; its statements by number and its allocations."""
    company = sandbox.bootstrap()
    with ARClient(base_url=sandbox.base_url, api_key=company["live_key"]) as ar:
        push_ledger(ar, entries)
        listed = list(ar.statements.list())
        rows = list(ar.ledgers.list(transaction_type="payment_allocation"))
    statements = {
        s.external_invoice_id: (
            s.period_start,
            s.period_end,
            s.issue_date or s.period_start,
            s.due_date or s.period_start,
            s.amount,
            s.paid_amount,
            s.outstanding,
        )
        for s in listed
    }
    number = {s.id: s.external_invoice_id for s in listed}
    allocations = set()
    for row in rows:
        assert row.invoice_id is not None
        payment = row.external_id.removeprefix("ALLOC-").removesuffix(f"-{row.invoice_id}")
        allocations.add((payment, number[row.invoice_id], row.transaction_date, -row.amount))
    return statements, allocations


def computed_locally(
    entries: list[LedgerEntry], work: Path
) -> tuple[dict[str, StatementRow], set[AllocationRow]]:
    ledger = write_ledger_csv(entries, work / "ledger_entries.csv")
    run = compute_local_statements(ledger, work / "out", run_tests=False)
    with run.files["statements"].open(encoding="utf-8") as handle:
        statements = {
            row["external_invoice_id"]: (
                date.fromisoformat(row["period_start"]),
                date.fromisoformat(row["period_end"]),
                date.fromisoformat(row["issue_date"]),
                date.fromisoformat(row["due_date"]),
                Decimal(row["amount"]),
                Decimal(row["paid_amount"]),
                Decimal(row["outstanding"]),
            )
            for row in csv.DictReader(handle)
        }
    with run.files["payment_allocations"].open(encoding="utf-8") as handle:
        allocations = {
            (
                row["payment_external_id"],
                row["external_invoice_id"],
                date.fromisoformat(row["transaction_date"]),
                Decimal(row["allocated_amount"]),
            )
            for row in csv.DictReader(handle)
        }
    return statements, allocations


@settings(
    max_examples=3,
    deadline=None,
    # Every example is a dbt build: shrinking a failure would take minutes. Customers
    # are independent, so a failing example is read customer by customer instead.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(entries=ledger_entries())
def test_the_sandbox_after_a_push_holds_the_statements_and_allocations_dbt_computes(
    entries: list[LedgerEntry],
    sandbox: RunningSandbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    in_sandbox = pushed_to_sandbox(sandbox, entries)
    local = computed_locally(entries, tmp_path_factory.mktemp("sandbox_differential"))

    assert local[0] == in_sandbox[0]
    assert local[1] == in_sandbox[1]
