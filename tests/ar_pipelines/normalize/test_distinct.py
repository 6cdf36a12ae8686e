"""A column as distinct values and codes gives back its rows, and names every value a row
may hold."""

from __future__ import annotations

import numpy as np

from ar_pipelines.normalize.text import Coded


def _column(codes: list[int], values: list[object]) -> Coded:
    return Coded(
        codes=np.array(codes, dtype=np.intp),
        values=np.fromiter(values, dtype=object, count=len(values)),
    )


def test_rows_spread_the_values_with_none_where_the_code_is_minus_one() -> None:
    column = _column([1, -1, 0, 1], ["a", "b"])

    assert column.rows().tolist() == ["b", None, "a", "b"]


def test_none_is_a_candidate_only_when_a_row_is_missing() -> None:
    assert _column([0, 1], ["a", "b"]).candidates().tolist() == ["a", "b"]
    assert _column([0, -1], ["a", "b"]).candidates().tolist() == ["a", "b", None]


def test_compacting_keeps_the_rows_and_drops_the_values_no_row_uses() -> None:
    column = _column([3, -1, 1, 3], ["a", "b", "c", "d"])

    compacted = column.compact()

    assert compacted.rows().tolist() == column.rows().tolist()
    assert compacted.values.tolist() == ["d", "b"]


def test_selected_rows_keep_their_values() -> None:
    column = _column([0, 1, -1], ["a", "b"])

    assert column.at(np.array([False, True, True])).rows().tolist() == ["b", None]
