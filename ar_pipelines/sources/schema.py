"""The shape of a Sikka ONE source: Sikka's resources and fields, and the tables a loader
lands them in.

Sikka serves every value as text (amounts with four decimals, dates as
``2020-09-30T00:00:00``, empty fields as ``""``), so every landed column is text too;
the normalizer parses and validates. Field names are Sikka's own (``docs/sources.md``).

A loader (Fivetran, Airbyte, dlt, a script) adds columns of its own: a load timestamp,
which is the incremental cursor, sometimes a deleted flag, and an office id when one
database holds several offices. Which columns those are is a per-practice setting
(``SqlLayout``); nothing here requires them. The tables declared below are the ones the
demo generator and the tests write: Sikka's fields plus ``office_id``, ``_loaded_at``
and ``_row_id`` (the loader's row key, so that rows sharing a ``transaction_sr_no`` have a
stable order). The same tables are created on SQLite, Postgres and MySQL/MariaDB.

Readers hand the normalizer frames whose columns are ``*_COLUMNS`` below: Sikka's
fields, and on transactions ``is_deleted`` (``"true"`` for a row the source deleted,
read from ``practice_events`` or the loader's deleted flag), ``loaded_date`` (the
loader's cursor value as ``YYYY-MM-DD HH:MM:SS``; ``None`` from the REST API, whose
items carry no load time) and ``row_key`` (the loader's row key, ``SqlLayout.key_column``,
as text: it tells apart rows that share a ``transaction_sr_no``, and names the same row
when an edit loads it again. ``None`` from the REST API, whose items have no key but the
number, from a table without a key column, and on deletion events, whose own key is the
event's and not the row's).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
)
from sqlalchemy.engine import make_url

# Sikka's fields per resource, as the v4 API names them.
PRACTICE_FIELDS = ("practice_id", "name", "address_line1", "city", "state", "zipcode", "phone")
PAYMENT_TYPE_FIELDS = ("practice_id", "code", "description")
# Query filters in Sikka, not fields: a reader lists the types once per filter and marks
# each type it found with ``"true"``; a landed table may carry them as flag columns.
PAYMENT_TYPE_CLASSES = ("is_insurance_type", "is_adjustment_type", "is_debit_adjustment_type")
# Where a patient or a guarantor lives and how to reach them: the same fields on both.
CONTACT_FIELDS = (
    "address_line1",
    "city",
    "state",
    "zipcode",
    "cell",
    "homephone",
    "workphone",
    "email",
)
PATIENT_FIELDS = (
    "patient_id",
    "guarantor_id",
    "practice_id",
    "firstname",
    "middlename",
    "lastname",
    "preferred_name",
    "birthdate",
    "status",
    *CONTACT_FIELDS,
    "created_date",
)
GUARANTOR_FIELDS = (
    "guarantor_id",
    "patient_id",
    "practice_id",
    "firstname",
    "middlename",
    "lastname",
    "status",
    *CONTACT_FIELDS,
)
TRANSACTION_FIELDS = (
    "transaction_sr_no",
    "practice_id",
    "patient_id",
    "guarantor_id",
    "provider_id",
    "claim_sr_no",
    "transaction_type",
    "transaction_date",
    "transaction_entry_date",
    "amount",
    "payment_type",
    "procedure_code",
    "procedure_description",
    "estimated_insurance_payment",
    "primary_insurance_estimate",
    "quantity",
    "tooth_from",
    "tooth_to",
    "surface",
    "note",
    "payment_procedure_link_id",
    "amount_paid",
)
# Fields Sikka leaves out unless a call asks for them with ``fields=``.
PATIENT_EXTRA_FIELDS = ("homephone", "workphone")
TRANSACTION_EXTRA_FIELDS = ("payment_procedure_link_id", "amount_paid")
# ``practice_events`` items: the record's fields, plus these.
EVENT_FIELDS = ("flag", "loadeddate")
DELETED_FLAG = "deleted"  # compared without case: Sikka sends Deleted and deleted

# What readers add to transaction frames.
IS_DELETED = "is_deleted"
LOADED_DATE = "loaded_date"
ROW_KEY = "row_key"

PRACTICE_COLUMNS = PRACTICE_FIELDS
PAYMENT_TYPE_COLUMNS = (*PAYMENT_TYPE_FIELDS, *PAYMENT_TYPE_CLASSES)
PATIENT_COLUMNS = PATIENT_FIELDS
GUARANTOR_COLUMNS = GUARANTOR_FIELDS
TRANSACTION_COLUMNS = (*TRANSACTION_FIELDS, IS_DELETED, LOADED_DATE, ROW_KEY)
# What a key scan gives: the ledger id's two parts, and the row key (``None`` without one).
KEY_SCAN_COLUMNS = ("practice_id", "transaction_sr_no", ROW_KEY)

# The loader's columns in the tables below (the demo's and the tests' loader).
OFFICE_ID = "office_id"
LOADED_AT = "_loaded_at"
ROW_ID = "_row_id"

metadata = MetaData()

ID = 64  # identifiers: office, practice, patient, transaction, claim, provider
SHORT = 64  # codes, flags, amounts and dates as text
NAME = 255


def _texts(names: tuple[str, ...], *, long: tuple[str, ...] = ()) -> list[Column[str]]:
    width = {"name": NAME, "description": NAME, "procedure_description": NAME, "email": NAME}
    return [
        Column(name, Text) if name in long else Column(name, String(width.get(name, SHORT)))
        for name in names
    ]


practices = Table(
    "practices",
    metadata,
    Column(OFFICE_ID, String(ID)),
    *_texts(PRACTICE_FIELDS),
)

payment_types = Table(
    "payment_types",
    metadata,
    Column(OFFICE_ID, String(ID)),
    *_texts(PAYMENT_TYPE_FIELDS),
    *_texts(PAYMENT_TYPE_CLASSES),
)

patients = Table(
    "patients",
    metadata,
    Column(OFFICE_ID, String(ID)),
    *_texts(PATIENT_FIELDS),
    Column(LOADED_AT, DateTime, nullable=False),
    Index("ix_patients_office_practice", OFFICE_ID, "practice_id"),
)

guarantors = Table(
    "guarantors",
    metadata,
    Column(OFFICE_ID, String(ID)),
    *_texts(GUARANTOR_FIELDS),
    Column(LOADED_AT, DateTime, nullable=False),
)

transactions = Table(
    "transactions",
    metadata,
    Column(ROW_ID, Integer, primary_key=True, autoincrement=True),
    Column(OFFICE_ID, String(ID)),
    *_texts(TRANSACTION_FIELDS, long=("note",)),
    Column(LOADED_AT, DateTime, nullable=False),
    Index("ix_transactions_loaded", LOADED_AT),
    Index("ix_transactions_office_practice_loaded", OFFICE_ID, "practice_id", LOADED_AT),
)

# ``practice_events?events=transactions`` as a loader lands it: each event is the
# record's fields with its ``flag`` and ``loadeddate``.
practice_events = Table(
    "practice_events",
    metadata,
    Column(ROW_ID, Integer, primary_key=True, autoincrement=True),
    Column(OFFICE_ID, String(ID)),
    Column("events", String(SHORT)),  # the resource: "transactions"
    *_texts(EVENT_FIELDS),
    *_texts(TRANSACTION_FIELDS, long=("note",)),
    Column(LOADED_AT, DateTime, nullable=False),
    Index("ix_practice_events_loaded", LOADED_AT),
)

TABLES = {
    table.name: table
    for table in (practices, payment_types, patients, guarantors, transactions, practice_events)
}


def normalize_url(url: str) -> str:
    """Plain ``postgresql://`` and ``mysql://`` URLs get the drivers this project ships."""
    for prefix, driver in (
        ("postgres://", "postgresql+psycopg://"),
        ("postgresql://", "postgresql+psycopg://"),
        ("mysql://", "mysql+pymysql://"),
        ("mariadb://", "mysql+pymysql://"),
    ):
        if url.startswith(prefix):
            return driver + url[len(prefix) :]
    return url


def source_engine(url: str, *, must_exist: bool = False) -> Engine:
    """An engine for a source database by URL (SQLite, Postgres or MySQL/MariaDB).

    A SQLite file that is to be read (``must_exist``) must be there: connecting would
    otherwise make an empty one and the read would fail later, less clearly. One that
    is to be written gets its directory made.
    """
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database or "")
        if must_exist and not path.is_file():
            raise FileNotFoundError(f"no SQLite source database at {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "mysql":
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return create_engine(parsed)


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine)
