"""``Warehouse``: the operations every dialect offers, and what they share.

The public operations check and convert frames by the declarations in ``tables.py``
and then hand the dialect a frame that has exactly the table's columns; the dialects
(``duckdb_store``, ``postgres_store``) only move rows. A warehouse opened for a ledger
file (the statements command) holds no declared table: only the ledger file's entries
(``load_ledger_file``) and the models dbt builds from them (``export_marts``).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, TypedDict, Unpack

import pandas as pd

from ar_pipelines.clock import utc_now
from ar_pipelines.closing import Closing
from ar_pipelines.warehouse.errors import WarehouseSchemaError
from ar_pipelines.warehouse.frames import for_write
from ar_pipelines.warehouse.location import Location
from ar_pipelines.warehouse.marts import MART_EXPORTS, ExportedFile, export_query
from ar_pipelines.warehouse.sql_text import Filters, add_column, column_list, quote, select
from ar_pipelines.warehouse.tables import (
    CURSORS,
    LEDGER_ENTRIES,
    PRACTICE_ID,
    TABLES,
    ColumnType,
    Table,
    table_named,
)

Dialect = Literal["duckdb", "postgres"]
PREFIX = re.compile(r"[a-z_][a-z0-9_]{0,39}")
DEFAULT_CHUNK_ROWS = 100_000
IN_GROUP = 5_000  # values of one ``read_in`` query


class Selection(TypedDict, total=False):
    """Which rows and columns a read takes: the practice's rows (``practice_id``), those
    equal to ``where`` column by column, the ``columns`` named (every one by default)."""

    practice_id: str | None
    columns: Sequence[str] | None
    where: Mapping[str, object] | None


@dataclass(frozen=True)
class Write:
    """Prepared rows (``frames.for_write``) to insert into ``table``, after deleting the
    practice's rows (``practice_id``) or the rows with the same key (``by_key``)."""

    table: Table
    rows: pd.DataFrame
    practice_id: str | None = None
    by_key: bool = False


