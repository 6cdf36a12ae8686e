"""What the client sends: typed records for the bulk endpoints and single calls.

The records check types only (a date is a date, an amount a finite decimal of at
most 15 digits, which a JSON number carries exactly); the business rules (signs, two
decimals, lengths) are the server's to judge, so that the client never drifts from
it. A record that fails here is rejected before sending, with pydantic's reason.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, NotRequired

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, TypeAdapter, with_config
from typing_extensions import TypedDict


def json_number(value: Decimal) -> float:
    """``value`` as the float whose shortest text is exactly the decimal: a decimal of at
    most 15 significant digits survives the round trip through a double unchanged."""
    return float(value)


# Finite (pydantic's default for decimals) and at most 15 digits, both checked in the
# validator's compiled core, so that ``json_number`` is exact.
Amount = Annotated[
    Decimal,
    Field(max_digits=15),
    PlainSerializer(json_number, return_type=float, when_used="json"),
]


class Record(BaseModel):
    """A request record: unknown fields are refused (a typo must not drop data)."""

    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True)

    def payload(self) -> dict[str, Any]:
        """The JSON-ready body of this record, without fields left unset."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def json_bytes(self) -> bytes:
        """``payload()`` as JSON text, written in one call to pydantic's serializer."""
        return self.__pydantic_serializer__.to_json(self, by_alias=True, exclude_none=True)


class LedgerEntryRecord(Record):
    """ExternalLedgerEntryRecord: one raw transaction, upserted by ``external_id``."""

    external_id: str
    customer_id: str | None = None
    customer_external_id: str | None = None
    transaction_date: date
    transaction_type: str
    amount: Amount
    amount_paid: Amount | None = None
    estimated_insurance: Amount | None = None
    payment_link_id: str | None = None
    procedure_code: str | None = None
    description: str | None = None


class CustomerRecord(Record):
    """ExternalCustomerRecord, sent with the documented camelCase names."""

    external_id: str | None = None
    email: str | None = None
    phone: str | None = None
    first_name: str | None = Field(None, alias="firstName")
    last_name: str | None = Field(None, alias="lastName")
    company_name: str | None = Field(None, alias="companyName")
    tags: list[str] | None = None
    custom_fields: dict[str, Any] | None = None
    communication_preferences: dict[str, bool] | None = None


class InvoiceRecord(Record):
    """ExternalInvoiceRecord: one account (invoice), upserted by ``external_id``."""

    external_id: str
    customer_id: str | None = None
    customer_external_id: str | None = None
    invoice_number: str | None = None
    amount: Amount
    currency: str | None = None
    issue_date: date
    due_date: date
    description: str | None = None


class PaymentRecord(Record):
    """A payment against an account. With an ``external_id`` it is safe to resend."""

    amount: Amount
    payment_date: date | None = None
    payment_method: str | None = None
    reference: str | None = None
    external_id: str | None = None


class DisputeRecord(Record):
    reason: str
    description: str | None = None
    amount: Amount | None = None


@cache
def plain_fields(model: type[Record]) -> TypeAdapter[Any] | None:
    """The record's fields as a ``TypedDict``, for checking plain mappings quickly.

    Checking a mapping into a model instance and then writing it out costs about
    twice as much as checking it into a dict with the same rules: on a push of
    hundreds of thousands of entries that is most of the client's CPU. Models with
    aliases (camelCase customers) keep the model path: a dict has one name per key.
    """
    fields = model.model_fields
    if any(f.alias or f.validation_alias for f in fields.values()):
        return None
    keys: dict[str, Any] = {}
    for name, info in fields.items():
        kind = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        keys[name] = kind if info.is_required() else NotRequired[kind]
    shape = TypedDict(f"{model.__name__}Fields", keys)  # type: ignore[misc]
    return TypeAdapter(with_config(ConfigDict(extra="forbid"))(shape))


def encode(body: Any) -> bytes:
    """A JSON body; payloads are already JSON-ready, so anything else is a bug here."""
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
