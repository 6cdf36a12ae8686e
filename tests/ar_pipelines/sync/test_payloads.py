"""The payload hash: the same wherever it is computed, equal exactly when AR would
receive the same values."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from ar_pipelines.sync import payload_hashes, records_frame
from ar_pipelines.sync.payloads import KINDS, frame_from_payloads, payload_json
from tests.ar_pipelines.warehouse.frames import customer_row, customers, ledger, ledger_row

LEDGER = KINDS["ledger_entries"]
ROOT = Path(__file__).resolve().parents[3]


def ledger_hash(**fields: object) -> str:
    frame = records_frame(ledger(ledger_row("E1", **fields)), LEDGER)  # type: ignore[arg-type]
    return str(payload_hashes(frame, LEDGER)[0])


def test_the_hash_is_the_same_in_another_process() -> None:
    script = (
        "from tests.ar_pipelines.sync.test_payloads import ledger_hash\n"
        "print(ledger_hash(description='Zoë'))\n"
    )
    other = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )

    assert other.stdout.strip() == ledger_hash(description="Zoë")


def test_the_hash_of_a_known_record_never_changes() -> None:
    # Pinned: a different hash here would make every push send every record again.
    assert ledger_hash() == "3d904877a7771203b2325373b73fe94b"


def test_equal_values_written_differently_hash_alike() -> None:
    assert ledger_hash(transaction_date="2024-01-15") == ledger_hash(
        transaction_date=date(2024, 1, 15)
    )
    assert ledger_hash(amount="10.5") == ledger_hash(amount="10.50")
    assert ledger_hash(amount_paid=Decimal("1.5")) == ledger_hash(amount_paid=Decimal("1.50"))


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "10.01"},
        {"transaction_date": "2024-01-16"},
        {"customer_external_id": "P1-C2"},
        {"transaction_type": "adjustment"},
        {"description": ""},
        {"description": "x"},
        {"procedure_code": "D1", "description": None},
        {"amount_paid": Decimal("0.00")},
    ],
)
def test_any_change_to_a_field_changes_the_hash(change: dict[str, object]) -> None:
    assert ledger_hash(**change) != ledger_hash()


def test_fields_cannot_trade_text_and_keep_the_hash() -> None:
    assert ledger_hash(procedure_code="ab", description="c") != ledger_hash(
        procedure_code="a", description="bc"
    )


def test_the_last_record_of_a_repeated_external_id_is_the_one_kept() -> None:
    frame = records_frame(ledger(ledger_row("E1", "1.00"), ledger_row("E1", "2.00")), LEDGER)

    assert frame["amount"].tolist() == [Decimal("2.00")]


def test_records_lacking_a_field_are_refused() -> None:
    with pytest.raises(ValueError, match="email"):
        records_frame(customers(customer_row("C1")).drop(columns="email"), KINDS["customers"])


def test_a_dead_letters_payload_reads_back_as_the_same_record() -> None:
    records = records_frame(
        ledger(ledger_row("E1", "-0.01", transaction_type="other_credit", description="Zoë")),
        LEDGER,
    )

    back = frame_from_payloads(pd.Series(payload_json(records)), LEDGER)

    assert back.to_dict("records") == records.to_dict("records")
    assert list(payload_hashes(back, LEDGER)) == list(payload_hashes(records, LEDGER))
