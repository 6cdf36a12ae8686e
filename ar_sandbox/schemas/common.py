"""Shared field types and the response envelopes (``docs/contract.md#api-responses``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, Self, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

T = TypeVar("T")

MONEY_LIMIT = Decimal(10) ** 10
CENT = Decimal("0.01")
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def _exact_money(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("amount must be a finite number")
    if abs(value) >= MONEY_LIMIT:
        raise ValueError("amount must be less than 10^10 in absolute value")
    if value != value.quantize(CENT):
        raise ValueError("amount must have at most 2 decimal places")
    return value.quantize(CENT)


def _reject_bool(value: Any) -> Any:
    if isinstance(value, bool | str):
        raise ValueError("amount must be a JSON number")
    if isinstance(value, float):
        # Only reachable when a caller bypasses the Decimal-parsing JSON route.
        return Decimal(repr(value)) if math.isfinite(value) else Decimal("NaN")
    return value


def _as_json_number(value: Decimal) -> float:
    # A two-decimal amount below 10^10 has at most 12 significant digits, so the
    # shortest float repr is exactly the decimal: JSON carries it without loss.
    return float(value)


_MONEY_SCHEMA = WithJsonSchema({"type": "number", "multipleOf": 0.01, "examples": [240.0]})

Money = Annotated[
    Decimal,
    BeforeValidator(_reject_bool),
    AfterValidator(_exact_money),
    PlainSerializer(_as_json_number, return_type=float, when_used="json"),
    _MONEY_SCHEMA,
]
"""A request amount: a JSON number with at most two decimals, |x| < 10^10."""

MoneyOut = Annotated[
    Decimal,
    PlainSerializer(_as_json_number, return_type=float, when_used="json"),
    WithJsonSchema({"type": "number"}),
]


def clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError("text must be valid Unicode") from err
    return value


Text = Annotated[str, AfterValidator(clean_text)]
"""A string every backend can store (no NUL, no lone surrogates)."""


# Length bounds sit on the string itself, before the cleaning, so that a refusal
# reads "String should have at most N characters".
_clean = AfterValidator(clean_text)
Str50 = Annotated[str, StringConstraints(max_length=50), _clean]
Str64 = Annotated[str, StringConstraints(max_length=64), _clean]
Str100 = Annotated[str, StringConstraints(max_length=100), _clean]
Str255 = Annotated[str, StringConstraints(max_length=255), _clean]
LongText = Annotated[str, StringConstraints(max_length=10_000), _clean]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=255), _clean]
LedgerExternalId = Annotated[str, StringConstraints(min_length=1, max_length=100), _clean]

MAX_JSON_DEPTH = 32


def _plain_json(value: Any, depth: int = 0) -> Any:
    """``value`` as a standard JSON parser would read it, or a ValueError.

    Bodies parse non-integers as ``Decimal`` (for money); free-form JSON gets them
    back as floats, which must be finite to be written out again. Every string and
    key must be storable text, and the nesting is bounded so that writing it out
    cannot exhaust the stack.
    """
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"JSON must not be nested more than {MAX_JSON_DEPTH} levels deep")
    if isinstance(value, dict):
        return {clean_text(str(k)): _plain_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_json(item, depth + 1) for item in value]
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Decimal | float):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError("JSON numbers must be finite and within the range of a double")
        return number
    if value is None or isinstance(value, bool | int):
        return value
    raise ValueError("value is not JSON")


def _plain_json_object(value: dict[str, Any]) -> dict[str, Any]:
    plain: dict[str, Any] = _plain_json(value)
    return plain


JsonObject = Annotated[dict[Str255, Any], AfterValidator(_plain_json_object)]
"""A free-form JSON object every backend can store and every client can read back."""


def _in_supported_range(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(f"date must be between {EARLIEST_DATE} and {LATEST_DATE}")
    return value


BusinessDate = Annotated[date, AfterValidator(_in_supported_range)]


def _utc_iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds") + "Z"


Timestamp = Annotated[
    datetime,
    PlainSerializer(_utc_iso, return_type=str, when_used="json"),
]


# Envelopes always carry every field, defaults included: the document says so.
_ALWAYS_SENT = ConfigDict(json_schema_serialization_defaults_required=True)


class Envelope(BaseModel, Generic[T]):
    """Every success: ``{"success": true, "status_code": 200, "message", "data"}``."""

    model_config = _ALWAYS_SENT

    success: Literal[True] = True
    status_code: int = 200
    message: str
    data: T


class ErrorItem(BaseModel):
    """One problem: the record ``index`` in a batch (if any), the ``field`` and its ``loc``."""

    model_config = ConfigDict(extra="allow", json_schema_serialization_defaults_required=True)

    index: int | None = None
    field: str | None = None
    loc: str | None = None
    message: str


class ErrorEnvelope(BaseModel):
    """Every error: ``{"success": false, "status_code", "message", "errors": [...]}``."""

    model_config = _ALWAYS_SENT

    success: Literal[False] = False
    status_code: int
    message: str
    errors: list[ErrorItem] = Field(default_factory=list)


# A list's query parameters are two models: its filters, then the paging.

QueryText = Annotated[Text, Field(min_length=1, max_length=255)]
"""A text query parameter: never empty."""


class Paging(BaseModel):
    """Which page of a list to answer, and how long pages are."""

    page: Annotated[int, Field(ge=1, description="Page number, min 1.")] = 1
    per_page: Annotated[int, Field(ge=1, le=100)] = 20


class ByCustomer(BaseModel):
    """Filters that narrow a list to one customer's rows, if they name one."""

    customer_id: UUID | None = None
    customer_external_id: QueryText | None = None


class PageInfo(BaseModel):
    total: int
    page: int
    per_page: int
    total_pages: int


class ItemPage(PageInfo):
    """One page of a list: the paging fields, and the items under the name the list gives
    them (its one other field)."""

    @classmethod
    def of(cls, items: Sequence[Any], info: PageInfo) -> Self:
        (name,) = cls.model_fields.keys() - PageInfo.model_fields.keys()
        return cls(**{name: items}, **info.model_dump())


class RecordError(BaseModel):
    """A per-record failure inside a 200 response."""

    index: int
    external_id: str | None = None
    error: str


class Counts(BaseModel):
    """What a bulk write did with the records it was given, one way each."""

    total: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0


class UpsertCounts(Counts):
    errors: list[RecordError] = Field(default_factory=list)


class StatementCounts(Counts):
    allocations_created: int = 0


class CustomerRecord(BaseModel):
    """A bulk record, upserted by ``external_id``, that names its customer by id or by
    external id. Each record type narrows ``external_id`` to its own bounds."""

    external_id: str
    customer_id: UUID | None = None
    customer_external_id: Str255 | None = None

    @model_validator(mode="after")
    def _names_a_customer(self) -> Self:
        if self.customer_id is None and not self.customer_external_id:
            raise PydanticCustomError(
                "customer_required",
                "customer_id or customer_external_id is required",
                {"field": "customer_external_id"},
            )
        return self


class RowOut(BaseModel):
    """A response made from a stored row: each field is the row's attribute of that name."""

    @classmethod
    def of(cls, row: Any) -> Self:
        return cls.read(row)

    @classmethod
    def read(cls, row: Any, **values: Any) -> Self:
        """This model of ``row``, but for the fields given in ``values``: a row attribute
        of another name, or a value the row does not store."""
        stored = {name: getattr(row, name) for name in cls.model_fields if name not in values}
        return cls(**stored, **values)
