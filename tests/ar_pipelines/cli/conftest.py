"""The fixtures the commands' tests share with the tests of what the commands run: the
pipeline of generated practices (the Dagster wiring's) for ``practices check``, and the
small ledger file (the statements') for ``statements``."""

from __future__ import annotations

from tests.ar_pipelines.defs.conftest import pipeline
from tests.ar_pipelines.statements.conftest import small_ledger

__all__ = ["pipeline", "small_ledger"]