class Warehouse(Closing, ABC):
    """Raw rows, normalized records, push state and dbt's models, in one database.

    A context manager; schemas and tables are made (idempotently) when it opens.
    ``schema_prefix`` puts every schema under a prefix (``t1_raw``, ``t1_normalized``,
    ``t1_push``), so that tests or tenants can share one database. ``for_ledger_file``
    makes none of them: the warehouse holds a ledger file's entries and dbt's models.
    """

    dialect: ClassVar[Dialect]
    # How a parameter is marked in this dialect's SQL, for ``query``.
    placeholder: ClassVar[str]
    # Makes a text column, ``{}``, compare by its bytes in an ``order by``.
    bytewise: ClassVar[str]

    def __init__(
        self, location: Location, *, schema_prefix: str = "", for_ledger_file: bool = False
    ) -> None:
        if schema_prefix and not PREFIX.fullmatch(schema_prefix):
            raise ValueError("schema_prefix must be lowercase letters, digits and underscores")
        self.location = location
        self.schema_prefix = schema_prefix
        self.for_ledger_file = for_ledger_file

    # Names ----------------------------------------------------------------------------

    def schema_name(self, schema: str) -> str:
        return f"{self.schema_prefix}{schema}"

    def relation(self, table: Table | str) -> str:
        """The quoted, qualified name of a table, for SQL handed to ``query``."""
        declared = table_named(table)
        return self.qualified(self.schema_name(declared.schema), declared.name)

    def qualified(self, *names: str) -> str:
        """A schema, or a relation in one (``schema, name``), quoted and qualified."""
        return ".".join(quote(name) for name in names)

    @property
    @abstractmethod
    def dbt_schema(self) -> str:
        """The schema dbt builds its models in (the marts ``query`` may read)."""

    @property
    def ledger_schema(self) -> str:
        """The schema of the ledger table, dbt's source: ``normalized``."""
        return self.schema_name(LEDGER_ENTRIES.schema)

    def dbt_vars(self) -> dict[str, str]:
        """dbt's project variables that point its source at the ledger table."""
        return {"ledger_schema": self.ledger_schema, "ledger_table": LEDGER_ENTRIES.name}

    @abstractmethod
    def dbt_env(self) -> dict[str, str]:
        """The environment ``dbt_project/profiles.yml`` reads for this database, target
        included. It may hold the database password (as dbt's secret variable): hand it
        to dbt's process only, never to a log."""

    # Writes ---------------------------------------------------------------------------

    def replace(self, table: Table | str, frame: pd.DataFrame, *, practice_id: str) -> int:
        """Delete the practice's rows and insert ``frame``, in one transaction. The frame
        may leave out ``practice_id``; where it has one, it must be this practice."""
        declared = table_named(table)
        prepared = for_write(declared, _of_practice(frame, practice_id), now=utc_now())
        self._write(Write(declared, prepared, practice_id=practice_id))
        return len(prepared)

    def append(self, table: Table | str, frame: pd.DataFrame) -> int:
        """Insert ``frame`` into a table without a key (raw rows, the quarantine): a large
        extract goes in a chunk at a time, after ``replace`` with its first chunk."""
        declared = table_named(table)
        if declared.key:
            raise ValueError(f"{declared.logical_name} has a key: upsert into it")
        self._write(Write(declared, for_write(declared, frame, now=utc_now())))
        return len(frame)

    def upsert(self, table: Table | str, frame: pd.DataFrame) -> int:
        """Delete the rows whose key is in ``frame`` and insert ``frame``, in one
        transaction. Each key may appear once, and no key column may be missing."""
        declared = table_named(table)
        if not declared.key:
            raise ValueError(f"{declared.logical_name} has no key: replace it per practice")
        prepared = for_write(declared, frame, now=utc_now())
        keys = prepared.loc[:, list(declared.key)]
        if keys.isna().to_numpy().any():
            raise ValueError(f"{declared.logical_name}: a key column is missing a value")
        if keys.duplicated().any():
            raise ValueError(f"{declared.logical_name}: the frame repeats a key")
        self._write(Write(declared, prepared, by_key=True))
        return len(prepared)

    def delete(
        self,
        table: Table | str,
        *,
        practice_id: str,
        column: str,
        values: Collection[object],
        where: Mapping[str, object] | None = None,
    ) -> int:
        """Delete the practice's rows whose ``column`` is one of ``values`` (and that match
        ``where``, equality per column); returns how many went."""
        declared = table_named(table)
        declared.column(column)
        if not values:
            return 0
        return self._delete(declared, self._filters(declared, practice_id, where), column, values)

    # Reads ----------------------------------------------------------------------------

    def read(self, table: Table | str, **selection: Unpack[Selection]) -> pd.DataFrame:
        """Rows of a table (of one practice, matching ``where``), in key order."""
        chunks = list(self._selected(table, selection, chunk_rows=None))
        return chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)

    def read_chunks(
        self,
        table: Table | str,
        *,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        **selection: Unpack[Selection],
    ) -> Iterator[pd.DataFrame]:
        """As ``read``, in frames of at most about ``chunk_rows`` rows (DuckDB hands rows
        over in vectors of 2,048, so a chunk is a multiple of that)."""
        if chunk_rows < 1:
            raise ValueError("chunk_rows must be at least 1")
        return self._selected(table, selection, chunk_rows=chunk_rows)

    def _selected(
        self, table: Table | str, selection: Selection, *, chunk_rows: int | None
    ) -> Iterator[pd.DataFrame]:
        declared = table_named(table)
        names = self._columns(declared, selection.get("columns"))
        filters = self._filters(declared, selection.get("practice_id"), selection.get("where"))
        return self._select(declared, names, filters, chunk_rows=chunk_rows)

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Rows of any query in this dialect (parameters marked ``placeholder``: ``?`` on
        DuckDB, ``%s`` on Postgres); DECIMAL/NUMERIC as ``Decimal``, text ``str``/``None``,
        dates ``date``, timestamps naive (UTC when the column had a zone)."""

    # Queries -------------------------------------------------------------------------

    def count(self, table: Table | str, *, practice_id: str) -> int:
        """How many rows of the practice ``table`` holds."""
        counted = self.query(
            f"select count(*) as n from {self.relation(table)}"  # noqa: S608 - declared names
            f" where {quote(PRACTICE_ID)} = {self.placeholder}",
            [practice_id],
        )
        return int(counted["n"].iloc[0])

    def existing(
        self, table: Table | str, *, practice_id: str, column: str, values: Sequence[object]
    ) -> set[Any]:
        """Those of ``values`` that some row of the practice holds in ``column``."""
        table_named(table).column(column)
        if not values:
            return set()
        mark = self.placeholder
        marks = ", ".join([mark] * len(values))
        found = self.query(
            f"select {quote(column)} from {self.relation(table)}"  # noqa: S608 - declared names
            f" where {quote(PRACTICE_ID)} = {mark} and {quote(column)} in ({marks})",
            [practice_id, *values],
        )
        return set(found[column])

    def read_in(
        self,
        table: Table | str,
        *,
        practice_id: str,
        column: str,
        values: Collection[object],
        columns: Sequence[str] | None = None,
        where: Mapping[str, object] | None = None,
    ) -> pd.DataFrame:
        """The practice's rows (matching ``where``) whose ``column`` is one of ``values``,
        in no particular order: a look-up of a few rows of a large table without reading
        it whole. The values go in groups of ``IN_GROUP`` parameters."""
        declared = table_named(table)
        declared.column(column)
        names = self._columns(declared, columns)
        filters = self._filters(declared, practice_id, where)
        wanted = list(dict.fromkeys(values))
        mark = self.placeholder
        condition = " and ".join(f"{quote(name)} = {mark}" for name, _ in filters)
        frames = [pd.DataFrame({name: pd.Series(dtype=object) for name in names})]
        for start in range(0, len(wanted), IN_GROUP):
            group = wanted[start : start + IN_GROUP]
            frames.append(
                self.query(
                    f"select {column_list(names)} from {self.relation(declared)}"  # noqa: S608
                    f" where {condition}"
                    f" and {quote(column)} in ({', '.join([mark] * len(group))})",
                    [*(value for _, value in filters), *group],
                )
            )
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def read_after(
        self,
        table: Table | str,
        *,
        practice_id: str,
        column: str,
        after: datetime | None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The practice's rows whose ``column`` is later than ``after`` (every row of the
        practice when it is ``None``), in no particular order."""
        declared = table_named(table)
        declared.column(column)
        mark = self.placeholder
        sql = (
            f"select {column_list(self._columns(declared, columns))}"  # noqa: S608 - declared
            f" from {self.relation(declared)} where {quote(PRACTICE_ID)} = {mark}"
        )
        params: list[object] = [practice_id]
        if after is not None:
            sql += f" and {quote(column)} > {mark}"
            params.append(after)
        return self.query(sql, params)

    def bounds(self, table: Table | str, *, practice_id: str, column: str) -> tuple[Any, Any]:
        """The least and the greatest ``column`` among the practice's rows (missing
        values when it has none)."""
        table_named(table).column(column)
        name = quote(column)
        found = self.query(
            f"select min({name}) as first, max({name}) as last"  # noqa: S608 - declared names
            f" from {self.relation(table)} where {quote(PRACTICE_ID)} = {self.placeholder}",
            [practice_id],
        )
        first, last = found.iloc[0].tolist()
        return first, last

    def read_model(self, schema: str, name: str) -> pd.DataFrame:
        """Every row of a relation dbt built (``name`` in ``schema``), outside the tables
        declared here."""
        return self.query(f"select * from {self.qualified(schema, name)}")  # noqa: S608

    # A ledger file and the marts ------------------------------------------------------

    def load_ledger_file(self, path: Path) -> int:
        """Replace the ledger table with the entries of a ledger file (.csv or .parquet,
        typed and checked by ``ledger_file``); returns how many. A file the load cannot
        take raises ``LedgerFileError``. Only in a warehouse opened for a ledger file:
        the pipelines' ledger table holds every practice's entries."""
        if not self.for_ledger_file:
            raise ValueError("load a ledger file into a warehouse opened for_ledger_file")
        return self._load_ledger_file(path)

    def export_marts(self, out_dir: Path) -> dict[str, ExportedFile]:
        """Write each mart dbt built in ``dbt_schema`` to ``out_dir/<mart>.csv``, its
        rows in the order of ``marts.MART_EXPORTS``."""
        out_dir.mkdir(parents=True, exist_ok=True)
        files = {}
        for mart in MART_EXPORTS:
            path = out_dir / f"{mart}.csv"
            query = export_query(
                mart, self.qualified(self.dbt_schema, mart), bytewise=self.bytewise
            )
            files[mart] = ExportedFile(path, self._write_csv(query, path))
        return files

    def write_query_csv(self, query: str, path: Path) -> int:
        """Write what ``query`` (no parameters) selects to ``path`` as CSV with a header,
        by the database itself; returns how many rows. A NULL is an empty field."""
        path.parent.mkdir(parents=True, exist_ok=True)
        return self._write_csv(query, path)

    def session(self) -> AbstractContextManager[None]:
        """Open while dbt, invoked in this process, works on what the warehouse holds: a
        DuckDB file is held open for it (see ``duckdb_store``); Postgres needs nothing."""
        return nullcontext()

    # Cursors --------------------------------------------------------------------------

    def get_cursor(self, practice_id: str, name: str) -> datetime | None:
        found = self.read(CURSORS, practice_id=practice_id, where={"name": name})
        if found.empty:
            return None
        value = found["value"].iloc[0]
        return None if pd.isna(value) else pd.Timestamp(value).to_pydatetime(warn=False)

    def set_cursor(self, practice_id: str, name: str, value: datetime) -> None:
        frame = pd.DataFrame({PRACTICE_ID: [practice_id], "name": [name], "value": [value]})
        self.upsert(CURSORS, frame)

    def clear_cursor(self, practice_id: str, name: str) -> None:
        self.delete(CURSORS, practice_id=practice_id, column="name", values=[name])

    # Life -----------------------------------------------------------------------------

    def close(self) -> None:
        """Release the database (see each dialect for what it holds between operations)."""

    def __repr__(self) -> str:
        prefix = f", schema_prefix={self.schema_prefix!r}" if self.schema_prefix else ""
        return f"{type(self).__name__}({self.location.display()!r}{prefix})"

    # For the dialects -----------------------------------------------------------------

    def _equals(self, name: str, value: object) -> str:
        """A filter's condition in this dialect: ``name`` is the next parameter."""
        return f"{name} = {self.placeholder}"

    def _select_statement(
        self,
        table: Table,
        columns: Sequence[str],
        filters: Filters,
        project: Callable[[str, ColumnType], str],
    ) -> str:
        """``select`` of ``columns`` matching ``filters``, each column as ``project`` has
        the dialect read it back."""
        relation = self.relation(table)
        return select(relation, table, columns, filters, project=project, condition=self._equals)

    def _delete_statement(self, table: Table, filters: Filters, member: str) -> str:
        """``delete`` of the rows matching ``filters`` for which ``member`` holds: the
        dialect's test that a column is one of the values, passed as it passes them."""
        conditions = [self._equals(quote(name), value) for name, value in filters]
        conditions.append(member)
        return f"delete from {self.relation(table)} where {' and '.join(conditions)}"  # noqa: S608

    def _add_missing_columns(
        self,
        find: Callable[[], Sequence[tuple[Any, ...]]],
        run: Callable[[str], object],
        types: dict[ColumnType, str],
    ) -> Sequence[tuple[Any, ...]]:
        """Add the columns ``_columns_to_add`` names; what ``find`` (the database's
        schema, table and column names) gives then, for ``_refuse_other_columns``."""
        found = find()
        if additions := self._columns_to_add(found):
            for table, name in additions:
                run(add_column(self.relation(table), table, name, types))
            found = find()
        return found

    def _columns_to_add(self, found: Sequence[tuple[Any, ...]]) -> list[tuple[Table, str]]:
        """The columns a later version declares that a table made by an earlier one lacks:
        (table, column name). Only columns outside the key, on a table whose columns are
        all still declared: the dialect adds them, empty, so an existing warehouse keeps
        its rows (a table that differs otherwise is refused, see below)."""
        columns = _columns_by_table(found)
        additions = []
        for table in TABLES:
            present = columns.get((self.schema_name(table.schema), table.name), set())
            missing = [name for name in table.column_names if name not in present]
            if present and present <= set(table.column_names):
                additions += [(table, name) for name in missing if name not in table.key]
        return additions

    def _refuse_other_columns(self, found: Sequence[tuple[Any, ...]]) -> None:
        """``found``: (schema, table, column) of the database. A declared table whose
        columns differ is refused rather than written."""
        columns = _columns_by_table(found)
        for table in TABLES:
            present = columns.get((self.schema_name(table.schema), table.name), set())
            if present != set(table.column_names):
                raise WarehouseSchemaError(
                    f"{self.relation(table)} has columns {sorted(present)}, "
                    f"not the declared {list(table.column_names)}"
                )

    @abstractmethod
    def _load_ledger_file(self, path: Path) -> int:
        """Replace the ledger table with the file's entries; how many."""

    @abstractmethod
    def _write_csv(self, query: str, path: Path) -> int:
        """Write the rows of ``query`` to ``path`` as CSV with a header; how many."""

    @abstractmethod
    def _write(self, write: Write) -> None:
        """Carry out ``write`` in one transaction."""

    @abstractmethod
    def _delete(
        self, table: Table, filters: Filters, column: str, values: Collection[object]
    ) -> int:
        """Delete rows matching ``filters`` whose ``column`` is in ``values``."""

    @abstractmethod
    def _select(
        self, table: Table, columns: Sequence[str], filters: Filters, *, chunk_rows: int | None
    ) -> Iterator[pd.DataFrame]:
        """Converted frames of the rows (one frame, possibly empty, when ``chunk_rows`` is
        ``None``)."""

    @staticmethod
    def _columns(table: Table, columns: Sequence[str] | None) -> list[str]:
        if columns is None:
            return list(table.column_names)
        for name in columns:
            table.column(name)
        return list(columns)

    @staticmethod
    def _filters(
        table: Table, practice_id: str | None, where: Mapping[str, object] | None
    ) -> list[tuple[str, object]]:
        filters: list[tuple[str, object]] = []
        if practice_id is not None:
            filters.append((PRACTICE_ID, practice_id))
        for name, value in (where or {}).items():
            table.column(name)
            filters.append((name, value))
        return filters


def _of_practice(frame: pd.DataFrame, practice_id: str) -> pd.DataFrame:
    """``frame`` with ``practice_id`` set; a row of another practice is an error (a
    replace of one practice must never write, or delete, another's rows)."""
    if PRACTICE_ID not in frame.columns:
        return frame.assign(**{PRACTICE_ID: practice_id})
    given = frame[PRACTICE_ID]
    other = given.notna() & (given != practice_id)
    if other.any():
        raise ValueError(
            f"the frame holds rows of practice {given[other].iloc[0]!r}, not {practice_id!r}"
        )
    return frame.assign(**{PRACTICE_ID: practice_id})


def _columns_by_table(found: Sequence[tuple[Any, ...]]) -> dict[tuple[str, str], set[str]]:
    columns: dict[tuple[str, str], set[str]] = {}
    for schema, name, column in found:
        columns.setdefault((str(schema), str(name)), set()).add(str(column))
    return columns
