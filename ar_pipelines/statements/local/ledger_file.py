"""The ledger file as one typed DuckDB query, read by DuckDB's own CSV and parquet readers.

The file has the normalized ledger's columns (``ar_pipelines.normalize.outputs``):
money as decimal text or a decimal column, dates as ``YYYY-MM-DD`` or a date
column, an empty cell for a missing value. Money with more than 2 fractional
digits is refused rather than rounded, as AR refuses it (``docs/contract.md#money``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ar_pipelines.statements.local.errors import InvalidLedgerError

MONEY_TYPE = "decimal(14, 2)"
LEDGER_COLUMNS: dict[str, str] = {
    "external_id": "varchar",
    "customer_external_id": "varchar",
    "transaction_date": "date",
    "transaction_type": "varchar",
    "amount": MONEY_TYPE,
    "amount_paid": MONEY_TYPE,
    "estimated_insurance": MONEY_TYPE,
    "payment_link_id": "varchar",
    "procedure_code": "varchar",
    "description": "varchar",
}
REQUIRED_COLUMNS = (
    "external_id",
    "customer_external_id",
    "transaction_date",
    "transaction_type",
    "amount",
)
EXACT_MONEY_SOURCE_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def typed_ledger_query(connection: duckdb.DuckDBPyConnection, path: Path) -> str:
    """``select`` of the ledger's columns from ``path``, typed as the source table wants them."""
    reader = _reader(connection, path)
    present = _column_types(connection, reader)
    missing = [name for name in REQUIRED_COLUMNS if name not in present]
    if missing:
        raise InvalidLedgerError(f"the ledger {path} has no column {', '.join(missing)}")
    selected = [_typed(name, wanted, present.get(name)) for name, wanted in LEDGER_COLUMNS.items()]
    return "select\n    " + ",\n    ".join(selected) + f"\nfrom {reader}"


def _reader(connection: duckdb.DuckDBPyConnection, path: Path) -> str:
    name = path.name.lower()
    location = sql_string(str(path))
    if name.endswith(".parquet"):
        return f"read_parquet({location})"
    if not name.endswith((".csv", ".csv.gz")):
        raise InvalidLedgerError(f"the ledger must be a .csv or .parquet file, not {path.name}")
    # Known columns are read as the text they are, so that money can be checked before
    # it is cast; the header decides which of them are there.
    header = _column_types(connection, f"read_csv({location}, header = true, all_varchar = true)")
    types = {
        column: ("date" if kind == "date" else "varchar")
        for column, kind in LEDGER_COLUMNS.items()
        if column in header
    }
    listed = ", ".join(
        f"{sql_string(column)}: {sql_string(kind)}" for column, kind in types.items()
    )
    return f"read_csv({location}, header = true, types = {{{listed}}})"


def _column_types(connection: duckdb.DuckDBPyConnection, reader: str) -> dict[str, str]:
    try:
        described = connection.execute(f"describe select * from {reader}").fetchall()  # noqa: S608
    except duckdb.Error as err:
        raise InvalidLedgerError(f"cannot read the ledger: {error_summary(err)}") from err
    return {str(row[0]): str(row[1]).upper() for row in described}


def _typed(name: str, wanted: str, source_type: str | None) -> str:
    if source_type is None:
        return f"cast(null as {wanted}) as {name}"
    if wanted != MONEY_TYPE:
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


def error_summary(err: BaseException) -> str:
    """The first paragraph of a database's message, on one line, without echoing the
    offending input line (it may hold a patient's details)."""
    paragraph = str(err).strip().split("\n\n")[0].splitlines()
    kept = [line.strip() for line in paragraph if not line.startswith("Original Line")]
    return " ".join(kept) or type(err).__name__
