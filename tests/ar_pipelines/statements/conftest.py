"""A small ledger that shows each rule once, the files it must give, and a Postgres
schema of the statement tests' own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fresh_postgres_schema

SMALL_LEDGER = """\
external_id,customer_external_id,transaction_date,transaction_type,amount,amount_paid,estimated_insurance,payment_link_id,procedure_code,description
TX-1,PT-001,2026-05-03,charge,240.00,,,,D0120,Periodic oral evaluation
TX-2,PT-001,2026-05-15,patient_payment,-100.00,,,,,
C-1,PT-002,2026-01-10,charge,50.00,,,,,
C-2,PT-002,2026-02-10,charge,70.00,,,,,
P-1,PT-002,2026-02-20,insurance_payment,-60.00,,,,,
P-a,PT-003,2026-03-01,patient_payment,-10.00,,,,,
P-B,PT-003,2026-03-01,patient_payment,-10.00,,,,,
C-3,PT-003,2026-01-05,charge,10.00,,,,,
C-4,PT-003,2026-02-05,charge,10.00,,,,,
C-5,PT-004,2026-04-01,charge,20.00,,,,,
K-1,PT-004,2026-04-02,other_credit,-20.00,,,,,
P-9,PT-004,2025-12-01,patient_payment,-30.00,,,,,
"""

# PT-001 is the 004 documentation's example; PT-002's payment pays January before
# February; PT-003's payments share a day and go in byte order, "P-B" before "P-a";
# PT-004 nets to 0 in April (no statement) and its prepayment stays unapplied.
SMALL_LEDGER_FILES = {
    "statements": """\
external_invoice_id,customer_external_id,period_start,period_end,issue_date,due_date,amount,paid_amount,outstanding
STMT-2026-05-PT-001,PT-001,2026-05-01,2026-05-31,2026-05-01,2026-10-28,240.00,100.00,140.00
STMT-2026-01-PT-002,PT-002,2026-01-01,2026-01-31,2026-01-01,2026-06-30,50.00,50.00,0.00
STMT-2026-02-PT-002,PT-002,2026-02-01,2026-02-28,2026-02-01,2026-07-31,70.00,10.00,60.00
STMT-2026-01-PT-003,PT-003,2026-01-01,2026-01-31,2026-01-01,2026-06-30,10.00,10.00,0.00
STMT-2026-02-PT-003,PT-003,2026-02-01,2026-02-28,2026-02-01,2026-07-31,10.00,10.00,0.00
""",
    "payment_allocations": """\
allocation_id,customer_external_id,payment_external_id,external_invoice_id,period_start,transaction_date,allocated_amount
ALLOC-TX-2-STMT-2026-05-PT-001,PT-001,TX-2,STMT-2026-05-PT-001,2026-05-01,2026-05-15,100.00
ALLOC-P-1-STMT-2026-01-PT-002,PT-002,P-1,STMT-2026-01-PT-002,2026-01-01,2026-02-20,50.00
ALLOC-P-1-STMT-2026-02-PT-002,PT-002,P-1,STMT-2026-02-PT-002,2026-02-01,2026-02-20,10.00
ALLOC-P-B-STMT-2026-01-PT-003,PT-003,P-B,STMT-2026-01-PT-003,2026-01-01,2026-03-01,10.00
ALLOC-P-a-STMT-2026-02-PT-003,PT-003,P-a,STMT-2026-02-PT-003,2026-02-01,2026-03-01,10.00
""",
    "customer_credits": """\
customer_external_id,billed_amount,statement_amount,non_qualifying_months,non_qualifying_net,payments_total,allocated_amount,unapplied_payments
PT-001,240.00,240.00,0,0.00,100.00,100.00,0.00
PT-002,120.00,120.00,0,0.00,60.00,60.00,0.00
PT-003,20.00,20.00,0,0.00,20.00,20.00,0.00
PT-004,0.00,0.00,1,0.00,30.00,0.00,30.00
""",
}


@pytest.fixture
def small_ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger_entries.csv"
    path.write_text(SMALL_LEDGER, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def statements_postgres_url() -> Iterator[str]:
    """A fresh schema for the statement models, apart from the session's shared one where
    the sandbox keeps a ``ledger_entries`` table of its own."""
    with fresh_postgres_schema("ar_statements") as url:
        yield url
