"""Frames carry text: str or None, one object per distinct value within a frame."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import numpy as np

from ar_pipelines.sources.frames import column_texts, frame


def test_equal_texts_in_a_column_share_one_object() -> None:
    texts = column_texts(["P1", "".join(["P", "1"]), "P2", "".join(["P", "2"])])

    assert texts == ["P1", "P1", "P2", "P2"]
    assert texts[0] is texts[1]
    assert texts[2] is texts[3]


def test_null_and_the_empty_string_both_become_none() -> None:
    assert column_texts(["", None, "x"]) == [None, None, "x"]


def test_values_that_are_equal_but_of_other_types_read_as_their_own_text() -> None:
    loaded = datetime(2026, 5, 1, 8, 0, 0, 123)  # noqa: DTZ001 - source times are naive
    values = [1, True, 1.0, Decimal("1.50"), loaded, "", None]

    assert column_texts(values) == ["1", "True", "1.0", "1.50", "2026-05-01 08:00:00", None, None]


def test_unhashable_values_are_still_read_as_text() -> None:
    assert column_texts([["a"], "b"]) == ["['a']", "b"]


def test_a_frame_keeps_the_column_order_and_has_object_columns() -> None:
    built = frame([(1, "a", None), (2, "", "c")], ["row_id", "x", "y"])

    assert list(built.columns) == ["row_id", "x", "y"]
    assert set(built.dtypes) == {np.dtype(object)}
    assert built.to_dict("list") == {"row_id": ["1", "2"], "x": ["a", None], "y": [None, "c"]}


def test_a_frame_of_no_rows_has_its_columns() -> None:
    built = frame([], ["row_id", "x"])

    assert list(built.columns) == ["row_id", "x"]
    assert built.empty


def test_a_timezone_aware_load_time_reads_as_its_utc_time_without_an_offset() -> None:
    loaded = datetime.fromisoformat("2026-05-01T10:00:00+02:00")

    assert column_texts([loaded]) == ["2026-05-01 08:00:00"]
