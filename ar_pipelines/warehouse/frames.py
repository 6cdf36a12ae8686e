"""Frames in and out of the warehouse, converted by the declared column types.

Going in, a frame becomes one DuckDB can scan and cast exactly: money as decimal text
(checked to have at most two places, so that the cast never rounds), dates as ISO text,
timestamps without a zone (aware ones in UTC). Coming out, DuckDB's frames become what callers
work with: text as ``str``/``None`` in ``object`` columns, money as ``Decimal``, dates
as ``datetime.date``, timestamps naive, as stored. Work per value is done once per distinct
value, so a million rows of repeated amounts and dates cost little.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Hashable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ar_pipelines.clock import naive_utc, utc_now
from ar_pipelines.warehouse.tables import ColumnType, Table

ObjectArray = npt.NDArray[np.object_]
CENT = Decimal("0.01")
MONEY_LIMIT = Decimal(10) ** 12  # NUMERIC(14,2)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def for_write(table: Table, frame: pd.DataFrame, *, now: datetime) -> pd.DataFrame:
    """``frame`` with exactly the table's columns, in order, as DuckDB should scan them.

    A missing column is an error, unless it is filled with ``now`` by declaration;
    a column the table does not have is an error too (a typo must not drop data).
    """
    extra = [name for name in frame.columns if name not in table.column_names]
    if extra:
        raise ValueError(f"{table.logical_name} has no column(s) {', '.join(map(str, extra))}")
    columns: dict[Hashable, Any] = {}
    for column in table.columns:
        where = f"{table.logical_name}.{column.name}"
        if column.name in frame.columns:
            columns[column.name] = _WRITERS[column.type](frame[column.name], where)
        elif column.default_now:
            moment = np.datetime64(naive_utc(now), "us")
            columns[column.name] = pd.Series(np.full(len(frame), moment))
        else:
            raise ValueError(f"the frame for {table.logical_name} lacks {column.name!r}")
    return _frame(columns)


def column_values(table: Table, column: str, values: Collection[object]) -> pd.DataFrame:
    """``values`` as a one-column frame, converted as the table's ``column`` is written."""
    one = Table(table.schema, table.name, (table.column(column),))
    frame = pd.DataFrame({column: pd.Series(list(values), dtype=object)})
    return for_write(one, frame, now=utc_now())


def _with_none(values: pd.Series) -> ObjectArray:
    """The values as objects, every missing one (NaN, NaT, NA) as ``None``."""
    array: ObjectArray = values.to_numpy(dtype=object, copy=True)
    missing = pd.isna(array)
    if missing.any():
        array[missing] = None
    return array


def _by_distinct(
    values: npt.NDArray[Any], convert: Callable[[Any], Any], where: str, *, only_none: bool
) -> ObjectArray:
    """``convert`` applied once per distinct present value; missing values become
    ``None``. With ``only_none``, a missing value other than ``None`` (NaN, NaT) is
    refused: in a money column it means a float slipped in upstream."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if only_none:
        missing = values[codes < 0]
        odd = next((value for value in missing if value is not None), None)
        if odd is not None:
            raise ValueError(f"{where}: {odd!r} is not a value (use None for missing)")
    converted = np.empty(len(uniques) + 1, dtype=object)
    converted[:-1] = [convert(value) for value in np.asarray(uniques, dtype=object)]
    converted[-1] = None
    result: ObjectArray = converted[codes]
    return result


def _text(values: pd.Series, where: str) -> ObjectArray:
    array: ObjectArray = values.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(array, skipna=False) == "string":
        return array  # all text, nothing missing: the usual column, checked in one C pass
    missing = pd.isna(array)
    if missing.any():
        array = array.copy()
        array[missing] = None
    present = array[~missing]
    if pd.api.types.infer_dtype(present, skipna=False) in ("string", "empty"):
        return array
    return _by_distinct(array, str, where, only_none=False)


def _money_text(where: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise ValueError(f"{where}: money must be Decimal, not {type(value).__name__}")
        amount = Decimal(value)
        try:
            exact = amount.is_finite() and amount == amount.quantize(CENT)
        except InvalidOperation:
            exact = False
        if not exact or abs(amount) >= MONEY_LIMIT:
            raise ValueError(f"{where}: {value} is not money (at most 2 decimals, below 10^12)")
        return format(amount.quantize(CENT), "f")

    return convert


def _money(values: pd.Series, where: str) -> ObjectArray:
    return _by_distinct(values.to_numpy(dtype=object), _money_text(where), where, only_none=True)


def _iso_date(where: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if isinstance(value, datetime):
            if value.time() != datetime.min.time():
                raise ValueError(f"{where}: {value} is a moment, not a date")
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str) and ISO_DATE.fullmatch(value):
            return value
        raise ValueError(f"{where}: {value!r} is not a date (YYYY-MM-DD)")

    return convert


def _date(values: pd.Series, where: str) -> ObjectArray:
    return _by_distinct(values.to_numpy(), _iso_date(where), where, only_none=False)


def _timestamp(values: pd.Series, where: str) -> pd.Series:
    try:
        moments = pd.to_datetime(values, utc=True)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: not timestamps: {err}") from err
    # Aware values are stored as UTC; naive ones as they are (the caller's clock).
    return moments.dt.tz_convert(None).reset_index(drop=True)


def _integer(values: pd.Series, where: str) -> pd.Series:
    try:
        return pd.Series(_with_none(values), dtype="Int64")
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: not integers: {err}") from err


def _boolean(values: pd.Series, where: str) -> pd.Series:
    try:
        return pd.Series(_with_none(values), dtype="boolean")
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: not booleans: {err}") from err


_WRITERS: dict[ColumnType, Callable[[pd.Series, str], Any]] = {
    ColumnType.TEXT: _text,
    ColumnType.MONEY: _money,
    ColumnType.DATE: _date,
    ColumnType.TIMESTAMP: _timestamp,
    ColumnType.INTEGER: _integer,
    ColumnType.BOOLEAN: _boolean,
}


# Reading ------------------------------------------------------------------------------


def _objects(series: pd.Series) -> ObjectArray:
    array: ObjectArray = _with_none(series)
    return array


def _decimals(series: pd.Series) -> ObjectArray:
    """Decimal text (as DuckDB casts a DECIMAL to VARCHAR) as ``Decimal``: exact, with the
    column's scale (two places for money)."""
    return _by_distinct(series.to_numpy(dtype=object), Decimal, "decimal", only_none=False)


