"""The Sikka-shaped tables the pipelines read (``spec/SOURCE.md``), as SQLAlchemy Core.

Values are text, as Sikka serves them: amounts, dates and flags arrive as strings and
may be malformed; the normalizer parses and validates them. Only what this project
adds is typed: ``loaded_date`` (when the row was loaded, the incremental cursor), the
surrogate ``row_id`` of a transaction (``transaction_sr_no`` may repeat, which is a
defect to report, not a key) and the per-practice settings. The same tables are
created on SQLite, Postgres and MySQL/MariaDB.
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

metadata = MetaData()

ID = 64  # identifiers: practice, patient, transaction, claim, provider
SHORT = 64  # codes, flags, amounts and dates as text
NAME = 255

practices = Table(
    "practices",
    metadata,
    Column("practice_id", String(ID), primary_key=True),
    Column("practice_name", String(NAME)),
    # Per-practice settings: who is billed ("patient" or "guarantor") and the region
    # phones without a country code are read in (ISO 3166 alpha-2).
    Column("bill_to", String(16), nullable=False, server_default="patient"),
    Column("phone_region", String(2), nullable=False, server_default="US"),
)

payment_types = Table(
    "payment_types",
    metadata,
    Column("practice_id", String(ID), primary_key=True),
    Column("code", String(SHORT), primary_key=True),
    Column("description", String(NAME)),
    Column("is_insurance_type", String(8)),
    Column("is_adjustment_type", String(8)),
    Column("is_debit_adjustment_type", String(8)),
    Column("is_refund_type", String(8)),  # ours: refunds map to other_debit
)

patients = Table(
    "patients",
    metadata,
    Column("practice_id", String(ID), primary_key=True),
    Column("patient_id", String(ID), primary_key=True),
    Column("guarantor_id", String(ID)),
    Column("firstname", String(NAME)),
    Column("middlename", String(NAME)),
    Column("lastname", String(NAME)),
    Column("preferred_name", String(NAME)),
    Column("email", String(NAME)),
    Column("cell", String(SHORT)),
    Column("homephone", String(SHORT)),
    Column("workphone", String(SHORT)),
    Column("birthdate", String(SHORT)),
    Column("status", String(SHORT)),
    Column("address_line1", String(NAME)),
    Column("city", String(NAME)),
    Column("state", String(SHORT)),
    Column("zipcode", String(SHORT)),
    Column("created_date", String(SHORT)),
    Column("loaded_date", DateTime, nullable=False),
    Index("ix_patients_loaded", "loaded_date"),
)

transactions = Table(
    "transactions",
    metadata,
    Column("row_id", Integer, primary_key=True, autoincrement=True),
    Column("transaction_sr_no", String(ID)),
    Column("practice_id", String(ID), nullable=False),
    Column("patient_id", String(ID)),
    Column("guarantor_id", String(ID)),
    Column("provider_id", String(ID)),
    Column("claim_sr_no", String(ID)),
    Column("transaction_type", String(SHORT)),
    Column("transaction_date", String(SHORT)),
    Column("transaction_entry_date", String(SHORT)),
    Column("amount", String(SHORT)),
    Column("payment_type", String(SHORT)),
    Column("procedure_code", String(SHORT)),
    Column("procedure_description", String(NAME)),
    Column("quantity", String(SHORT)),
    Column("tooth_from", String(SHORT)),
    Column("tooth_to", String(SHORT)),
    Column("surface", String(SHORT)),
    Column("estimated_insurance_payment", String(SHORT)),
    Column("primary_insurance_estimate", String(SHORT)),
    Column("insurance_payment", String(SHORT)),
    Column("note", Text),
    Column("payment_link_id", String(ID)),  # a payment's procedure (its transaction_sr_no)
    Column("is_deleted", String(8)),  # "1"/"true" marks a row the practice deleted
    Column("loaded_date", DateTime, nullable=False),
    Index("ix_transactions_loaded", "loaded_date"),
    Index("ix_transactions_practice_loaded", "practice_id", "loaded_date"),
)

TRANSACTION_COLUMNS = tuple(c.name for c in transactions.columns if c.name != "row_id")
PATIENT_COLUMNS = tuple(c.name for c in patients.columns)


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
