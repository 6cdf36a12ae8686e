"""SQL text both dialects share: DDL from the declarations, and the select of a read.

Every name in it comes from ``tables.py`` or a checked schema prefix, quoted; values
are parameters (DuckDB) or literals psycopg quotes (Postgres COPY takes no parameters),
and a file's path or a setting is a ``literal``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ar_pipelines.warehouse.tables import ColumnType, Table

Filters = Sequence[tuple[str, object]]

DUCKDB_TYPES = {
    ColumnType.TEXT: "VARCHAR",
    ColumnType.MONEY: "DECIMAL(14,2)",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.BOOLEAN: "BOOLEAN",
}
POSTGRES_TYPES = {
    ColumnType.TEXT: "text",
    ColumnType.MONEY: "numeric(14,2)",
    ColumnType.DATE: "date",
    ColumnType.TIMESTAMP: "timestamp",
    ColumnType.INTEGER: "bigint",
    ColumnType.BOOLEAN: "boolean",
}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """``text`` as an SQL string literal: a file's path or a setting, where no parameter
    can stand."""
    return "'" + text.replace("'", "''") + "'"


def column_list(names: Sequence[str]) -> str:
    return ", ".join(quote(name) for name in names)


def create_table(
    relation: str, table: Table, types: dict[ColumnType, str], *, primary_key: bool
) -> str:
    """``create table if not exists``; key columns are ``not null``, and the key is a
    primary key where the dialect keeps one cheaply."""
    lines = [
        f"{quote(c.name)} {types[c.type]}" + (" not null" if c.name in table.key else "")
        for c in table.columns
    ]
    if primary_key and table.key:
        lines.append(f"primary key ({column_list(table.key)})")
    return f"create table if not exists {relation} ({', '.join(lines)})"


def add_column(relation: str, table: Table, name: str, types: dict[ColumnType, str]) -> str:
    """The statement that adds the declared column ``name`` to an existing table, empty."""
    column = next(c for c in table.columns if c.name == name)
    return f"alter table {relation} add column if not exists {quote(name)} {types[column.type]}"


def delete_same_keys(table: Table, relation: str, incoming: str) -> str:
    """Delete the rows of ``relation`` whose key some row of ``incoming`` has."""
    same_key = " and ".join(f"t.{quote(k)} = i.{quote(k)}" for k in table.key)
    return f"delete from {relation} as t using {incoming} as i where {same_key}"  # noqa: S608


def casts(table: Table, types: dict[ColumnType, str]) -> str:
    """The select list that casts a scanned frame (see ``frames.for_write``) to the
    table's column types, exactly: money arrives as decimal text of at most 2 places."""
    return ", ".join(
        f"cast({quote(c.name)} as {types[c.type]}) as {quote(c.name)}" for c in table.columns
    )


def select(
    relation: str,
    table: Table,
    columns: Sequence[str],
    filters: Filters,
    *,
    project: Callable[[str, ColumnType], str],
    condition: Callable[[str, object], str],
) -> str:
    """``select`` of ``columns`` of ``table`` matching every filter, in key order so that
    reads are repeatable (chunks above all)."""
    types = table.types()
    listed = ", ".join(project(quote(name), types[name]) for name in columns)
    where = " and ".join(condition(quote(name), value) for name, value in filters)
    text = f"select {listed} from {relation}"  # noqa: S608 - names are declared, quoted
    if where:
        text += f" where {where}"
    if table.key:
        text += f" order by {column_list(table.key)}"
    return text
