"""The sync tests reuse the fixtures of the layers they join: a warehouse on DuckDB and on
Postgres (the warehouse tests'), and a live client whose requests are recorded (the
client tests'). The plain live client, ``ar``, is the suite's."""

from __future__ import annotations

from tests.ar_pipelines.client.conftest import recorded_ar, recorder
from tests.ar_pipelines.warehouse.conftest import warehouse, where

__all__ = ["recorded_ar", "recorder", "warehouse", "where"]
