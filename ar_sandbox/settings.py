"""Run-time settings of one sandbox server, passed to ``create_app``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite:///data/ar_sandbox.db"

# The largest legitimate bodies are bulk upserts at their item limits. 500 ledger
# entries with every field at its maximum length come to about 0.4 MB, or 5.4 MB
# when every description has its full 10,000 characters; ``POST /sync`` at all its
# limits (100 customers, 100 invoices, 500 entries) to about 7.2 MB, leaving aside
# ``custom_fields``, which has no bound. 8 MiB takes every one of these in ASCII,
# and still bounds what one request can make the server hold and parse (parsed
# JSON takes several times its size in memory). A batch refused with 413 is split
# by the client, like a 413 from a gateway.
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class FaultSettings:
    """Seeded fault injection, for tests of clients. Every probability is 0 by default.

    ``error_500`` answers 500 *after* the request was processed and committed (the
    work landed, the caller cannot know it); ``error_503`` and ``error_429`` answer
    before anything is processed; ``slow`` delays the answer by ``slow_seconds``.
    """

    error_500: float = 0.0
    error_503: float = 0.0
    error_429: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 2.0
    seed: int = 0

    @property
    def enabled(self) -> bool:
        return any(p > 0 for p in (self.error_500, self.error_503, self.error_429, self.slow))

    @classmethod
    def parse(cls, text: str) -> FaultSettings:
        """Parse ``"500=0.05,503=0.05,429=0.05,slow=0.05,slow_seconds=1,seed=7"``."""
        names = {"500": "error_500", "503": "error_503", "429": "error_429"}
        values: dict[str, float | int] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, raw = part.partition("=")
            if not sep:
                raise ValueError(f"fault setting {part!r} is not KEY=VALUE")
            name = names.get(key.strip(), key.strip())
            if name not in {"error_500", "error_503", "error_429", "slow", "slow_seconds", "seed"}:
                raise ValueError(f"unknown fault setting {key!r}")
            values[name] = int(raw) if name == "seed" else float(raw)
        settings = cls(**values)  # type: ignore[arg-type]
        total = settings.error_500 + settings.error_503 + settings.error_429 + settings.slow
        if total > 1 or min(settings.error_500, settings.error_503, settings.error_429) < 0:
            raise ValueError("fault probabilities must be >= 0 and add up to at most 1")
        return settings


@dataclass(frozen=True)
class Settings:
    """Everything one server needs; nothing is read from module globals."""

    database_url: str = DEFAULT_DATABASE_URL
    rate_limit_per_second: float = 0.0  # 0 turns the per-key rate limit off
    rate_limit_burst: int = 0  # 0 means one second's worth of requests
    faults: FaultSettings = field(default_factory=FaultSettings)
    pool_size: int = 10
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES  # larger request bodies get 413

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1:
            raise ValueError("the maximum request body size must be at least 1 byte")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from ``AR_SANDBOX_*`` environment variables, then ``overrides``."""
        env = os.environ
        values: dict[str, object] = {}
        if "AR_SANDBOX_DATABASE_URL" in env:
            values["database_url"] = env["AR_SANDBOX_DATABASE_URL"]
        if "AR_SANDBOX_RATE_LIMIT" in env:
            values["rate_limit_per_second"] = float(env["AR_SANDBOX_RATE_LIMIT"])
        if "AR_SANDBOX_RATE_LIMIT_BURST" in env:
            values["rate_limit_burst"] = int(env["AR_SANDBOX_RATE_LIMIT_BURST"])
        if "AR_SANDBOX_FAULTS" in env:
            values["faults"] = FaultSettings.parse(env["AR_SANDBOX_FAULTS"])
        if "AR_SANDBOX_MAX_BODY_BYTES" in env:
            values["max_body_bytes"] = int(env["AR_SANDBOX_MAX_BODY_BYTES"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
