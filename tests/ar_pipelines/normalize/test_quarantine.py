"""Every defect sends its row to the quarantine under its own reason; none crashes a run."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from ar_pipelines.normalize.reasons import Reason
from tests.ar_pipelines.normalize.rows import (
    SETTINGS,
    default_normalizer,
    patient,
    run,
    transaction,
    transactions,
)

# A row carrying each defect the generator plants on transactions, and other bad rows.
DEFECTIVE: dict[str, tuple[dict[str, Any], Reason]] = {
    "empty amount": ({"amount": " "}, Reason.AMOUNT_MISSING),
    "text amount": ({"amount": "twelve"}, Reason.AMOUNT_UNPARSEABLE),
    "amount with a comma": ({"amount": "1,200.00"}, Reason.AMOUNT_UNPARSEABLE),
    "amount of a sign only": ({"amount": "-"}, Reason.AMOUNT_UNPARSEABLE),
    "full-width digits": ({"amount": "\uff11\uff12"}, Reason.AMOUNT_UNPARSEABLE),
    "precise amount": ({"amount": "12.345"}, Reason.AMOUNT_TOO_PRECISE),
    "precise four-decimal amount": ({"amount": "12.3450"}, Reason.AMOUNT_TOO_PRECISE),
    "huge amount": ({"amount": "10000000000.00"}, Reason.AMOUNT_OUT_OF_RANGE),
    "huge negative amount": ({"amount": "-99999999999"}, Reason.AMOUNT_OUT_OF_RANGE),
    "text estimate": ({"estimated_insurance_payment": "n/a"}, Reason.AMOUNT_UNPARSEABLE),
    "precise amount paid": ({"amount_paid": "1.0010"}, Reason.AMOUNT_TOO_PRECISE),
    "precise estimate": ({"estimated_insurance_payment": "1.0001"}, Reason.AMOUNT_TOO_PRECISE),
    "empty date": ({"transaction_date": None}, Reason.DATE_MISSING),
    "text date": ({"transaction_date": "yesterday"}, Reason.DATE_UNPARSEABLE),
    "impossible date": ({"transaction_date": "2025-02-29"}, Reason.DATE_UNPARSEABLE),
    "us date": ({"transaction_date": "03/02/2026"}, Reason.DATE_UNPARSEABLE),
    "impossible sikka date": ({"transaction_date": "2025-02-29T00:00:00"}, Reason.DATE_UNPARSEABLE),
    "future date": ({"transaction_date": "2026-05-16"}, Reason.DATE_IN_FUTURE),
    "future sikka date": ({"transaction_date": "2026-05-16T00:00:00"}, Reason.DATE_IN_FUTURE),
    "ancient date": ({"transaction_date": "1899-12-31"}, Reason.DATE_BEFORE_1900),
    "year one": ({"transaction_date": "0001-01-01"}, Reason.DATE_BEFORE_1900),
    "unknown transaction type": ({"transaction_type": "Transfer"}, Reason.UNKNOWN_TRANSACTION_TYPE),
    "no transaction type": ({"transaction_type": None}, Reason.UNKNOWN_TRANSACTION_TYPE),
    "unknown payment type": (
        {"transaction_type": "Payment", "payment_type": "BITCOIN"},
        Reason.UNKNOWN_PAYMENT_TYPE,
    ),
    "payment without a type": (
        {"transaction_type": "Payment", "payment_type": None},
        Reason.UNKNOWN_PAYMENT_TYPE,
    ),
    "adjustment of an unknown type": (
        {"transaction_type": "Adjustment", "payment_type": "XX"},
        Reason.UNKNOWN_PAYMENT_TYPE,
    ),
    "another practice's payment type": (
        {"practice_id": "P2", "transaction_type": "Payment", "payment_type": "CASH"},
        Reason.UNKNOWN_PAYMENT_TYPE,
    ),
    "missing patient": ({"patient_id": None}, Reason.PATIENT_MISSING),
    "unknown patient": ({"patient_id": "999"}, Reason.PATIENT_MISSING),
    "patient of another practice": ({"practice_id": "P2"}, Reason.PATIENT_MISSING),
    "patient without contact": ({"patient_id": "500"}, Reason.CUSTOMER_NOT_PUSHABLE),
    "zero-width space in the amount": ({"amount": "12\u200b.00"}, Reason.INVALID_CHARACTERS),
    "control character in the number": ({"sr_no": "4\x007"}, Reason.INVALID_CHARACTERS),
    "BOM in the number": ({"sr_no": "\ufeff47"}, Reason.INVALID_CHARACTERS),
    "NBSP inside the amount": ({"amount": "1\u00a0200.00"}, Reason.INVALID_CHARACTERS),
    "no transaction number": ({"sr_no": None}, Reason.ID_INVALID),
    "no practice": ({"practice_id": " "}, Reason.ID_INVALID),
    "external id too long for AR": ({"sr_no": "9" * 98}, Reason.ID_INVALID),
    "procedure code too long for AR": ({"procedure_code": "D" * 51}, Reason.ID_INVALID),
}
PATIENTS = (patient("100"), patient("500", email=None))


def quarantined(fields: dict[str, Any]) -> dict[str, Any]:
    fields = dict(fields)
    sr_no = fields.pop("sr_no", "42")
    result = run(transaction(sr_no, **fields), patient_rows=PATIENTS)
    assert result.counts.conserved
    assert len(result.ledger_entries) == 0
    (row,) = result.quarantine[result.quarantine["source"] == "transactions"].to_dict("records")
    return row


@pytest.mark.parametrize("name", DEFECTIVE)
def test_each_defect_is_quarantined_under_its_reason(name: str) -> None:
    fields, reason = DEFECTIVE[name]

    row = quarantined(fields)

    assert row["reason"] == reason, row["detail"]
    assert row["detail"]
    assert row["row_number"] == 1
    assert row["loaded_date"] == "2026-05-01 08:00:00"
    raw = json.loads(row["raw"])
    assert raw["transaction_sr_no"] == fields.get("sr_no", "42")


def test_details_name_the_field_and_the_value() -> None:
    assert quarantined({"amount": "12.345"})["detail"] == "amount '12.345' has more than 2 decimals"
    assert "'12\\u200b.00'" in quarantined({"amount": "12\u200b.00"})["detail"]
    assert quarantined({"patient_id": "999"})["detail"] == (
        "patient '999' is not a patient of practice 'P1'"
    )


def test_the_quarantine_keeps_the_id_as_given() -> None:
    row = quarantined({"sr_no": " 42 ", "amount": "x"})

    assert (row["source_id"], row["practice_id"]) == (" 42 ", "P1")


def test_the_first_failing_check_gives_the_reason() -> None:
    assert quarantined({"amount": "x", "transaction_date": None})["reason"] == (
        Reason.AMOUNT_UNPARSEABLE
    )
    assert quarantined({"amount": "1\u200b", "patient_id": None})["reason"] == (
        Reason.INVALID_CHARACTERS
    )
    assert quarantined({"transaction_date": "2100-01-01", "transaction_type": "?"})["reason"] == (
        Reason.DATE_IN_FUTURE
    )


def test_a_guarantor_the_practice_does_not_have_is_a_missing_patient() -> None:
    result = run(
        transaction("1", guarantor_id="404"),
        settings=replace(SETTINGS, bill_to="guarantor"),
    )

    assert result.quarantine["reason"].tolist() == [Reason.PATIENT_MISSING]
    assert "guarantor '404'" in result.quarantine["detail"].iloc[0]


def test_a_repeated_transaction_number_keeps_the_first_row_even_across_chunks() -> None:
    normalizer = default_normalizer()
    first = normalizer.transactions(
        transactions(transaction("1", amount="10"), transaction("2"), transaction("1", amount="11"))
    )
    second = normalizer.transactions(
        transactions(transaction("2", amount="12"), transaction("3"), transaction("3"))
    )

    assert first.ledger_entries["external_id"].tolist() == ["P1-1", "P1-2"]
    assert first.ledger_entries["amount"].tolist() == [10, 120]
    assert second.ledger_entries["external_id"].tolist() == ["P1-3"]
    quarantine = [*first.quarantine.to_dict("records"), *second.quarantine.to_dict("records")]
    assert [(q["row_number"], q["source_id"], q["reason"]) for q in quarantine] == [
        (3, "1", Reason.DUPLICATE_TRANSACTION),
        (4, "2", Reason.DUPLICATE_TRANSACTION),
        (6, "3", Reason.DUPLICATE_TRANSACTION),
    ]


def test_the_same_number_in_two_practices_is_not_a_duplicate() -> None:
    result = run(
        transaction("1"),
        transaction("1", practice_id="P2"),
        patient_rows=[patient("100"), patient("100", practice_id="P2")],
    )

    assert result.ledger_entries["external_id"].tolist() == ["P1-1", "P2-1"]


def test_a_duplicate_of_a_quarantined_row_is_still_a_duplicate() -> None:
    result = run(transaction("1", amount="bad"), transaction("1"))

    assert result.quarantine["reason"].tolist() == [
        Reason.AMOUNT_UNPARSEABLE,
        Reason.DUPLICATE_TRANSACTION,
    ]


def test_all_defects_in_one_chunk_still_conserve_rows() -> None:
    rows = []
    for number, (fields, _) in enumerate(DEFECTIVE.values()):
        fields = dict(fields)
        rows.append(transaction(fields.pop("sr_no", str(number)), **fields))
    rows.append(transaction("clean"))

    result = run(*rows, patient_rows=PATIENTS)

    assert result.counts.conserved
    assert result.ledger_entries["external_id"].tolist() == ["P1-clean"]
    assert sum(result.counts.transactions_quarantined.values()) == len(rows) - 1


def test_columns_a_reader_left_out_are_read_as_empty() -> None:
    frame = transactions(transaction("1")).drop(
        columns=["note", "payment_procedure_link_id", "amount_paid", "is_deleted"]
    )
    normalizer = default_normalizer()

    assert normalizer.transactions(frame).ledger_entries["external_id"].tolist() == ["P1-1"]


def test_the_raw_row_is_the_json_of_the_source_row_in_ascii() -> None:
    import numpy as np
    import pandas as pd

    from ar_pipelines.normalize.quarantine import raw_json

    frame = pd.DataFrame(
        {
            "note": ["lone \ud800 surrogate", None, 'quote " and \u00e9\n'],
            "flag": [True, 3, float("nan")],
            "when": [pd.Timestamp("2026-05-01 08:00"), 2.5, None],
        },
        dtype=object,
    )
    expected = [
        '{"note": "lone \\ud800 surrogate", "flag": true, "when": "2026-05-01 08:00:00"}',
        '{"note": null, "flag": 3, "when": "2.5"}',
        '{"note": "quote \\" and \\u00e9\\n", "flag": null, "when": null}',
    ]

    assert raw_json(frame, np.arange(3)) == expected
    assert [json.loads(text)["flag"] for text in expected] == [True, 3, None]
