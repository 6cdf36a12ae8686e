"""The AR sandbox as a local process: a company with keys, then served on a free loopback
port for as long as a ``with`` block runs. The demo, ``make dev`` and the API tour use it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

READY_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sandbox_command() -> list[str]:
    return [sys.executable, "-m", "ar_sandbox.cli"]


def bootstrap_company(database: str, name: str) -> dict[str, Any]:
    """A new company in the sandbox's database: its keys and campaigns (``ar-sandbox
    bootstrap --json``)."""
    boot = subprocess.run(
        [*sandbox_command(), "bootstrap", "--database", database, "--name", name, "--json"],
        check=True,
        capture_output=True,
    )
    company: dict[str, Any] = json.loads(boot.stdout)
    return company


def wait_until_up(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the sandbox exited before it was ready")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"the sandbox did not answer within {READY_SECONDS} s")


@contextmanager
def serving(database: str, *, port: int | None = None, quiet: bool = True) -> Iterator[str]:
    """Serve ``database`` on loopback; yields the base URL; stops the server after."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "AR_SANDBOX_DATABASE_URL": database}
    output = subprocess.DEVNULL if quiet else None
    server = subprocess.Popen(
        [*sandbox_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=output,
        stderr=output,
    )
    try:
        wait_until_up(base_url, server)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
