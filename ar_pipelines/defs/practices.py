"""The practices a code location syncs: one Dagster partition each, read from a TOML file.

::

    [defaults]
    quarantine_threshold = 0.05        # share of a run's source rows; above it the check fails

    [[practices]]
    id = "P001"                        # the practice_id in the source
    source = "sqlite:///data/demo/source.db"   # or source_env = "NAME" holding the URL
    ar_key_env = "AR_API_KEY_P001"     # the environment variable holding its AR key
    sa_campaign_id = "..."             # optional: where `enroll_statements` enrolls
                                       # (or sa_campaign_env = "NAME" holding it)
    bill_to = "guarantor"              # optional: overrides the source's setting
    phone_region = "CA"                # optional: overrides the source's setting

A Sikka ONE REST source takes ``source = "sikka"`` with ``sikka_base_url``,
``sikka_office_id`` and the names of the variables holding ``secret_key``, ``app_id`` and
``app_key`` (``sikka_secret_key_env``, ``sikka_app_id_env``, ``sikka_app_key_env``).
The file names environment variables, never holds secrets: keys and passwords are read
from the environment when a run needs them.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRACTICES_FILE_ENV = "AR_PRACTICES_FILE"
DEFAULT_PRACTICES_FILE = Path("practices.toml")
DEFAULT_QUARANTINE_THRESHOLD = 0.05
# Partition keys, schema names and run tags are made from ids: keep them plain.
PRACTICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PracticeConfigError(ValueError):
    """The practices file is missing, unreadable or names something it must not."""


@dataclass(frozen=True)
class SikkaSettings:
    base_url: str
    office_id: str
    secret_key_env: str
    app_id_env: str
    app_key_env: str


@dataclass(frozen=True)
class Practice:
    id: str
    ar_key_env: str
    source: str | None = None
    source_env: str | None = None
    sikka: SikkaSettings | None = None
    sa_campaign_id: str | None = None
    sa_campaign_env: str | None = None
    bill_to: str | None = None
    phone_region: str | None = None
    quarantine_threshold: float = DEFAULT_QUARANTINE_THRESHOLD

    @property
    def schema_suffix(self) -> str:
        """The practice's id as a lower-case SQL identifier part."""
        return re.sub(r"[^a-z0-9_]", "_", self.id.lower())

    def campaign_id(self) -> str | None:
        """The SA campaign ``enroll_statements`` enrolls into, if the practice has one."""
        if self.sa_campaign_env:
            return os.environ.get(self.sa_campaign_env) or None
        return self.sa_campaign_id

    def source_url(self) -> str:
        """The SQL source's URL, from the file or, at run time, from ``source_env``."""
        if self.source_env:
            value = os.environ.get(self.source_env)
            if not value:
                raise PracticeConfigError(
                    f"practice {self.id}: environment variable {self.source_env} is not set"
                )
            return value
        if not self.source:
            raise PracticeConfigError(f"practice {self.id}: no source")
        return self.source


@dataclass(frozen=True)
class PracticesConfig:
    path: Path
    practices: tuple[Practice, ...] = field(default_factory=tuple)

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.practices]

    def get(self, practice_id: str) -> Practice:
        for practice in self.practices:
            if practice.id == practice_id:
                return practice
        raise PracticeConfigError(f"practice {practice_id} is not in {self.path}")


def practices_file() -> Path:
    return Path(os.environ.get(PRACTICES_FILE_ENV) or DEFAULT_PRACTICES_FILE)


def load_practices(path: Path | None = None) -> PracticesConfig:
    path = path or practices_file()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PracticeConfigError(
            f"no practices file at {path} (set {PRACTICES_FILE_ENV} to point at one)"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise PracticeConfigError(f"{path} is not valid TOML: {err}") from err
    defaults = document.get("defaults", {})
    entries = document.get("practices", [])
    if not isinstance(entries, list) or not entries:
        raise PracticeConfigError(f"{path} lists no [[practices]]")
    practices = tuple(_practice(entry, defaults, path) for entry in entries)
    ids = [p.id for p in practices]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise PracticeConfigError(f"{path} lists practice {', '.join(repeated)} more than once")
    return PracticesConfig(path=path, practices=practices)


def _practice(entry: dict[str, Any], defaults: dict[str, Any], path: Path) -> Practice:
    merged = {**defaults, **entry}
    practice_id = str(merged.get("id", ""))
    if not PRACTICE_ID.match(practice_id):
        raise PracticeConfigError(f"{path}: practice id {practice_id!r} is not a plain identifier")
    where = f"{path}: practice {practice_id}"
    for name in ("ar_key_env", "source_env", *(k for k in merged if k.endswith("_env"))):
        value = merged.get(name)
        if value is not None and not ENV_NAME.match(str(value)):
            raise PracticeConfigError(f"{where}: {name} must name an environment variable")
    if "ar_key_env" not in merged:
        raise PracticeConfigError(f"{where}: ar_key_env is required")
    sikka = None
    if merged.get("source") == "sikka":
        try:
            sikka = SikkaSettings(
                base_url=str(merged["sikka_base_url"]),
                office_id=str(merged["sikka_office_id"]),
                secret_key_env=str(merged["sikka_secret_key_env"]),
                app_id_env=str(merged["sikka_app_id_env"]),
                app_key_env=str(merged["sikka_app_key_env"]),
            )
        except KeyError as err:
            raise PracticeConfigError(f"{where}: a sikka source needs {err.args[0]}") from None
    elif not merged.get("source") and not merged.get("source_env"):
        raise PracticeConfigError(f"{where}: give source or source_env")
    threshold = float(merged.get("quarantine_threshold", DEFAULT_QUARANTINE_THRESHOLD))
    if not 0 <= threshold <= 1:
        raise PracticeConfigError(f"{where}: quarantine_threshold must be between 0 and 1")
    bill_to = merged.get("bill_to")
    if bill_to is not None and bill_to not in ("patient", "guarantor"):
        raise PracticeConfigError(f"{where}: bill_to must be patient or guarantor")
    return Practice(
        id=practice_id,
        ar_key_env=str(merged["ar_key_env"]),
        source=None if sikka else merged.get("source"),
        source_env=merged.get("source_env"),
        sikka=sikka,
        sa_campaign_id=merged.get("sa_campaign_id"),
        sa_campaign_env=merged.get("sa_campaign_env"),
        bill_to=bill_to,
        phone_region=merged.get("phone_region"),
        quarantine_threshold=threshold,
    )