def _dates(series: pd.Series) -> ObjectArray:
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    days = np.empty(len(uniques) + 1, dtype=object)
    days[:-1] = list(pd.DatetimeIndex(uniques).date)
    days[-1] = None
    result: ObjectArray = days[codes]
    return result


def _moments(series: pd.Series) -> pd.Series:
    moments = pd.to_datetime(series)
    if moments.dt.tz is None:
        return moments
    return moments.dt.tz_convert("UTC").dt.tz_localize(None)


def _whole(series: pd.Series) -> pd.Series:
    return series.astype("int64") if not series.isna().any() else series.astype("Int64")


def _truth(series: pd.Series) -> pd.Series:
    return series.astype(bool) if not series.isna().any() else series.astype("boolean")


_READERS: dict[ColumnType, Callable[[pd.Series], Any]] = {
    ColumnType.TEXT: _objects,
    ColumnType.MONEY: _decimals,
    ColumnType.DATE: _dates,
    ColumnType.TIMESTAMP: _moments,
    ColumnType.INTEGER: _whole,
    ColumnType.BOOLEAN: _truth,
}


def converted(frame: pd.DataFrame, types: dict[str, ColumnType | None]) -> pd.DataFrame:
    """A frame DuckDB gave (decimals selected as VARCHAR) in the callers' types; columns
    typed ``None`` are left as DuckDB gave them."""
    return _frame({name: _read(frame[name], types.get(str(name))) for name in frame.columns})


def _read(series: pd.Series, kind: ColumnType | None) -> Any:
    return series.reset_index(drop=True) if kind is None else _READERS[kind](series)


def _frame(columns: dict[Hashable, Any]) -> pd.DataFrame:
    """A frame of these columns; object arrays stay ``object`` (pandas would make text
    its ``str`` dtype, whose missing value is NaN, not ``None``)."""
    return pd.DataFrame(
        {
            name: pd.Series(values, dtype=object)
            if isinstance(values, np.ndarray) and values.dtype == object
            else values
            for name, values in columns.items()
        }
    )


def duckdb_logical_type(type_name: str) -> ColumnType | None:
    """The logical type of a DuckDB result column, for ``query``; ``None`` for others."""
    name = type_name.upper()
    if name.startswith("DECIMAL"):
        return ColumnType.MONEY
    if name == "VARCHAR":
        return ColumnType.TEXT
    if name == "DATE":
        return ColumnType.DATE
    if name in ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS"):
        return ColumnType.TIMESTAMP
    if name in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"):
        return ColumnType.INTEGER
    if name == "BOOLEAN":
        return ColumnType.BOOLEAN
    return None
