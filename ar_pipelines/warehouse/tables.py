"""Every warehouse table, declared once, with logical column types and keys.

Both dialects build their DDL from these declarations, and every write and read
converts values by them, so a column means the same thing on DuckDB and Postgres.
Column lists follow the modules that define the data (the source schema, the
normalizer's pandera schemas), so that a column added there is a column here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ar_pipelines.client.models import Statement
from ar_pipelines.normalize import schemas
from ar_pipelines.sources.schema import GUARANTOR_COLUMNS, PATIENT_COLUMNS, TRANSACTION_COLUMNS

PRACTICE_ID = "practice_id"


class ColumnType(StrEnum):
    TEXT = "text"
    MONEY = "money"  # NUMERIC(14,2) / DECIMAL(14,2), Decimal in Python
    DATE = "date"
    # Without a zone, both ways: a naive value is kept as given (a source's cursor is in
    # the source's own time), an aware one is converted to UTC first.
    TIMESTAMP = "timestamp"
    INTEGER = "integer"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = ColumnType.TEXT
    # Filled with the time of the write when the frame written lacks the column.
    default_now: bool = False


@dataclass(frozen=True)
class Table:
    """A table of the warehouse. ``key`` names the columns that identify a row (``upsert``
    replaces by them); a table without a key is only ever replaced per practice."""

    schema: str
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    @property
    def logical_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.logical_name} has no column {name!r}")

    def types(self) -> dict[str, ColumnType]:
        return {column.name: column.type for column in self.columns}


def _texts(names: tuple[str, ...], **types: ColumnType) -> tuple[Column, ...]:
    """``names`` in order, each text unless ``types`` says otherwise; practice_id first."""
    ordered = (PRACTICE_ID, *(name for name in names if name != PRACTICE_ID))
    return tuple(Column(name, types.get(name, ColumnType.TEXT)) for name in ordered)


def _now(name: str) -> Column:
    return Column(name, ColumnType.TIMESTAMP, default_now=True)


RAW_PATIENTS = Table("raw", "patients", (*_texts(PATIENT_COLUMNS), _now("extracted_at")))
RAW_GUARANTORS = Table("raw", "guarantors", (*_texts(GUARANTOR_COLUMNS), _now("extracted_at")))

# The latest increment read for the practice: quarantine row numbers count its rows.
RAW_TRANSACTIONS = Table(
    "raw", "transactions", (*_texts(TRANSACTION_COLUMNS), _now("extracted_at"))
)

CUSTOMERS = Table(
    "normalized",
    "customers",
    _texts(tuple(schemas.customers.columns)),
    key=(PRACTICE_ID, "external_id"),
)

MONEY_COLUMNS = ("amount", "amount_paid", "estimated_insurance")
LEDGER_ENTRIES = Table(
    "normalized",
    "ledger_entries",
    (
        *_texts(
            tuple(schemas.ledger_entries.columns),
            transaction_date=ColumnType.DATE,
            **dict.fromkeys(MONEY_COLUMNS, ColumnType.MONEY),
        ),
        _now("loaded_at"),  # dbt's source freshness reads it
    ),
    key=(PRACTICE_ID, "external_id"),
)

# The open quarantine: each source row's latest verdict. ``source_key`` names the row
# (``transactions:<sr_no>``, ``patients:<id>``, or its raw text when it has no id): a row
# read again replaces its entry, and leaves once it normalizes. ``row_number`` is its
# position in the extract that last read it.
QUARANTINE = Table(
    "normalized",
    "quarantine",
    (
        *_texts(tuple(schemas.quarantine.columns), row_number=ColumnType.INTEGER),
        Column("source_key"),
        _now("quarantined_at"),
    ),
)

# Verdicts on contact texts from earlier runs, so a run parses only emails and phones
# it has not met (``normalize.contacts``). ``kind`` names the check and the library's
# version (``email/2.4.0``, ``phone/US/9.0.43``); ``value`` is the normalized email or
# E.164 number, null when the text is not one.
CONTACT_BOOK = Table(
    "normalized",
    "contact_book",
    (Column(PRACTICE_ID), Column("kind"), Column("text"), Column("value")),
    key=(PRACTICE_ID, "kind", "text"),
)

# The source rows behind the practice's transactions, as far as the runs have seen them:
# one row per live source row, its ledger ``external_id`` and its row key (null when the
# source gives none, or where a run could not tell which row a deletion removed). A
# nightly run looks up only its increment's numbers and keys here, instead of scanning
# every key of the source, to settle numbers several rows hold (``sync.normalized``).
TRANSACTION_ROWS = Table(
    "normalized",
    "transaction_rows",
    (Column(PRACTICE_ID), Column("external_id"), Column("row_key")),
)

# What each customer was last built from: a hash of its source rows and of the settings
# that shape it, so that a run rebuilds only the customers whose inputs changed.
CUSTOMER_SOURCES = Table(
    "normalized",
    "customer_sources",
    (Column(PRACTICE_ID), Column("external_id"), Column("input_hash")),
    key=(PRACTICE_ID, "external_id"),
)

# AR's statements as last read back through the client, for reconciliation: the fields
# of the client's ``Statement``.
AR_STATEMENTS = Table(
    "ar",
    "statements",
    (
        *_texts(
            tuple(Statement.model_fields),
            **dict.fromkeys(("amount", "paid_amount", "outstanding"), ColumnType.MONEY),
            **dict.fromkeys(
                ("period_start", "period_end", "due_date", "issue_date"), ColumnType.DATE
            ),
            **dict.fromkeys(("created_at", "updated_at"), ColumnType.TIMESTAMP),
        ),
        # The customer the statement number names: a nightly read-back replaces the
        # statements of the customers it read, and only theirs.
        Column("customer_external_id"),
        _now("read_at"),
    ),
    key=(PRACTICE_ID, "id"),
)

PUSH_STATE = Table(
    "push",
    "state",
    (
        # kind: customers | ledger_entries;
        # last_result: created | updated | failed | rejected | unsent
        *_texts(("kind", "external_id", "payload_hash", "last_result", "message")),
        _now("pushed_at"),
        # A ledger entry's customer as last sent: an entry moved to another customer
        # changes the statements of both.
        Column("customer_external_id"),
    ),
    key=(PRACTICE_ID, "kind", "external_id"),
)

# The customers whose statements in AR a push may have changed since AR's statements
# were last read back: the customers of the ledger entries sent, before and after.
# Written before a slice is sent, cleared by the read-back that verified them.
TOUCHED_CUSTOMERS = Table(
    "push",
    "touched_customers",
    (*_texts(("customer_external_id",)), _now("touched_at")),
    key=(PRACTICE_ID, "customer_external_id"),
)

FAILED_AT = ("first_failed_at", "last_failed_at")
DEAD_LETTER = Table(
    "push",
    "dead_letter",
    # payload: the record as JSON text, money as exact decimal strings
    _texts(
        ("kind", "external_id", "payload", "reason", "attempts", *FAILED_AT),
        attempts=ColumnType.INTEGER,
        **dict.fromkeys(FAILED_AT, ColumnType.TIMESTAMP),
    ),
    key=(PRACTICE_ID, "kind", "external_id"),
)

CURSORS = Table(
    "push",
    "cursors",
    (*_texts(("name", "value"), value=ColumnType.TIMESTAMP), _now("updated_at")),
    key=(PRACTICE_ID, "name"),
)

# The practice's reconciliation, a row per statement number as the last reconciliation
# of its customer left it: a night reconciles the customers it verified and merges them
# in; the report is made from every row.
RECONCILED_MONEY = (
    "local_amount",
    "ar_amount",
    "amount_difference",
    "local_paid",
    "ar_paid",
    "paid_difference",
    "local_outstanding",
    "ar_outstanding",
)
RECONCILED = Table(
    "reconcile",
    "statements",
    _texts(
        (
            "key",
            "customer_external_id",
            "period_start",
            "status",
            *RECONCILED_MONEY,
            "ar_statement_id",
            "ar_status",
            "enrollment_status",
            "zeroed_in_ar",
        ),
        period_start=ColumnType.DATE,
        zeroed_in_ar=ColumnType.BOOLEAN,
        **dict.fromkeys(RECONCILED_MONEY, ColumnType.MONEY),
    ),
    key=(PRACTICE_ID, "key"),
)

TABLES: tuple[Table, ...] = (
    RAW_PATIENTS,
    RAW_GUARANTORS,
    RAW_TRANSACTIONS,
    CUSTOMERS,
    LEDGER_ENTRIES,
    QUARANTINE,
    CONTACT_BOOK,
    TRANSACTION_ROWS,
    CUSTOMER_SOURCES,
    AR_STATEMENTS,
    PUSH_STATE,
    DEAD_LETTER,
    CURSORS,
    TOUCHED_CUSTOMERS,
    RECONCILED,
)
SCHEMAS: tuple[str, ...] = tuple(dict.fromkeys(table.schema for table in TABLES))
_BY_NAME = {table.logical_name: table for table in TABLES}


def table_named(table: Table | str) -> Table:
    """A table by its declaration or its name (``"normalized.ledger_entries"``)."""
    if isinstance(table, Table):
        return table
    try:
        return _BY_NAME[table]
    except KeyError:
        known = ", ".join(sorted(_BY_NAME))
        raise KeyError(f"no warehouse table {table!r} (known: {known})") from None
