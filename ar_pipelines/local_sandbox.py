"""The AR sandbox as a local process: a company with keys, then served on a free loopback
port for as long as a ``with`` block runs. The demo, ``make dev``, the API tour, the
benchmarks and the tests use it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from typing import IO, Any

import httpx

from ar_pipelines.client._constants import API_PREFIX

READY_SECONDS = 60
STOP_SECONDS = 30


def free_port() -> int:
    """A loopback TCP port nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sandbox_command() -> list[str]:
    """``ar-sandbox`` of the interpreter running us, so server and client share a venv."""
    return [sys.executable, "-m", "ar_sandbox.cli"]


def bootstrap_company(database: str, name: str | None = None) -> dict[str, Any]:
    """A new company in the sandbox's database: its keys and campaigns (``ar-sandbox
    bootstrap --json``, as a user would; without ``name``, the command's default)."""
    named = [] if name is None else ["--name", name]
    boot = subprocess.run(
        [*sandbox_command(), "bootstrap", "--database", database, *named, "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if boot.returncode != 0:
        raise RuntimeError(f"ar-sandbox bootstrap failed:\n{boot.stderr}")
    company: dict[str, Any] = json.loads(boot.stdout)
    return company


@dataclass(frozen=True)
class SandboxProcess:
    base_url: str
    pid: int

    @property
    def api(self) -> str:
        return f"{self.base_url}{API_PREFIX}"


@contextmanager
def sandbox_process(
    database: str,
    *,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    quiet: bool = True,
) -> Iterator[SandboxProcess]:
    """``ar-sandbox serve`` of ``database`` on loopback (``port``, or a free one), with
    ``env`` added to ours; yields once it answers, stops it (SIGTERM) after. ``quiet``
    keeps its output in a file, shown only if it exits before it is ready."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [*sandbox_command(), "serve", "--database", database]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    # A file, not a pipe: nobody reads the output while the server runs, and a full
    # pipe would block it.
    with ExitStack() as stack:
        log = stack.enter_context(tempfile.TemporaryFile()) if quiet else None
        server = subprocess.Popen(
            command,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT if quiet else None,
        )
        try:
            wait_until_up(base_url, server, log)
            yield SandboxProcess(base_url, server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@contextmanager
def serving(database: str, *, port: int | None = None, quiet: bool = True) -> Iterator[str]:
    """Serve ``database`` on loopback; yields the base URL; stops the server after."""
    with sandbox_process(database, port=port, quiet=quiet) as server:
        yield server.base_url


def wait_until_up(
    base_url: str, process: subprocess.Popen[bytes], log: IO[bytes] | None = None
) -> None:
    """Until ``/healthz`` answers 200; an error, with what the server wrote to ``log``,
    if it exits first or does not answer within ``READY_SECONDS``."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = ""
            if log is not None:
                log.seek(0)
                output = log.read().decode(errors="replace")
            raise RuntimeError(f"ar-sandbox serve exited with {process.returncode}:\n{output}")
        with suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"ar-sandbox serve did not answer within {READY_SECONDS} s")
