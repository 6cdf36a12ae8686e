"""Run the sandbox under uvicorn on a free loopback port, in a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from ar_pipelines.local_sandbox import free_port
from ar_sandbox.admin import bootstrap
from ar_sandbox.app import create_app
from ar_sandbox.db import Database
from ar_sandbox.settings import Settings


@dataclass
class RunningSandbox:
    base_url: str
    database: Database

    @property
    def api(self) -> str:
        return f"{self.base_url}/api/v1/external"

    def bootstrap(self, name: str = "Practice") -> dict[str, Any]:
        return bootstrap(self.database, name=name)

    def client(self, key: str, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.api, headers={"X-Api-Key": key, **headers}, timeout=30.0)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a free loopback port in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextmanager
def running_sandbox(settings: Settings) -> Iterator[RunningSandbox]:
    database = Database(settings.database_url, pool_size=settings.pool_size)
    app = create_app(settings, database=database)
    with serving(app) as base_url:
        yield RunningSandbox(base_url, database)
