"""The sandbox as a separate process, so its memory can be measured apart from the client."""

from __future__ import annotations

import json
import math
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx
import psutil

START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0


def sandbox_executable() -> str:
    """The ``ar-sandbox`` of the interpreter running us, so server and client share a venv."""
    beside = Path(sys.executable).parent / "ar-sandbox"
    if beside.exists():
        return str(beside)
    found = shutil.which("ar-sandbox")
    if found is None:
        raise RuntimeError("ar-sandbox is not installed (run make install)")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bootstrap(database_url: str) -> dict[str, Any]:
    """A company with keys and campaigns, made by ``ar-sandbox bootstrap`` as a user would."""
    completed = subprocess.run(
        [sandbox_executable(), "bootstrap", "--database", database_url, "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"ar-sandbox bootstrap failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


@dataclass(frozen=True)
class SandboxProcess:
    base_url: str
    pid: int

    @property
    def api(self) -> str:
        return f"{self.base_url}/api/v1/external"


@contextmanager
def running_sandbox(database_url: str) -> Iterator[SandboxProcess]:
    """``ar-sandbox serve`` on a free loopback port, stopped (SIGTERM) on exit."""
    port = free_port()
    command = [
        sandbox_executable(),
        "serve",
        "--database",
        database_url,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    # A file, not a pipe: nobody reads the log while the benchmark runs, and a full
    # pipe would block the server.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_healthy(process, base_url, log)
            yield SandboxProcess(base_url, process.pid)
        finally:
            _stop(process)


def _wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")
            raise RuntimeError(f"ar-sandbox serve exited with {process.returncode}:\n{output}")
        with suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"ar-sandbox serve did not answer within {START_TIMEOUT_SECONDS:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class PeakRss:
    """The peak resident memory of a process and its children, between ``reset`` calls.

    Two measures, the larger wins: a background sampler of the whole process tree
    (children included), and the kernel's high-water mark of the main process (VmHWM,
    reset through ``clear_refs``), which catches spikes shorter than a sampling period.

    Listing the children scans all of /proc (about 1.5 ms of CPU), so the list is
    refreshed once a second rather than at every sample: the benchmark shares the
    machine with the server it measures.
    """

    def __init__(
        self,
        pid: int,
        interval_seconds: float = 0.05,
        children_refresh_seconds: float = 1.0,
    ) -> None:
        self._process = psutil.Process(pid)
        self._interval = interval_seconds
        self._children_refresh = children_refresh_seconds
        self._tree: list[psutil.Process] = [self._process]
        self._tree_listed_at = -math.inf
        self._peak = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def __enter__(self) -> PeakRss:
        self.reset()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stopped.set()
        self._thread.join()

    def reset(self) -> None:
        with suppress(OSError):  # clear_refs needs a Linux /proc; the sampler still works
            Path(f"/proc/{self._process.pid}/clear_refs").write_text("5")
        with self._lock:
            self._peak = self._tree_rss()

    def peak_bytes(self) -> int:
        self._sample()
        with self._lock:
            return max(self._peak, self._high_water_mark())

    def _sample_until_stopped(self) -> None:
        while not self._stopped.wait(self._interval):
            self._sample()

    def _sample(self) -> None:
        rss = self._tree_rss()
        with self._lock:
            self._peak = max(self._peak, rss)

    def _tree_rss(self) -> int:
        if time.monotonic() - self._tree_listed_at >= self._children_refresh:
            with suppress(psutil.NoSuchProcess):
                self._tree = [self._process, *self._process.children(recursive=True)]
            self._tree_listed_at = time.monotonic()
        total = 0
        for process in self._tree:
            with suppress(psutil.NoSuchProcess):  # a child may have exited since listed
                total += int(process.memory_info().rss)
        return total

    def _high_water_mark(self) -> int:
        try:
            status = Path(f"/proc/{self._process.pid}/status").read_text()
        except OSError:
            return 0
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0
