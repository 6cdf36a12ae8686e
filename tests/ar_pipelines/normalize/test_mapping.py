"""Transactions to ledger entries: types, signs, voids, guarantors and the other fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.ar_pipelines.normalize.rows import patient, run, transaction


def entry(**fields: Any) -> dict[str, Any]:
    result = run(transaction("9", **fields))
    assert len(result.quarantine) == 0, result.quarantine.to_dict("records")
    (only,) = result.ledger_entries.to_dict("records")
    return only


@pytest.mark.parametrize(
    ("fields", "kind", "amount"),
    [
        ({"transaction_type": "Procedure", "amount": "120.00"}, "charge", "120.00"),
        ({"transaction_type": "Procedure", "amount": "-120"}, "charge", "120.00"),
        (
            {"transaction_type": "Payment", "payment_type": "INS", "amount": "80.5"},
            "insurance_payment",
            "-80.50",
        ),
        (
            {"transaction_type": "Payment", "payment_type": "INS", "amount": "-80.5"},
            "insurance_payment",
            "-80.50",
        ),
        (
            {"transaction_type": "Payment", "payment_type": "CASH", "amount": "40"},
            "patient_payment",
            "-40.00",
        ),
        (
            {"transaction_type": "Payment", "payment_type": "REF", "amount": "-25.00"},
            "other_debit",
            "25.00",
        ),
        (
            {"transaction_type": "Adjustment", "payment_type": "REF", "amount": "25.00"},
            "other_debit",
            "25.00",
        ),
        ({"transaction_type": "Adjustment", "amount": "15.25"}, "adjustment", "15.25"),
        (
            {"transaction_type": "Adjustment", "payment_type": "WO", "amount": "-15.25"},
            "other_credit",
            "-15.25",
        ),
        ({"transaction_type": "Adjustment", "amount": "-15.25"}, "other_credit", "-15.25"),
        (
            {"transaction_type": "Adjustment", "payment_type": "DEB", "amount": "-15.25"},
            "adjustment",
            "15.25",
        ),
        ({"transaction_type": "Adjustment", "amount": "0"}, "adjustment", "0.00"),
        (
            {"transaction_type": " pAyMeNt ", "payment_type": "CASH", "amount": "1"},
            "patient_payment",
            "-1.00",
        ),
    ],
)
def test_source_types_map_to_ledger_types_with_the_contract_sign(
    fields: dict[str, Any], kind: str, amount: str
) -> None:
    mapped = entry(**fields)

    assert mapped["transaction_type"] == kind
    assert mapped["amount"] == Decimal(amount)
    assert str(mapped["amount"]) == amount


def test_an_entry_carries_ids_date_insurance_and_procedure() -> None:
    mapped = entry(
        transaction_date="2026-03-02 00:00:00",
        amount="  120.00\u00a0",
        estimated_insurance_payment="80.00",
        insurance_payment="60",
        procedure_code=" D0120 ",
    )

    assert mapped == {
        "external_id": "P1-9",
        "customer_external_id": "P1-100",
        "transaction_date": "2026-03-02",
        "transaction_type": "charge",
        "amount": Decimal("120.00"),
        "amount_paid": Decimal("60.00"),
        "estimated_insurance": Decimal("80.00"),
        "payment_link_id": None,
        "procedure_code": "D0120",
        "description": "Periodic oral evaluation",
    }


def test_a_payment_links_to_its_procedure_and_takes_its_note_as_description() -> None:
    mapped = entry(
        transaction_type="Payment",
        payment_type="CASH",
        payment_link_id="7",
        procedure_code=None,
        procedure_description=None,
        note=" paid at the desk ",
        insurance_payment="5.00",
    )

    assert mapped["payment_link_id"] == "P1-7"
    assert mapped["description"] == "paid at the desk"
    assert mapped["amount_paid"] is None  # insurance_payment is read on procedures only


@pytest.mark.parametrize("flag", ["1", "true", "TRUE", "Yes", " yes "])
def test_a_row_marked_deleted_is_a_void_with_amount_zero(flag: str) -> None:
    mapped = entry(transaction_type="Payment", payment_type="INS", amount="50", is_deleted=flag)

    assert mapped["transaction_type"] == "insurance_payment"
    assert mapped["amount"] == Decimal("0.00")
    assert str(mapped["amount"]) == "0.00"


@pytest.mark.parametrize("flag", ["0", "false", "no", "maybe", None])
def test_other_deleted_flags_leave_the_row_as_it_is(flag: str | None) -> None:
    assert entry(is_deleted=flag)["amount"] == Decimal("120.00")


def test_deleted_rows_are_counted_as_voids() -> None:
    result = run(transaction("1", is_deleted="1"), transaction("2"))

    assert (result.counts.ledger_entries, result.counts.deleted) == (2, 1)


GUARANTOR_PRACTICE = {"practice_id": "P1", "bill_to": "guarantor"}
FAMILY = (
    patient("100", guarantor_id="200"),
    patient("200"),
    patient("300"),
    patient("400"),  # no guarantor: its own
)


@pytest.mark.parametrize(
    ("fields", "customer"),
    [
        ({"patient_id": "100"}, "P1-200"),  # the patient's guarantor
        ({"patient_id": "100", "guarantor_id": "300"}, "P1-300"),  # the transaction's
        ({"patient_id": "400"}, "P1-400"),  # a patient without one is billed itself
    ],
)
def test_practices_billing_guarantors_bill_the_guarantor(
    fields: dict[str, Any], customer: str
) -> None:
    result = run(
        transaction("1", **fields), patient_rows=FAMILY, practice_rows=[GUARANTOR_PRACTICE]
    )

    assert result.ledger_entries["customer_external_id"].tolist() == [customer]


def test_practices_billing_patients_ignore_guarantors() -> None:
    result = run(transaction("1", patient_id="100", guarantor_id="300"), patient_rows=FAMILY)

    assert result.ledger_entries["customer_external_id"].tolist() == ["P1-100"]


def test_practices_missing_from_the_settings_bill_patients_in_the_us() -> None:
    result = run(
        transaction("1", practice_id="P2"),
        patient_rows=[patient("100", practice_id="P2", email=None, cell="415 555 2671")],
    )

    assert result.customers["phone"].tolist() == ["+14155552671"]
    assert result.ledger_entries["customer_external_id"].tolist() == ["P2-100"]
