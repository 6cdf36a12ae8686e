"""Reconciling what the sandbox built from pushed entries with what the reference
computes from the same entries: clean, until AR's books are changed behind its back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import update

from ar_pipelines.client import ARClient
from ar_pipelines.reconcile import Status, reconcile
from ar_pipelines.statements.reference import LedgerEntry, compute_statements
from ar_sandbox.models import Invoice
from tests.ar_pipelines.statements.ledgers import push_ledger
from tests.ar_sandbox.ledger_api import entry
from tests.sandbox_server import RunningSandbox

LEDGER = [
    entry("PR-1-T1", "PR-1-P1", "2026-01-05", "charge", "240.00"),
    entry("PR-1-T2", "PR-1-P1", "2026-01-20", "other_credit", "-40.00"),
    entry("PR-1-T3", "PR-1-P1", "2026-02-03", "charge", "99.99"),
    entry("PR-1-T4", "PR-1-P1", "2026-02-15", "patient_payment", "-250.00"),
    entry("PR-1-T5", "PR-1-P2", "2026-01-11", "charge", "0.01"),
    entry("PR-1-T6", "PR-1-P2", "2026-03-01", "adjustment", "310.10"),
    entry("PR-1-T7", "PR-1-P2", "2026-03-09", "insurance_payment", "-155.05"),
    entry("PR-1-T8", "PR-1-P3", "2026-02-28", "charge", "75.00"),
]


def local_statements(entries: list[LedgerEntry]) -> pd.DataFrame:
    """The reference's statements in the dbt mart's shape, money as a driver's floats."""
    statements = compute_statements(entries).statements
    return pd.DataFrame(
        {
            "external_invoice_id": [s.external_invoice_id for s in statements],
            "customer_external_id": [s.customer for s in statements],
            "period_start": [s.period_start for s in statements],
            "period_end": [s.period_end for s in statements],
            "issue_date": [s.issue_date for s in statements],
            "due_date": [s.due_date for s in statements],
            "amount": [float(s.amount) for s in statements],
            "paid_amount": [float(s.paid_amount) for s in statements],
            "outstanding": [float(s.outstanding) for s in statements],
        }
    )


def test_statements_pushed_to_the_sandbox_reconcile_clean_until_one_is_changed_in_its_database(
    ar: ARClient, sandbox: RunningSandbox
) -> None:
    push_ledger(ar, LEDGER)
    local = local_statements(LEDGER)

    before = reconcile("PR-1", local, ar.statements.list())

    assert before.clean, before.mismatches()
    assert before.counts()["total"] == len(local) == 5
    assert before.summary()["totals"] == {
        "local_billed": "685.10",
        "local_paid": "405.05",
        "local_outstanding": "280.05",
        "ar_billed": "685.10",
        "ar_paid": "405.05",
        "ar_outstanding": "280.05",
    }

    changed = before.rows.set_index("key").loc["STMT-2026-02-PR-1-P1", "ar_statement_id"]
    with sandbox.database.session() as session:
        session.execute(
            update(Invoice).where(Invoice.id == changed).values(amount=Decimal("100.00"))
        )

    after = reconcile("PR-1", local, ar.statements.list())

    assert not after.clean
    assert after.counts()["amount_mismatch"] == 1
    assert after.counts()["matched"] == 4
    [mismatch] = after.mismatches()
    assert mismatch["key"] == "STMT-2026-02-PR-1-P1"
    assert mismatch["status"] == Status.AMOUNT_MISMATCH
    assert mismatch["ar_statement_id"] == changed
    assert (mismatch["local_amount"], mismatch["ar_amount"]) == ("99.99", "100.00")
    assert mismatch["amount_difference"] == "0.01"


def test_an_enrolled_statement_whose_month_stopped_qualifying_reconciles_as_zeroed(
    ar: ARClient, company: dict[str, Any]
) -> None:
    push_ledger(ar, LEDGER)
    march = next(s for s in ar.statements.list() if s.external_invoice_id == "STMT-2026-03-PR-1-P2")
    assert ar.statements.enroll([march.id], campaign_id=company["sa_campaign_id"]).enrolled
    voided = [*LEDGER[:5], entry("PR-1-T6", "PR-1-P2", "2026-03-01", "adjustment", "0.00")]
    voided += LEDGER[6:]
    push_ledger(ar, voided)

    result = reconcile("PR-1", local_statements(voided), ar.statements.list())

    assert result.clean, result.mismatches()
    assert result.counts()["zeroed_in_ar"] == 1
    zeroed = result.rows.set_index("key").loc["STMT-2026-03-PR-1-P2"]
    assert zeroed["local_amount"] is None
    assert (zeroed["ar_amount"], zeroed["ar_paid"]) == (Decimal("0.00"), Decimal("0.00"))
    assert zeroed["enrollment_status"] != "not_enrolled"
