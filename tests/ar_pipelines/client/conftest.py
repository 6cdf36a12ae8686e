"""A client whose requests are recorded, for the client tests (the live one, ``ar``, is
the suite's)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ar_pipelines.client import ARClient
from tests.ar_pipelines.client.resources.helpers import Recorder
from tests.sandbox_server import RunningSandbox


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recording = Recorder()
    yield recording
    recording.http.close()


@pytest.fixture
def recorded_ar(
    sandbox: RunningSandbox, company: dict[str, Any], recorder: Recorder
) -> Iterator[ARClient]:
    """A live client whose every request lands in ``recorder``."""
    with ARClient(
        base_url=sandbox.base_url, api_key=company["live_key"], http_client=recorder.http
    ) as client:
        yield client
