"""The defects the demo generator plants in a source row, each with the reason code the
normalizer must quarantine it under (``ar_pipelines.normalize.reasons``)."""

from __future__ import annotations

from enum import StrEnum

from ar_pipelines.normalize.reasons import Reason


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
