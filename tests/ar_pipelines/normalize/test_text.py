"""Cleaning source text: the shortcut for ASCII agrees with the declared pattern."""

from __future__ import annotations

import pytest

from ar_pipelines.normalize.text import INVISIBLE, has_invisible


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
