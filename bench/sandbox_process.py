"""The peak memory of a process of its own, such as the sandbox the benchmarks start
(``ar_pipelines.local_sandbox.sandbox_process``), measured apart from the client."""

from __future__ import annotations

import math
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Self

import psutil

from ar_pipelines.closing import Closing


class PeakRss(Closing):
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

    def __enter__(self) -> Self:
        self.reset()
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop sampling (on leaving the ``with`` block)."""
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
