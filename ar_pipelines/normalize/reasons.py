"""Why a source row was quarantined: one stable code per kind of bad input."""

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
