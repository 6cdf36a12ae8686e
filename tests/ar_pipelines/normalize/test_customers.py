"""Patients to customers: names, email, phone, and the patients that cannot be pushed."""

from __future__ import annotations

from typing import Any

import pytest

from ar_pipelines.normalize import Normalizer
from ar_pipelines.normalize.reasons import Reason
from ar_pipelines.normalize.settings import PracticeSettings
from tests.ar_pipelines.normalize.rows import patient, patients, payment_types


def normalizer(*rows: dict[str, Any], region: str = "US") -> Normalizer:
    return Normalizer(
        settings=PracticeSettings(phone_region=region),
        payment_types=payment_types(),
        patients=patients(*rows),
    )


def only_customer(*rows: dict[str, Any], region: str = "US") -> dict[str, Any]:
    built = normalizer(*rows, region=region)
    assert len(built.patient_quarantine) == 0, built.patient_quarantine.to_dict("records")
    (customer,) = built.customers.to_dict("records")
    return customer


def only_quarantined(*rows: dict[str, Any]) -> dict[str, Any]:
    built = normalizer(*rows)
    assert len(built.customers) == 0
    (row,) = built.patient_quarantine.to_dict("records")
    return row


def test_a_patient_becomes_a_customer_keyed_by_practice_and_patient() -> None:
    customer = only_customer(patient("100", cell="(415) 555-2671"))

    assert customer == {
        "external_id": "P1-100",
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "jane100@example.com",
        "phone": "+14155552671",
    }


def test_names_lose_surrounding_whitespace_and_nbsp_and_are_put_in_nfc() -> None:
    decomposed = "Jose\u0301"
    customer = only_customer(
        patient(firstname="\u00a0 " + decomposed + "\t", lastname=" Doe\u00a0")
    )

    assert customer["first_name"] == "Jos\u00e9"
    assert customer["last_name"] == "Doe"


def test_ids_and_email_are_trimmed_of_surrounding_whitespace_too() -> None:
    customer = only_customer(
        patient(" 100\u00a0", practice_id="\u00a0P1 ", email=" a@example.com ")
    )

    assert customer["external_id"] == "P1-100"
    assert customer["email"] == "a@example.com"


@pytest.mark.parametrize(
    ("text", "region", "e164"),
    [
        ("(415) 555-2671", "US", "+14155552671"),
        ("415.555.2671", "US", "+14155552671"),
        ("+1 415 555 2671", "US", "+14155552671"),
        ("1-415-555-2671", "US", "+14155552671"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 20 7946 0958", "US", "+442079460958"),
    ],
)
def test_phones_are_read_in_the_practice_region_and_written_in_e164(
    text: str, region: str, e164: str
) -> None:
    customer = only_customer(patient(email=None, cell=text), region=region)

    assert customer["phone"] == e164


def test_the_phone_is_the_first_of_cell_home_and_work_that_is_valid() -> None:
    customer = only_customer(
        patient(cell="12", homephone="not a phone", workphone="(212) 555-0123")
    )

    assert customer["phone"] == "+12125550123"


@pytest.mark.parametrize(
    ("phones", "e164"),
    [
        ({"cell": "(415) 555-2671", "homephone": "(212) 555-0123"}, "+14155552671"),
        (
            {"cell": None, "homephone": "(212) 555-0123", "workphone": "(415) 555-2671"},
            "+12125550123",
        ),
        ({"cell": " ", "homephone": None, "workphone": "(415) 555-2671"}, "+14155552671"),
    ],
)
def test_without_a_cell_the_phone_falls_back_to_home_then_work(
    phones: dict[str, Any], e164: str
) -> None:
    assert only_customer(patient(email=None, **phones))["phone"] == e164


def test_one_bad_contact_is_dropped_when_the_other_is_good() -> None:
    bad_email = only_customer(patient(email="jane@@example", cell="(415) 555-2671"))
    bad_phone = only_customer(patient(email="jane@example.com", cell="555"))

    assert (bad_email["email"], bad_email["phone"]) == (None, "+14155552671")
    assert (bad_phone["email"], bad_phone["phone"]) == ("jane@example.com", None)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"email": None, "cell": "555-12"}, Reason.PHONE_UNPARSEABLE),
        ({"email": None, "cell": None, "homephone": "call me"}, Reason.PHONE_UNPARSEABLE),
        ({"email": "jane.example.com"}, Reason.EMAIL_MALFORMED),
        ({"email": "jane@", "cell": "123"}, Reason.EMAIL_MALFORMED),
        ({"email": None}, Reason.CONTACT_MISSING),
        ({"email": " \u00a0 ", "cell": " "}, Reason.CONTACT_MISSING),
    ],
)
def test_a_patient_without_a_usable_contact_is_quarantined_with_the_specific_reason(
    fields: dict[str, Any], reason: Reason
) -> None:
    row = only_quarantined(patient("7", **fields))

    assert row["reason"] == reason
    assert (row["source"], row["practice_id"], row["source_id"], row["row_number"]) == (
        "patients",
        "P1",
        "7",
        1,
    )
    assert row["detail"]
    assert '"patient_id": "7"' in row["raw"]


def test_patients_with_unusable_ids_are_quarantined() -> None:
    built = normalizer(
        patient("1"),
        patient(None),
        patient("1", firstname="Again"),
        patient("2\u200b"),
    )

    reasons = built.patient_quarantine.set_index("row_number")["reason"].to_dict()
    assert reasons == {
        2: Reason.ID_INVALID,
        3: Reason.ID_INVALID,
        4: Reason.INVALID_CHARACTERS,
    }
    assert built.customers["external_id"].tolist() == ["P1-1"]
    assert built.customers["first_name"].tolist() == ["Jane"]


def test_every_patient_is_a_customer_or_a_quarantine_row() -> None:
    built = normalizer(patient("1"), patient("2", email="x"), patient("3", email=None))

    assert len(built.customers) + len(built.patient_quarantine) == 3
