"""Running one measured step in a fresh interpreter, so that its peak RSS is its own."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def run_step(module: str, step: str, *arguments: str) -> dict[str, Any]:
    """Call ``module.step(*arguments)`` in a new Python process; the step prints one JSON
    line of results last, which is returned."""
    code = f"import sys; from {module} import {step}; {step}(*sys.argv[1:])"
    completed = subprocess.run(
        [sys.executable, "-c", code, *arguments], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{step} failed:\n{completed.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result
