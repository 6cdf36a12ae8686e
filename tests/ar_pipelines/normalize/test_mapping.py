"""Transactions to ledger entries: the mapping table of ``docs/sources.md`` driven by the
practice's settings, signs, voids, guarantors and the other fields."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from ar_pipelines.normalize import Normalizer, PracticeSettings
from ar_pipelines.normalize.reasons import Reason
from ar_pipelines.normalize.transactions import LEDGER_TYPES, LedgerType
from tests.ar_pipelines.normalize.rows import (
    SETTINGS,
    guarantor,
    patient,
    patients,
    payment_types,
    run,
    transaction,
)


def entry(settings: PracticeSettings = SETTINGS, **fields: Any) -> dict[str, Any]:
    result = run(transaction("9", **fields), settings=settings)
    assert len(result.quarantine) == 0, result.quarantine.to_dict("records")
    (only,) = result.ledger_entries.to_dict("records")
    return only


def quarantined(settings: PracticeSettings = SETTINGS, **fields: Any) -> dict[str, Any]:
    result = run(transaction("9", **fields), settings=settings)
    assert len(result.ledger_entries) == 0
    (row,) = result.quarantine.to_dict("records")
    return row


MappingRow = tuple[str, str | None, str, str, str]


def either_sign(
    label: str, payment_type: str | None, amount: str, kind: str, signed: str
) -> list[MappingRow]:
    """The row for ``amount`` and the row for its negative, which map alike."""
    return [(label, payment_type, sign + amount, kind, signed) for sign in ("", "-")]


# Every row of the mapping table: label kind x payment-type class x sign of the amount.
# Default types: CASH (no class), INS (insurance), REF (refund, by the settings), DEB
# (debit adjustment), WO (credit adjustment).
TABLE: list[MappingRow] = [
    # procedure: a charge, whatever the sign
    *either_sign("Procedure", None, "120.0000", "charge", "120.00"),
    ("Procedure", "INS", "-5.0000", "charge", "5.00"),
    # payment, insurance class: a credit
    *either_sign("Payment", "INS", "80.5000", "insurance_payment", "-80.50"),
    # payment, other types: a patient payment
    *either_sign("Payment", "CASH", "40.0000", "patient_payment", "-40.00"),
    ("Payment", "DEB", "40.0000", "patient_payment", "-40.00"),
    ("Payment", "WO", "40.0000", "patient_payment", "-40.00"),
    # payment, refund list: a debit
    *either_sign("Payment", "REF", "25.0000", "other_debit", "25.00"),
    # adjustment, debit-adjustment type: a debit
    *either_sign("Adjustment", "DEB", "15.2500", "adjustment", "15.25"),
    # adjustment, credit-adjustment type: a credit
    *either_sign("Adjustment", "WO", "15.2500", "other_credit", "-15.25"),
    # adjustment, no class: the sign says
    ("Adjustment", None, "15.2500", "adjustment", "15.25"),
    ("Adjustment", None, "0.0000", "adjustment", "0.00"),
    ("Adjustment", None, "-15.2500", "other_credit", "-15.25"),
    ("Adjustment", "CASH", "15.2500", "adjustment", "15.25"),
    ("Adjustment", "CASH", "-15.2500", "other_credit", "-15.25"),
    ("Adjustment", "INS", "-15.2500", "other_credit", "-15.25"),
    # adjustment of a refund type: a debit (the refund list wins over the sign)
    *either_sign("Adjustment", "REF", "25.0000", "other_debit", "25.00"),
]


@pytest.mark.parametrize(("label", "payment_type", "amount", "kind", "signed"), TABLE)
def test_every_row_of_the_mapping_table_gives_its_ledger_type_and_sign(
    label: str, payment_type: str | None, amount: str, kind: str, signed: str
) -> None:
    mapped = entry(transaction_type=label, payment_type=payment_type, amount=amount)

    assert (mapped["transaction_type"], mapped["amount"]) == (kind, Decimal(signed))
    assert str(mapped["amount"]) == signed


def test_each_ledger_type_code_stands_for_the_type_of_its_name() -> None:
    assert [LEDGER_TYPES[code] for code in LedgerType] == [code.name.lower() for code in LedgerType]
    assert sorted(LedgerType) == list(range(len(LEDGER_TYPES)))
    # and the mapping table above reaches every one of them
    assert {kind for *_, kind, _ in TABLE} == set(LEDGER_TYPES)


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        (" pAyMeNt ", "patient_payment"),
        ("Paysplit", "patient_payment"),
        ("PROC", "charge"),
        ("Charge", "charge"),
        ("\u00a0adj\t", "adjustment"),
    ],
)
def test_default_labels_match_trimmed_and_without_case(label: str, kind: str) -> None:
    assert entry(transaction_type=label, payment_type="CASH")["transaction_type"] == kind


def test_labels_come_from_the_settings_and_others_are_not_guessed() -> None:
    settings = replace(
        SETTINGS, procedure_labels=("Svc",), payment_labels=("Pmt",), adjustment_labels=("Fix",)
    )

    assert entry(settings, transaction_type="svc")["transaction_type"] == "charge"
    assert entry(settings, transaction_type="PMT", payment_type="INS")["transaction_type"] == (
        "insurance_payment"
    )
    assert entry(settings, transaction_type="Fix", payment_type="WO")["transaction_type"] == (
        "other_credit"
    )
    row = quarantined(settings, transaction_type="Procedure")
    assert row["reason"] == Reason.UNKNOWN_TRANSACTION_TYPE
    assert "'Procedure'" in row["detail"]


def test_an_unmapped_label_is_quarantined_naming_the_label() -> None:
    row = quarantined(transaction_type="Transfer", payment_type="CASH")

    assert row["reason"] == Reason.UNKNOWN_TRANSACTION_TYPE
    assert "transaction_type 'Transfer'" in row["detail"]


def test_a_label_of_two_kinds_is_refused_when_the_normalizer_is_made() -> None:
    settings = PracticeSettings(payment_labels=("Payment", "Adj"))

    with pytest.raises(ValueError, match="'Adj'"):
        Normalizer(settings=settings, payment_types=payment_types(), patients=patients())


@pytest.mark.parametrize("label", ["Payment", "Adjustment"])
def test_an_unknown_payment_type_is_quarantined(label: str) -> None:
    row = quarantined(transaction_type=label, payment_type="GIFT")

    assert row["reason"] == Reason.UNKNOWN_PAYMENT_TYPE
    assert "'GIFT'" in row["detail"]


def test_a_payment_without_a_payment_type_is_quarantined() -> None:
    assert quarantined(transaction_type="Payment")["reason"] == Reason.UNKNOWN_PAYMENT_TYPE


@pytest.mark.parametrize(
    ("payment_type", "kind"),
    [
        ("INS", "insurance_payment"),  # by code
        ("Insurance", "insurance_payment"),  # by description
        (" insurance\u00a0", "insurance_payment"),  # description trimmed, any case
        ("Cash", "patient_payment"),
    ],
)
def test_a_payment_type_is_found_by_code_then_by_description(payment_type: str, kind: str) -> None:
    mapped = entry(transaction_type="Payment", payment_type=payment_type)

    assert mapped["transaction_type"] == kind


def test_a_code_wins_over_another_types_description() -> None:
    types = (
        {"practice_id": "P1", "code": "7", "description": "Delta"},
        {
            "practice_id": "P1",
            "code": "Delta",
            "description": "Delta Dental",
            "is_insurance_type": "true",
        },
    )
    result = run(
        transaction("1", transaction_type="Payment", payment_type="Delta"),
        transaction("2", transaction_type="Payment", payment_type="delta"),
        type_rows=types,
    )

    # "Delta" is a code; "delta" is no code (codes keep their case), so it is a description.
    assert result.ledger_entries["transaction_type"].tolist() == [
        "insurance_payment",
        "patient_payment",
    ]


def test_codes_keep_their_case() -> None:
    assert quarantined(transaction_type="Payment", payment_type="ins")["reason"] == (
        Reason.UNKNOWN_PAYMENT_TYPE
    )


@pytest.mark.parametrize("flag", ["true", "TRUE", "1", " yes "])
def test_the_sources_class_flags_are_read_as_truthy_text(flag: str) -> None:
    types = ({"practice_id": "P1", "code": "X", "is_insurance_type": flag},)
    result = run(transaction("1", transaction_type="Payment", payment_type="X"), type_rows=types)

    assert result.ledger_entries["transaction_type"].tolist() == ["insurance_payment"]


@pytest.mark.parametrize("flag", ["false", "0", None])
def test_other_class_flags_leave_the_type_without_the_class(flag: str | None) -> None:
    types = ({"practice_id": "P1", "code": "X", "is_insurance_type": flag},)
    result = run(transaction("1", transaction_type="Payment", payment_type="X"), type_rows=types)

    assert result.ledger_entries["transaction_type"].tolist() == ["patient_payment"]


@pytest.mark.parametrize(
    ("setting", "listed", "label", "amount", "kind"),
    [
        ("insurance_payment_types", ("CASH",), "Payment", "10.0000", "insurance_payment"),
        ("insurance_payment_types", (" cash ",), "Payment", "10.0000", "insurance_payment"),
        ("debit_adjustment_types", ("Cash",), "Adjustment", "-10.0000", "adjustment"),
        ("credit_adjustment_types", ("CASH",), "Adjustment", "10.0000", "other_credit"),
        ("refund_payment_types", ("cash",), "Payment", "-10.0000", "other_debit"),
        ("refund_payment_types", ("CASH",), "Adjustment", "-10.0000", "other_debit"),
    ],
)
def test_the_settings_lists_add_classes_by_code_or_description(
    setting: str, listed: tuple[str, ...], label: str, amount: str, kind: str
) -> None:
    settings = replace(SETTINGS, **{setting: listed})

    mapped = entry(settings, transaction_type=label, payment_type="CASH", amount=amount)

    assert mapped["transaction_type"] == kind


def test_without_the_settings_lists_a_refund_is_a_plain_payment() -> None:
    mapped = entry(PracticeSettings(), transaction_type="Payment", payment_type="REF")

    assert mapped["transaction_type"] == "patient_payment"


@pytest.mark.parametrize(
    ("amount", "kind"), [("9.0000", "adjustment"), ("-9.0000", "other_credit")]
)
def test_an_adjustment_type_of_both_classes_is_read_by_its_sign(amount: str, kind: str) -> None:
    settings = replace(SETTINGS, credit_adjustment_types=("DEB",))

    mapped = entry(settings, transaction_type="Adjustment", payment_type="DEB", amount=amount)

    assert mapped["transaction_type"] == kind


def test_payment_types_are_the_practices_own() -> None:
    row = quarantined(
        practice_id="P2", patient_id="100", transaction_type="Payment", payment_type="CASH"
    )

    assert row["reason"] == Reason.UNKNOWN_PAYMENT_TYPE


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("24.0000", "24.00"),
        ("-61.5000", "-61.50"),
        ("24.00000000", "24.00"),
        ("24.000", "24.00"),
        ("24.5", "24.50"),
        ("24", "24.00"),
        ("0.0000", "0.00"),
    ],
)
def test_zeros_past_the_cents_are_exact(text: str, cents: str) -> None:
    mapped = entry(transaction_type="Adjustment", amount=text)

    assert str(mapped["amount"]) == cents


@pytest.mark.parametrize("text", ["24.1250", "24.0001", "-61.5050", "0.0010", "24.001"])
def test_any_other_digit_past_the_cents_is_quarantined_not_rounded(text: str) -> None:
    row = quarantined(amount=text)

    assert row["reason"] == Reason.AMOUNT_TOO_PRECISE
    assert repr(text) in row["detail"]


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2020-09-30T00:00:00", "2020-09-30"),
        ("2020-09-30", "2020-09-30"),
        ("2020-09-30T23:59:59", "2020-09-30"),  # the date it is written on
        ("2020-09-30T14:05", "2020-09-30"),
    ],
)
def test_sikka_dates_are_read_as_the_day_they_name(text: str, day: str) -> None:
    assert entry(transaction_date=text)["transaction_date"] == day


@pytest.mark.parametrize("text", ["2020-09-31T00:00:00", "30/09/2020", "2020-09-30T25"])
def test_impossible_or_foreign_dates_are_quarantined(text: str) -> None:
    assert quarantined(transaction_date=text)["reason"] == Reason.DATE_UNPARSEABLE


def test_an_entry_carries_ids_date_insurance_and_procedure() -> None:
    mapped = entry(
        transaction_date="2026-03-02T00:00:00",
        amount="  120.0000\u00a0",
        estimated_insurance_payment="80.0000",
        amount_paid="60.0000",
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
        payment_procedure_link_id="7",
        procedure_code=None,
        procedure_description=None,
        note=" paid at the desk ",
        amount_paid="5.0000",
    )

    assert mapped["payment_link_id"] == "P1-7"
    assert mapped["description"] == "paid at the desk"
    assert mapped["amount_paid"] is None  # amount_paid is read on procedures only


def test_a_too_precise_amount_paid_quarantines_a_procedure() -> None:
    assert quarantined(amount_paid="60.0050")["reason"] == Reason.AMOUNT_TOO_PRECISE


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
    result = run(transaction("1", is_deleted="true"), transaction("2"))

    assert (result.counts.ledger_entries, result.counts.deleted) == (2, 1)


BILLS_GUARANTOR = replace(SETTINGS, bill_to="guarantor")
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
    result = run(transaction("1", **fields), patient_rows=FAMILY, settings=BILLS_GUARANTOR)

    assert result.ledger_entries["customer_external_id"].tolist() == [customer]


def test_practices_billing_patients_ignore_guarantors() -> None:
    result = run(
        transaction("1", patient_id="100", guarantor_id="300"),
        patient_rows=FAMILY,
        guarantor_rows=[guarantor("300")],
    )

    assert result.ledger_entries["customer_external_id"].tolist() == ["P1-100"]
    assert result.customers["external_id"].tolist() == ["P1-100", "P1-200", "P1-300", "P1-400"]


def test_a_guarantor_who_is_not_a_patient_is_billed_from_the_guarantors_frame() -> None:
    result = run(
        transaction("1", patient_id="100", guarantor_id="500"),
        transaction("2", patient_id="600"),
        patient_rows=[patient("100"), patient("600", guarantor_id="500")],
        guarantor_rows=[
            guarantor("500", email=None, cell=None, homephone="(212) 555-0123"),
            guarantor("100", firstname="Not", lastname="Read"),  # a patient: its row is used
        ],
        settings=BILLS_GUARANTOR,
    )

    assert result.ledger_entries["customer_external_id"].tolist() == ["P1-500", "P1-500"]
    customers = result.customers.set_index("external_id").to_dict("index")
    assert customers["P1-500"] == {
        "first_name": "Gary",
        "last_name": "Payer",
        "email": None,
        "phone": "+12125550123",
    }
    assert customers["P1-100"]["first_name"] == "Jane"
    assert (result.counts.patients, result.counts.customers) == (3, 3)
    assert result.counts.conserved


def test_a_guarantor_is_not_a_patient_a_transaction_may_name() -> None:
    result = run(
        transaction("1", patient_id="500"),
        guarantor_rows=[guarantor("500")],
        settings=BILLS_GUARANTOR,
    )

    (row,) = result.quarantine.to_dict("records")
    assert row["reason"] == Reason.PATIENT_MISSING
    assert "patient '500'" in row["detail"]


def test_a_guarantor_without_a_contact_is_quarantined_as_a_guarantor() -> None:
    result = run(
        transaction("1", patient_id="100", guarantor_id="500"),
        guarantor_rows=[guarantor("400"), guarantor("500", email=None)],
        settings=BILLS_GUARANTOR,
    )

    by_source = result.quarantine.set_index("source")
    row = by_source.loc["guarantors"].to_dict()
    assert (row["reason"], row["source_id"], row["row_number"]) == (
        Reason.CONTACT_MISSING,
        "500",
        2,
    )
    assert '"guarantor_id": "500"' in row["raw"]
    assert by_source.loc["transactions", "reason"] == Reason.CUSTOMER_NOT_PUSHABLE
    assert result.counts.conserved


def test_the_phone_region_comes_from_the_settings() -> None:
    result = run(
        transaction("1"),
        patient_rows=[patient("100", email=None, cell="020 7946 0958")],
        settings=replace(SETTINGS, phone_region="GB"),
    )

    assert result.customers["phone"].tolist() == ["+442079460958"]
    assert result.ledger_entries["customer_external_id"].tolist() == ["P1-100"]
