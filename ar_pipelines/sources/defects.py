"""The defects a source row may carry (``spec/SOURCE.md``, "Bad input is data"), each
with the reason code the quarantine gives it. The generator plants every kind; the
normalizer must send every planted row to the quarantine under its code."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a source row was quarantined. Values are stable: finance filters on them."""

    # transactions
    AMOUNT_MISSING = "amount_missing"  # empty or absent amount
    AMOUNT_UNPARSEABLE = "amount_unparseable"  # text in a numeric field
    AMOUNT_TOO_PRECISE = "amount_too_precise"  # more than 2 decimals
    AMOUNT_OUT_OF_RANGE = "amount_out_of_range"  # |amount| >= 10^10
    DATE_MISSING = "date_missing"
    DATE_UNPARSEABLE = "date_unparseable"
    DATE_IN_FUTURE = "date_in_future"
    DATE_BEFORE_1900 = "date_before_1900"
    UNKNOWN_TRANSACTION_TYPE = "unknown_transaction_type"
    UNKNOWN_PAYMENT_TYPE = "unknown_payment_type"
    PATIENT_MISSING = "patient_missing"  # no patient id, or one the practice does not have
    DUPLICATE_TRANSACTION = "duplicate_transaction"  # transaction_sr_no seen twice
    INVALID_CHARACTERS = "invalid_characters"  # control or invisible characters in an id or number
    CUSTOMER_NOT_PUSHABLE = "customer_not_pushable"  # its customer has no usable contact
    ID_INVALID = "id_invalid"  # an id missing or repeated, or an id or code longer than AR stores
    # patients
    PHONE_UNPARSEABLE = "phone_unparseable"
    EMAIL_MALFORMED = "email_malformed"
    CONTACT_MISSING = "contact_missing"  # neither email nor phone


class Defect(StrEnum):
    """A defect the demo generator can plant, named by what it does to the row."""

    EMPTY_AMOUNT = "empty_amount"
    TEXT_AMOUNT = "text_amount"
    PRECISE_AMOUNT = "precise_amount"
    HUGE_AMOUNT = "huge_amount"
    EMPTY_DATE = "empty_date"
    TEXT_DATE = "text_date"
    FUTURE_DATE = "future_date"
    ANCIENT_DATE = "ancient_date"
    UNKNOWN_TRANSACTION_TYPE = "unknown_transaction_type"
    UNKNOWN_PAYMENT_TYPE = "unknown_payment_type"
    MISSING_PATIENT = "missing_patient"
    DUPLICATE_SR_NO = "duplicate_sr_no"
    INVISIBLE_CHARACTERS = "invisible_characters"
    BAD_PHONE = "bad_phone"
    BAD_EMAIL = "bad_email"
    NO_CONTACT = "no_contact"


# Where each planted defect must end up.
EXPECTED_REASON: dict[Defect, Reason] = {
    Defect.EMPTY_AMOUNT: Reason.AMOUNT_MISSING,
    Defect.TEXT_AMOUNT: Reason.AMOUNT_UNPARSEABLE,
    Defect.PRECISE_AMOUNT: Reason.AMOUNT_TOO_PRECISE,
    Defect.HUGE_AMOUNT: Reason.AMOUNT_OUT_OF_RANGE,
    Defect.EMPTY_DATE: Reason.DATE_MISSING,
    Defect.TEXT_DATE: Reason.DATE_UNPARSEABLE,
    Defect.FUTURE_DATE: Reason.DATE_IN_FUTURE,
    Defect.ANCIENT_DATE: Reason.DATE_BEFORE_1900,
    Defect.UNKNOWN_TRANSACTION_TYPE: Reason.UNKNOWN_TRANSACTION_TYPE,
    Defect.UNKNOWN_PAYMENT_TYPE: Reason.UNKNOWN_PAYMENT_TYPE,
    Defect.MISSING_PATIENT: Reason.PATIENT_MISSING,
    Defect.DUPLICATE_SR_NO: Reason.DUPLICATE_TRANSACTION,
    Defect.INVISIBLE_CHARACTERS: Reason.INVALID_CHARACTERS,
    Defect.BAD_PHONE: Reason.PHONE_UNPARSEABLE,
    Defect.BAD_EMAIL: Reason.EMAIL_MALFORMED,
    Defect.NO_CONTACT: Reason.CONTACT_MISSING,
}
PATIENT_DEFECTS = frozenset({Defect.BAD_PHONE, Defect.BAD_EMAIL, Defect.NO_CONTACT})
