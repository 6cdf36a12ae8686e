"""The practice's reconciliation kept in the warehouse (``reconcile.statements``), a row
per statement as the last reconciliation of its customer left it.

A full reconciliation replaces every row; a night replaces the rows of the customers it
verified. The report is then made from every row without reading them all into
Python: the counts, the totals and the sums by month are the database's, the rows that
differ are read, and the CSV of every statement is written by the database. A
quarter of a million statements cost seconds to compare and to write out in pandas;
the customers of a night cost a fraction of one.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pandas as pd

from ar_pipelines.reconcile.inputs import ZERO
from ar_pipelines.reconcile.result import (
    MONEY_COLUMNS,
    ROW_COLUMNS,
    TOTALS,
    Reconciliation,
    Status,
)
from ar_pipelines.warehouse import AR_STATEMENTS, RECONCILED, Warehouse
from ar_pipelines.warehouse.sql_text import literal, quote
from ar_pipelines.warehouse.tables import PRACTICE_ID

CUSTOMER = "customer_external_id"
BATCH = 1_000  # customers per ``in (...)`` list
SIDES = tuple(TOTALS)  # billed, paid and outstanding of each side


def keep(
    warehouse: Warehouse,
    result: Reconciliation,
    *,
    customers: Sequence[str] | None = None,
) -> None:
    """Store ``result``'s rows: every row of the practice replaced, or (``customers``)
    the rows of those customers."""
    rows = result.rows.assign(**{PRACTICE_ID: result.practice_id})
    if customers is None:
        warehouse.replace(RECONCILED, rows, practice_id=result.practice_id)
        return
    warehouse.delete(RECONCILED, practice_id=result.practice_id, column=CUSTOMER, values=customers)
    if len(rows):
        warehouse.upsert(RECONCILED, rows)


def held(warehouse: Warehouse, practice_id: str) -> int:
    """How many statements the practice's stored reconciliation has."""
    return warehouse.count(RECONCILED, practice_id=practice_id)


def local_rows(warehouse: Warehouse, schema: str, customers: Sequence[str]) -> pd.DataFrame:
    """The local statements (the ``statements`` model in ``schema``) of ``customers``."""
    relation = warehouse.qualified(schema, "statements")
    query = f"select * from {relation} where"  # noqa: S608 - a relation dbt built
    return _of_customers(warehouse, query, [], customers)


def ar_rows(warehouse: Warehouse, practice_id: str, customers: Sequence[str]) -> pd.DataFrame:
    """The practice's copy of AR's statements, of ``customers``."""
    mark = warehouse.placeholder
    query = (
        f"select * from {warehouse.relation(AR_STATEMENTS)}"  # noqa: S608 - declared names
        f" where {quote(PRACTICE_ID)} = {mark} and"
    )
    return _of_customers(warehouse, query, [practice_id], customers)


def stored_result(warehouse: Warehouse, practice_id: str) -> Reconciliation:
    """The practice's stored reconciliation: the rows that differ, and the counts,
    totals and sums by month of every row."""
    relation = warehouse.relation(RECONCILED)
    mark = warehouse.placeholder
    of_practice = f"where {quote(PRACTICE_ID)} = {mark}"
    counted = warehouse.query(
        f"select {quote('status')} as status, count(*) as statements,"  # noqa: S608
        f" sum(case when {quote('zeroed_in_ar')} then 1 else 0 end) as zeroed"
        f" from {relation} {of_practice} group by {quote('status')}",
        [practice_id],
    )
    counts = {status.value: 0 for status in Status}
    for status, statements in zip(counted["status"], counted["statements"], strict=True):
        counts[str(status)] = int(statements)
    counts["total"] = int(counted["statements"].sum()) if len(counted) else 0
    counts["zeroed_in_ar"] = int(counted["zeroed"].fillna(0).sum()) if len(counted) else 0
    by_month = _by_month(warehouse, practice_id)
    totals = {name: sum(by_month[name].tolist(), ZERO) for name in TOTALS}
    differing = [
        warehouse.read(RECONCILED, practice_id=practice_id, where={"status": status.value})
        for status in Status
        if status is not Status.MATCHED
    ]
    rows = pd.concat(differing, ignore_index=True)[list(ROW_COLUMNS)]
    rows = rows.sort_values("key", kind="stable").reset_index(drop=True)
    for column in MONEY_COLUMNS:
        rows[column] = rows[column].astype(object).where(rows[column].notna(), None)
    return Reconciliation(
        practice_id=practice_id, rows=rows, by_month=by_month, counted=counts, summed=totals
    )


def write_csv(warehouse: Warehouse, practice_id: str, path: Path) -> int:
    """Every stored statement of the practice to ``path``, as ``report.csv_frame`` writes
    a reconciliation: ``ROW_COLUMNS``, money as plain two-decimal text, dates ISO, a
    missing side empty, rows by statement number (compared by their bytes)."""
    names = []
    for column in ROW_COLUMNS:
        name = quote(column)
        if column in MONEY_COLUMNS or column == "period_start":
            names.append(f"cast({name} as varchar) as {name}")
        elif column == "zeroed_in_ar":
            names.append(f"case when {name} then 'True' else 'False' end as {name}")
        else:
            names.append(name)
    query = (
        f"select {', '.join(names)} from {warehouse.relation(RECONCILED)}"  # noqa: S608
        f" where {quote(PRACTICE_ID)} = {literal(practice_id)}"
        f" order by {warehouse.bytewise.format(quote('key'))}"
    )
    return warehouse.write_query_csv(query, path)


def _by_month(warehouse: Warehouse, practice_id: str) -> pd.DataFrame:
    """Billed, paid and outstanding of each side per statement month, a missing side
    counted as 0 (as ``compare`` sums them), exact: the sums come as text."""
    selected = ", ".join(
        f"cast(coalesce(sum({quote(column)}), 0) as varchar) as {name}"
        for name, column in TOTALS.items()
    )
    mark = warehouse.placeholder
    found = warehouse.query(
        f"select {quote('period_start')} as month, {selected}"  # noqa: S608 - declared names
        f" from {warehouse.relation(RECONCILED)} where {quote(PRACTICE_ID)} = {mark}"
        f" group by {quote('period_start')}",
        [practice_id],
    )
    if found.empty:
        return pd.DataFrame({name: pd.Series([], dtype=object) for name in ("month", *SIDES)})
    frame = pd.DataFrame({"month": [pd.Timestamp(m).date().replace(day=1) for m in found["month"]]})
    for name in SIDES:
        frame[name] = pd.Series([Decimal(str(value)) for value in found[name]], dtype=object)
    return frame.groupby("month", sort=True).sum().reset_index()


def _of_customers(
    warehouse: Warehouse, query: str, params: list[object], customers: Sequence[str]
) -> pd.DataFrame:
    """``query`` (ending in ``where ... and`` or ``where``) for ``customers``, a batch
    at a time."""
    parts = []
    for start in range(0, len(customers), BATCH):
        batch = list(customers[start : start + BATCH])
        marks = ", ".join([warehouse.placeholder] * len(batch))
        parts.append(warehouse.query(f"{query} {quote(CUSTOMER)} in ({marks})", [*params, *batch]))
    frames = [part for part in parts if len(part.columns)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
