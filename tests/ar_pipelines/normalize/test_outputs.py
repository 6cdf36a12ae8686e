"""Whole runs: counts that conserve, and the CSV files."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from ar_pipelines.normalize import normalize, write_outputs
from ar_pipelines.normalize.reasons import Reason
from tests.ar_pipelines.normalize.rows import (
    TODAY,
    patient,
    patients,
    payment_types,
    run,
    transaction,
    transactions,
)


def test_counts_say_where_every_row_went() -> None:
    result = normalize(
        payment_types=payment_types(),
        patients=patients(patient("100"), patient("101", email=None)),
        transactions=iter(
            [
                transactions(transaction("1"), transaction("2", amount=None)),
                transactions(transaction("3", is_deleted="1"), transaction("4", patient_id="101")),
            ]
        ),
        today=TODAY,
    )

    counts = result.counts
    assert counts.conserved
    assert (counts.patients, counts.customers) == (2, 1)
    assert counts.patients_quarantined == {Reason.CONTACT_MISSING.value: 1}
    assert (counts.transactions, counts.ledger_entries, counts.deleted) == (4, 2, 1)
    assert counts.transactions_quarantined == {
        Reason.AMOUNT_MISSING.value: 1,
        Reason.CUSTOMER_NOT_PUSHABLE.value: 1,
    }
    assert result.quarantine["source"].tolist() == ["patients", "transactions", "transactions"]
    assert result.quarantine["row_number"].tolist() == [2, 2, 4]


def test_an_empty_extract_gives_empty_outputs() -> None:
    result = normalize(
        payment_types=payment_types(),
        patients=patients(patient("1")),
        transactions=[],
        today=TODAY,
    )

    assert len(result.ledger_entries) == len(result.quarantine) == 0
    assert result.counts.conserved


def read(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_write_outputs_writes_three_csvs_with_exact_decimal_text(tmp_path: Path) -> None:
    result = run(
        transaction("1", amount="123.4", estimated_insurance_payment="0.5"),
        transaction("2", transaction_type="Payment", payment_type="CASH", amount="12"),
        transaction("3", amount="1.999"),
        patient_rows=[patient("100", firstname="Zo\u00eb", cell="4155552671")],
    )

    written = write_outputs(result, tmp_path / "out")

    assert written == {"customers.csv": 1, "ledger_entries.csv": 2, "quarantine.csv": 1}
    customers = read(tmp_path / "out" / "customers.csv")
    assert customers == [
        {
            "external_id": "P1-100",
            "first_name": "Zo\u00eb",
            "last_name": "Doe",
            "email": "jane100@example.com",
            "phone": "+14155552671",
        }
    ]
    entries = read(tmp_path / "out" / "ledger_entries.csv")
    assert [(e["amount"], e["estimated_insurance"], e["amount_paid"]) for e in entries] == [
        ("123.40", "0.50", ""),
        ("-12.00", "", ""),
    ]
    (quarantined,) = read(tmp_path / "out" / "quarantine.csv")
    assert quarantined["reason"] == "amount_too_precise"
    assert quarantined["row_number"] == "3"
    assert '"amount": "1.999"' in quarantined["raw"]
