"""A ledger file as one typed DuckDB query, read by DuckDB's own CSV and parquet readers.

The file has the normalized ledger's columns (``LEDGER_ENTRIES`` without the practice,
as ``ar_pipelines.normalize.outputs`` writes them): money as decimal text or a decimal
column, dates as ``YYYY-MM-DD`` or a date column, an empty cell for a missing value.
Money with more than 2 fractional digits is refused rather than rounded, as AR refuses
it (``docs/contract.md#money``). Both dialects load a ledger file through this query:
DuckDB into a table, Postgres through a CSV file DuckDB writes from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from ar_pipelines.warehouse.errors import LedgerFileError
from ar_pipelines.warehouse.sql_text import DUCKDB_TYPES, literal
from ar_pipelines.warehouse.tables import LEDGER_ENTRIES, PRACTICE_ID, Column, ColumnType

LEDGER_TABLE = LEDGER_ENTRIES.name
LOADED_AT = "loaded_at"  # added by the load: when the rows were written
# A file is one practice's books, and says nothing of when it is loaded.
LEDGER_FILE_COLUMNS: tuple[Column, ...] = tuple(
    column for column in LEDGER_ENTRIES.columns if column.name not in (PRACTICE_ID, LOADED_AT)
)
REQUIRED_COLUMNS = (
    "external_id",
    "customer_external_id",
    "transaction_date",
    "transaction_type",
    "amount",
)
MONEY_TYPE = DUCKDB_TYPES[ColumnType.MONEY]
EXACT_MONEY_SOURCE_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")


def typed_ledger_query(connection: duckdb.DuckDBPyConnection, path: Path) -> str:
    """``select`` of the ledger's columns from ``path``, typed as the ledger table wants them."""
    reader = _reader(connection, path)
    present = _column_types(connection, reader)
    missing = [name for name in REQUIRED_COLUMNS if name not in present]
    if missing:
        raise LedgerFileError(f"the ledger {path} has no column {', '.join(missing)}")
    selected = [_typed(column, present.get(column.name)) for column in LEDGER_FILE_COLUMNS]
    return "select\n    " + ",\n    ".join(selected) + f"\nfrom {reader}"


@contextmanager
def ledger_load_errors(path: Path) -> Iterator[None]:
    """DuckDB's refusal of the file's values (a cast, money with more than 2 places)
    inside the block as a ``LedgerFileError``."""
    try:
        yield
    except duckdb.Error as err:
        reason = error_summary(err)
        raise LedgerFileError(f"cannot load the ledger {path}: {reason}") from err


def error_summary(err: BaseException) -> str:
    """The first paragraph of a database's message, on one line, without echoing the
    offending input line (it may hold a patient's details)."""
    paragraph = str(err).strip().split("\n\n")[0].splitlines()
    kept = [line.strip() for line in paragraph if not line.startswith("Original Line")]
    return " ".join(kept) or type(err).__name__


def _reader(connection: duckdb.DuckDBPyConnection, path: Path) -> str:
    name = path.name.lower()
    location = literal(str(path))
    if name.endswith(".parquet"):
        return f"read_parquet({location})"
    if not name.endswith((".csv", ".csv.gz")):
        raise LedgerFileError(f"the ledger must be a .csv or .parquet file, not {path.name}")
    # Known columns are read as the text they are, so that money can be checked before
    # it is cast; the header decides which of them are there.
    header = _column_types(connection, f"read_csv({location}, header = true, all_varchar = true)")
    read_as = {
        column.name: ColumnType.DATE if column.type is ColumnType.DATE else ColumnType.TEXT
        for column in LEDGER_FILE_COLUMNS
        if column.name in header
    }
    listed = ", ".join(
        f"{literal(column)}: {literal(DUCKDB_TYPES[kind])}" for column, kind in read_as.items()
    )
    return f"read_csv({location}, header = true, types = {{{listed}}})"


def _column_types(connection: duckdb.DuckDBPyConnection, reader: str) -> dict[str, str]:
    try:
        described = connection.execute(f"describe select * from {reader}").fetchall()  # noqa: S608
    except duckdb.Error as err:
        raise LedgerFileError(f"cannot read the ledger: {error_summary(err)}") from err
    return {str(row[0]): str(row[1]).upper() for row in described}


def _typed(column: Column, source_type: str | None) -> str:
    name, wanted = column.name, DUCKDB_TYPES[column.type]
    if source_type is None:
        return f"cast(null as {wanted}) as {name}"
    if column.type is not ColumnType.MONEY:
        return f"cast({name} as {wanted}) as {name}"
    exact = source_type in EXACT_MONEY_SOURCE_TYPES or (
        source_type.startswith("DECIMAL") and source_type.endswith((",0)", ",1)", ",2)"))
    )
    if exact:
        return f"cast({name} as {MONEY_TYPE}) as {name}"
    if source_type == "VARCHAR":
        too_precise = f"trim({name}) like '%.___%'"
    else:
        too_precise = f"cast({name} as decimal(38, 10)) <> cast({name} as {MONEY_TYPE})"
    refusal = (
        f"error('{name} ' || cast({name} as varchar) || ' of entry ' "
        f"|| coalesce(external_id, '(no external_id)') || ' has more than 2 decimal places')"
    )
    return f"case when {too_precise} then {refusal} else cast({name} as {MONEY_TYPE}) end as {name}"
