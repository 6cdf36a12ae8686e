"""Customer schemas (002). Requests accept camelCase names as documented, or snake_case."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any, Self

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ar_sandbox.aggregator import statement_number
from ar_sandbox.schemas.common import (
    ItemPage,
    JsonObject,
    QueryText,
    RowOut,
    Str100,
    Str255,
    Text,
    Timestamp,
    UpsertCounts,
    clean_text,
)

E164 = re.compile(r"\+[1-9][0-9]{1,14}")
MAX_CUSTOMERS = 100
JSON_FIELDS = ("tags", "custom_fields", "communication_preferences")  # stored as JSON text
# Statement numbers embed the customer's external_id ("STMT-2026-05-PT-001") and
# are stored in the 255 characters of an invoice number.
MAX_EXTERNAL_ID = 255 - len(statement_number(date(2000, 1, 1), ""))
CustomerExternalId = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_EXTERNAL_ID), AfterValidator(clean_text)
]


def _e164(value: str) -> str:
    if not E164.fullmatch(value):
        raise ValueError("phone must be in E.164 format, for example +15550001234")
    return value


def _email(value: str) -> str:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as err:
        raise ValueError(f"email is not valid: {err}") from err
    return value


Phone = Annotated[
    Text,
    AfterValidator(_e164),
    WithJsonSchema(
        {"type": "string", "pattern": f"^{E164.pattern}$", "examples": ["+15550001234"]}
    ),
]
Email = Annotated[
    Text,
    Field(max_length=320),
    AfterValidator(_email),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": 320}),
]


class CustomerFields(BaseModel):
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    email: Email | None = None
    phone: Phone | None = None
    first_name: Str255 | None = Field(None, alias="firstName")
    last_name: Str255 | None = Field(None, alias="lastName")
    company_name: Str255 | None = Field(None, alias="companyName")
    external_id: CustomerExternalId | None = None
    tags: Annotated[list[Str100], Field(max_length=50)] | None = None
    custom_fields: JsonObject | None = None
    communication_preferences: dict[Str100, bool] | None = None

    def _require_contact(self) -> None:
        if not self.email and not self.phone:
            raise PydanticCustomError(
                "contact_required", "email or phone is required", {"field": "email"}
            )


class CustomerCreate(CustomerFields):
    @model_validator(mode="after")
    def _has_contact(self) -> CustomerCreate:
        self._require_contact()
        return self


class CustomerBulkRecord(CustomerFields):
    external_id: CustomerExternalId

    @model_validator(mode="after")
    def _has_contact(self) -> CustomerBulkRecord:
        self._require_contact()
        return self


class CustomerUpdate(CustomerFields):
    """Fields to change; what is not sent stays as it is."""


class CustomerBulkRequest(BaseModel):
    customers: Annotated[list[CustomerBulkRecord], Field(min_length=1, max_length=MAX_CUSTOMERS)]


class CustomerOut(RowOut):
    id: str
    company_id: str
    external_id: str | None
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    company_name: str | None
    tags: list[str]
    custom_fields: dict[str, Any]
    communication_preferences: dict[str, Any]
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, row: Any) -> Self:
        return cls.read(row, **{name: json.loads(getattr(row, name)) for name in JSON_FIELDS})


class CustomerQuery(BaseModel):
    search: QueryText | None = None
    tags: QueryText | None = Field(None, description="Comma-separated; any tag matches.")


class CustomerPage(ItemPage):
    customers: list[CustomerOut]


CustomerBulkResult = UpsertCounts
