"""dbt compiles on several threads; on Python 3.11 their ``ast.literal_eval`` calls must
take turns, or the shared AST depth counter fails a build at random."""

from __future__ import annotations

import threading

import jinja2.lexer
import jinja2.nativetypes
from dbt_common.clients import jinja as dbt_jinja

from ar_pipelines.statements import dbt


def test_on_python_3_11_jinja_and_dbt_literal_evals_wait_for_one_another() -> None:
    dbt.serialize_literal_eval((3, 11))
    results: list[object] = []

    def evaluate() -> None:
        results.append(jinja2.lexer.literal_eval("'a string literal'"))

    with dbt._literal_eval_lock:
        waiting = threading.Thread(target=evaluate)
        waiting.start()
        waiting.join(0.2)
        assert waiting.is_alive()
        assert results == []
    waiting.join()

    assert results == ["a string literal"]
    assert jinja2.nativetypes.literal_eval is jinja2.lexer.literal_eval
    assert dbt_jinja.literal_eval is jinja2.lexer.literal_eval  # type: ignore[attr-defined]
