"""Whatever the source holds, every row lands in exactly one place and outputs keep shape."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ar_pipelines.normalize import PracticeSettings, normalize, schemas, write_outputs
from ar_pipelines.sources.schema import GUARANTOR_COLUMNS, PATIENT_COLUMNS, TRANSACTION_COLUMNS
from tests.ar_pipelines.normalize.rows import TODAY, payment_types

# Junk of every kind, mixed with values that parse, so that rows reach the later checks.
PLAUSIBLE = {
    "practice_id": ["P1", " P1 ", "P2"],
    "patient_id": ["1", "2", "3"],
    "guarantor_id": ["1", "2", "9"],
    "transaction_sr_no": ["1", "2", "3", "4"],
    "transaction_type": ["Procedure", "payment", "ADJUSTMENT", "Transfer"],
    "transaction_date": ["2026-01-31T00:00:00", "2026-02-29", "1850-01-01", "2030-01-01"],
    "amount": ["0.0000", "12.5000", "-3.00", "1.0050", "99999999999"],
    "payment_type": ["CASH", "INS", "REF", "DEB", "WO", "Cash"],
    "email": ["a@example.com", "a@", "x@example.com "],
    "cell": ["(415) 555-2671", "555", "+44 20 7946 0958"],
    "is_deleted": ["1", "true", "0"],
    "estimated_insurance_payment": ["1.00", "x"],
    "amount_paid": ["2.0000", "2.0010"],
}


def value(column: str) -> st.SearchStrategy[str | None]:
    options = [st.none(), st.text(max_size=12)]
    if column in PLAUSIBLE:
        options.append(st.sampled_from(PLAUSIBLE[column]))
    return st.one_of(*options)


def frames(columns: tuple[str, ...], max_rows: int) -> st.SearchStrategy[pd.DataFrame]:
    row = st.fixed_dictionaries({c: value(c) for c in columns})
    return st.lists(row, max_size=max_rows).map(
        lambda rows: pd.DataFrame(rows, columns=list(columns), dtype=object)
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    patient_frame=frames(PATIENT_COLUMNS, 6),
    guarantor_frame=frames(GUARANTOR_COLUMNS, 4),
    chunks=st.lists(frames(TRANSACTION_COLUMNS, 8), max_size=3),
    bill_to=st.sampled_from(["patient", "guarantor", "junk"]),
)
def test_rows_in_equal_rows_out_and_outputs_match_their_schemas(
    patient_frame: pd.DataFrame,
    guarantor_frame: pd.DataFrame,
    chunks: list[pd.DataFrame],
    bill_to: str,
) -> None:
    result = normalize(
        settings=PracticeSettings(bill_to=bill_to, refund_payment_types=("REF",)),
        payment_types=payment_types(),
        patients=patient_frame,
        guarantors=guarantor_frame,
        transactions=chunks,
        today=TODAY,
    )

    rows_in = sum(len(chunk) for chunk in chunks)
    transaction_rows = result.quarantine["source"] == "transactions"
    assert len(result.ledger_entries) + int(transaction_rows.sum()) == rows_in
    assert len(result.customers) + int((~transaction_rows).sum()) == result.counts.patients
    assert result.counts.patients >= len(patient_frame)
    assert result.counts.conserved
    schemas.customers.validate(result.customers)
    schemas.ledger_entries.validate(result.ledger_entries)
    schemas.quarantine.validate(result.quarantine)
    with tempfile.TemporaryDirectory() as out:
        written = write_outputs(result, Path(out))
    assert written["ledger_entries.csv"] == len(result.ledger_entries)
