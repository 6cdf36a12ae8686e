"""Cleaning source text: the shortcuts (for ASCII, for shared objects) agree with the plain
way."""

from __future__ import annotations

import unicodedata
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ar_pipelines.normalize.text import INVISIBLE, Coded, factorize, has_invisible


@pytest.mark.parametrize("code", range(128))
def test_every_ascii_character_is_invisible_exactly_when_the_pattern_says_so(code: int) -> None:
    text = f"12{chr(code)}34"

    assert has_invisible(text) is (INVISIBLE.search(text) is not None)


@pytest.mark.parametrize(
    "text", ["12\u200b34", "\u00a0", "P\ufeff1", "\ud800", "caf\u00e9\u0301\x00", "\u202e1"]
)
def test_text_beyond_ascii_with_an_invisible_character_is_caught(text: str) -> None:
    assert has_invisible(text)


@pytest.mark.parametrize("text", ["caf\u00e9", "\u0394-42", "12 34", "N\u00ba 7"])
def test_visible_text_beyond_ascii_is_not_caught(text: str) -> None:
    assert not has_invisible(text)


def _fresh(text: str) -> str:
    """An equal text in an object of its own."""
    return "".join(list(text))


@given(
    st.lists(
        st.one_of(
            st.sampled_from(["P1", "12.50", "", " P1 ", None, float("nan"), 1, 1.0, True]),
            st.text(max_size=3),
        ),
        max_size=40,
    ),
    st.data(),
)
def test_factorizing_by_address_gives_pandas_codes_and_uniques(
    values: list[Any], data: st.DataObject
) -> None:
    # Some equal texts share one object and some do not, as in any source frame.
    copies = [_fresh(v) if isinstance(v, str) and data.draw(st.booleans()) else v for v in values]
    column = np.empty(len(copies), dtype=object)
    column[:] = copies

    codes, uniques = factorize(column)
    expected_codes, expected_uniques = pd.factorize(column, use_na_sentinel=True)

    assert codes.tolist() == expected_codes.tolist()
    assert [repr(v) for v in uniques] == [repr(v) for v in expected_uniques]


TEXTS = st.one_of(
    st.none(),
    st.sampled_from(["P1", " 12.50 ", "\u00a0", "cafe\u0301", "12\u200b34", "7\x00", "\t", ""]),
    st.text(max_size=4),
)


@given(st.lists(TEXTS, max_size=20))
def test_a_coded_column_cleans_and_flags_each_row_as_one_value_at_a_time_would(
    values: list[str | None],
) -> None:
    coded = Coded.of(pd.Series(values, dtype=object))

    cleaned = [
        None if v is None else unicodedata.normalize("NFC", v).strip() or None for v in values
    ]
    assert coded.rows().tolist() == cleaned
    assert coded.invisible().tolist() == [v is not None and has_invisible(v) for v in cleaned]
