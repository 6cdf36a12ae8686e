"""The practices a code location syncs: one Dagster partition each, read from a TOML file.

Every field is listed in ``FIELDS`` below and in the README; a key the file misspells is
refused with the nearest known name, and every value is type- and range-checked, so a
mistake fails as one line naming the file, the practice and the field::

    [defaults]                          # any practice field, for every practice
    quarantine_threshold = 0.05

    [[practices]]
    id = "P001"                         # the project's id: partition, external-id prefix
    ar_key_env = "AR_API_KEY_P001"      # the variable holding its AR key
    source = "sqlite:///data/demo/source.db"   # a landed database (or source_env)
    sikka_practice_id = "1"             # Sikka's practice_id inside the office
    cursor_column = "_loaded_at"        # the loader's load timestamp

The file names environment variables and never holds secrets: keys and passwords are
read from the environment when a run needs them.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import phonenumbers
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ar_pipelines.normalize.settings import (
    DEFAULT_ADJUSTMENT_LABELS,
    DEFAULT_PAYMENT_LABELS,
    DEFAULT_PROCEDURE_LABELS,
    PracticeSettings,
)
from ar_pipelines.sources.schema import normalize_url
from ar_pipelines.sources.sql_reader import SqlLayout
from ar_pipelines.sync.plan import (
    DEFAULT_MAX_STATEMENT_REMOVAL_SHARE,
    DEFAULT_MAX_VOID_SHARE,
    PlanLimits,
)

PRACTICES_FILE_ENV = "AR_PRACTICES_FILE"
DEFAULT_PRACTICES_FILE = Path("practices.toml")
DEFAULT_QUARANTINE_THRESHOLD = 0.05
DEFAULT_SIKKA_PRACTICE_ID = "1"
SIKKA = "sikka"
# Partition keys, schema names and run tags are made from ids: keep them plain.
PRACTICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
# The databases a landed source may be in (SQLAlchemy backend names).
SOURCE_BACKENDS = frozenset({"sqlite", "postgresql", "mysql"})


class PracticeConfigError(ValueError):
    """The practices file is missing, unreadable or names something it must not.

    Its text is one line: the file, the practice and the field, then what is wrong."""


@dataclass(frozen=True)
class SikkaSettings:
    """A practice read through Sikka ONE's REST API. ``secret_key_env`` is optional:
    without it the office's secret key comes from Sikka's ``authorized_practices``."""

    base_url: str
    office_id: str
    app_id_env: str
    app_key_env: str
    secret_key_env: str | None = None


@dataclass(frozen=True)
class Practice:
    id: str
    ar_key_env: str
    source: str | None = None
    source_env: str | None = None
    sikka: SikkaSettings | None = None
    sikka_practice_id: str = DEFAULT_SIKKA_PRACTICE_ID
    office_id: str | None = None
    office_column: str = "office_id"
    cursor_column: str | None = None
    deleted_column: str | None = None
    key_column: str | None = None
    sa_campaign_id: str | None = None
    sa_campaign_env: str | None = None
    quarantine_threshold: float = DEFAULT_QUARANTINE_THRESHOLD
    max_void_share: float = DEFAULT_MAX_VOID_SHARE
    max_statement_removal_share: float = DEFAULT_MAX_STATEMENT_REMOVAL_SHARE
    max_outstanding_change: Decimal | None = None
    auto_repair: bool = False
    mapping: PracticeSettings = field(default_factory=PracticeSettings)

    @property
    def schema_suffix(self) -> str:
        """The practice's id as a lower-case SQL identifier part."""
        return re.sub(r"[^a-z0-9_]", "_", self.id.lower())

    @property
    def bill_to(self) -> str:
        return self.mapping.bill_to

    @property
    def phone_region(self) -> str:
        return self.mapping.phone_region

    def plan_limits(self) -> PlanLimits:
        """How far a push of the practice may go before it waits for approval."""
        return PlanLimits(
            max_void_share=self.max_void_share,
            max_statement_removal_share=self.max_statement_removal_share,
            max_outstanding_change=self.max_outstanding_change,
        )

    def variables(self) -> tuple[str, ...]:
        """Every environment variable the practice names, its AR key's first: what a run
        reads from the environment for it."""
        names = [self.ar_key_env, self.source_env, self.sa_campaign_env]
        if self.sikka is not None:
            names += [self.sikka.app_id_env, self.sikka.app_key_env, self.sikka.secret_key_env]
        return tuple(dict.fromkeys(name for name in names if name))

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

    def sql_layout(self) -> SqlLayout:
        """Where the loader's own columns are in the practice's landed database."""
        return SqlLayout(
            office_id=self.office_id,
            office_column=self.office_column,
            cursor_column=self.cursor_column,
            deleted_column=self.deleted_column,
            key_column=self.key_column,
        )


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
        raise PracticeConfigError(f"{path}: not valid TOML: {err}") from None
    unknown = sorted(set(document) - {"defaults", "practices"})
    if unknown:
        raise PracticeConfigError(
            f"{path}: unknown table {unknown[0]!r}{_suggest(unknown[0], ('defaults', 'practices'))}"
        )
    defaults = document.get("defaults", {})
    if not isinstance(defaults, dict):
        raise PracticeConfigError(f"{path}: [defaults] must be a table")
    defaults = _checked(defaults, f"{path}: [defaults]", allowed=set(FIELDS) - {"id"})
    entries = document.get("practices", [])
    if not isinstance(entries, list) or not entries:
        raise PracticeConfigError(f"{path} lists no [[practices]]")
    practices = tuple(
        _practice(entry, defaults, path, number) for number, entry in enumerate(entries, 1)
    )
    ids = [p.id for p in practices]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise PracticeConfigError(f"{path} lists practice {', '.join(repeated)} more than once")
    # dbt builds each practice's statements in a schema named after its id, lower-cased.
    by_schema: dict[str, str] = {}
    for practice in practices:
        other = by_schema.setdefault(practice.schema_suffix, practice.id)
        if other != practice.id:
            raise PracticeConfigError(
                f"{path}: practice {practice.id}: id: gives the same schema names as "
                f"practice {other} ({practice.schema_suffix}); make the ids differ by more "
                "than case, '-' or '_'"
            )
    return PracticesConfig(path=path, practices=practices)


# Field checks: each takes the value and returns it checked, or raises ValueError with
# what the value must be.
Check = Callable[[Any], Any]


def _text(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f'must be a string (quote it: "{value}")')
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


def _source(value: Any) -> str:
    """``"sikka"`` or the URL of a database the SQL reader reads. The URL may hold a
    password, so no message repeats it."""
    wanted = "must be 'sikka' or a database URL (sqlite:///path, postgresql://..., mysql://...)"
    if not isinstance(value, str) or not value.strip():
        raise ValueError(wanted)
    text = value.strip()
    if text == SIKKA:
        return text
    try:
        backend = make_url(normalize_url(text)).get_backend_name()
    except (ArgumentError, ValueError):
        raise ValueError(wanted) from None
    if backend not in SOURCE_BACKENDS:
        raise ValueError(f"{wanted}, not {backend}")
    return text


def _http_url(value: Any) -> str:
    text = _text(value)
    if not re.match(r"^https?://[^/\s]+", text) or any(c.isspace() for c in text):
        raise ValueError("must be an http:// or https:// URL")
    return text


def _matching(pattern: re.Pattern[str], what: str) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise ValueError(f"must be {what}")
        return value

    return check


def _one_of(*choices: str) -> Check:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"must be {' or '.join(repr(c) for c in choices)}")
        return str(value)

    return check


def _share(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError("must be a number between 0 and 1")
    return float(value)


def _amount(value: Any) -> Decimal:
    """A sum of money of at least 0, to the cent: a number, or text such as "2500.00"."""
    wanted = 'must be an amount of at least 0, such as 2500 or "2500.00"'
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(wanted)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(wanted)
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise ValueError(wanted) from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(wanted)
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("must be an amount to the cent (at most two decimal places)")
    return amount.quantize(Decimal("0.01"))


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _region(value: Any) -> str:
    supported = phonenumbers.SUPPORTED_REGIONS
    if not isinstance(value, str) or value.upper() not in supported:
        raise ValueError("must be a two-letter region code phone numbers know, such as US")
    return value.upper()


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _labels(value: Any) -> tuple[str, ...]:
    labels = _texts(value)
    if not labels:
        raise ValueError("must name at least one label")
    return labels


_ENV = _matching(ENV_NAME, "the name of an environment variable")
_COLUMN = _matching(COLUMN_NAME, "a column name")
_ID = _matching(PRACTICE_ID, "a plain identifier (letters, digits, _ and -)")

FIELDS: dict[str, Check] = {
    "id": _ID,
    "ar_key_env": _ENV,
    "source": _source,
    "source_env": _ENV,
    "sa_campaign_id": _text,
    "sa_campaign_env": _ENV,
    "quarantine_threshold": _share,
    "max_void_share": _share,
    "max_statement_removal_share": _share,
    "max_outstanding_change": _amount,
    "auto_repair": _flag,
    "bill_to": _one_of("patient", "guarantor"),
    "phone_region": _region,
    "sikka_practice_id": _text,
    "office_id": _text,
    "office_column": _COLUMN,
    "cursor_column": _COLUMN,
    "deleted_column": _COLUMN,
    "key_column": _COLUMN,
    "sikka_base_url": _http_url,
    "sikka_app_id_env": _ENV,
    "sikka_app_key_env": _ENV,
    "sikka_secret_key_env": _ENV,
    "procedure_labels": _labels,
    "payment_labels": _labels,
    "adjustment_labels": _labels,
    "refund_payment_types": _texts,
    "insurance_payment_types": _texts,
    "credit_adjustment_types": _texts,
    "debit_adjustment_types": _texts,
}
SQL_ONLY = ("cursor_column", "deleted_column", "key_column", "office_column")
SIKKA_ONLY = tuple(
    name for name in FIELDS if name.startswith("sikka_") and name != "sikka_practice_id"
)
# Fields that say one thing two ways: a table gives one of each pair.
ALTERNATIVES = (("source", "source_env"), ("sa_campaign_id", "sa_campaign_env"))


def _suggest(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _checked(entry: dict[str, Any], where: str, *, allowed: set[str]) -> dict[str, Any]:
    """The table's fields, each checked: an unknown key is refused with the nearest known
    one, a value of the wrong type or out of range with what it must be."""
    checked: dict[str, Any] = {}
    for key, value in entry.items():
        if key not in allowed:
            raise PracticeConfigError(f"{where}: unknown field {key!r}{_suggest(key, allowed)}")
        try:
            checked[key] = FIELDS[key](value)
        except ValueError as err:
            raise PracticeConfigError(f"{where}: {key}: {err}") from None
    for pair in ALTERNATIVES:
        if all(name in checked for name in pair):
            raise PracticeConfigError(f"{where}: {pair[1]}: give {pair[0]} or {pair[1]}, not both")
    return checked


def _practice(entry: Any, defaults: dict[str, Any], path: Path, number: int) -> Practice:
    if not isinstance(entry, dict):
        raise PracticeConfigError(f"{path}: practice #{number}: must be a table")
    if "id" not in entry:
        raise PracticeConfigError(f"{path}: practice #{number}: id: is required")
    try:
        practice_id = _ID(entry["id"])
    except ValueError as err:
        raise PracticeConfigError(f"{path}: practice #{number}: id: {err}") from None
    where = f"{path}: practice {practice_id}"
    own = _checked(entry, where, allowed=set(FIELDS))
    inherited = dict(defaults)
    for pair in ALTERNATIVES:  # the practice's choice of the two replaces the defaults'
        if any(name in own for name in pair):
            for name in pair:
                inherited.pop(name, None)
    # A default of one kind of source does not reach a practice of the other kind, so
    # that one file's defaults serve its landed databases and its Sikka offices alike.
    is_sikka = {**inherited, **own}.get("source") == SIKKA
    for name in list(inherited):
        if name in (SQL_ONLY if is_sikka else SIKKA_ONLY):
            del inherited[name]
    merged = {**inherited, **own}
    if "ar_key_env" not in merged:
        raise PracticeConfigError(f"{where}: ar_key_env: is required")
    sikka = _sikka(merged, where)
    if sikka is None and not merged.get("source") and not merged.get("source_env"):
        raise PracticeConfigError(f"{where}: source: give source, source_env or source = 'sikka'")
    if sikka is not None:
        for name in SQL_ONLY:
            if name in merged:
                raise PracticeConfigError(f"{where}: {name}: applies to a SQL source only")
    return Practice(
        id=practice_id,
        ar_key_env=merged["ar_key_env"],
        source=None if sikka else merged.get("source"),
        source_env=merged.get("source_env"),
        sikka=sikka,
        sikka_practice_id=merged.get("sikka_practice_id", DEFAULT_SIKKA_PRACTICE_ID),
        office_id=merged.get("office_id"),
        office_column=merged.get("office_column", "office_id"),
        cursor_column=merged.get("cursor_column"),
        deleted_column=merged.get("deleted_column"),
        key_column=merged.get("key_column"),
        sa_campaign_id=merged.get("sa_campaign_id"),
        sa_campaign_env=merged.get("sa_campaign_env"),
        quarantine_threshold=merged.get("quarantine_threshold", DEFAULT_QUARANTINE_THRESHOLD),
        max_void_share=merged.get("max_void_share", DEFAULT_MAX_VOID_SHARE),
        max_statement_removal_share=merged.get(
            "max_statement_removal_share", DEFAULT_MAX_STATEMENT_REMOVAL_SHARE
        ),
        max_outstanding_change=merged.get("max_outstanding_change"),
        auto_repair=merged.get("auto_repair", False),
        mapping=PracticeSettings(
            bill_to=merged.get("bill_to", "patient"),
            phone_region=merged.get("phone_region", "US"),
            procedure_labels=merged.get("procedure_labels", DEFAULT_PROCEDURE_LABELS),
            payment_labels=merged.get("payment_labels", DEFAULT_PAYMENT_LABELS),
            adjustment_labels=merged.get("adjustment_labels", DEFAULT_ADJUSTMENT_LABELS),
            refund_payment_types=merged.get("refund_payment_types", ()),
            insurance_payment_types=merged.get("insurance_payment_types", ()),
            credit_adjustment_types=merged.get("credit_adjustment_types", ()),
            debit_adjustment_types=merged.get("debit_adjustment_types", ()),
        ),
    )


def _sikka(merged: dict[str, Any], where: str) -> SikkaSettings | None:
    sikka_fields = [name for name in merged if name in SIKKA_ONLY]
    if merged.get("source") != SIKKA:
        if sikka_fields:
            raise PracticeConfigError(
                f"{where}: {sikka_fields[0]}: applies only with source = 'sikka'"
            )
        return None
    for name in ("sikka_base_url", "office_id", "sikka_app_id_env", "sikka_app_key_env"):
        if name not in merged:
            raise PracticeConfigError(f"{where}: {name}: is required with source = 'sikka'")
    return SikkaSettings(
        base_url=merged["sikka_base_url"],
        office_id=merged["office_id"],
        app_id_env=merged["sikka_app_id_env"],
        app_key_env=merged["sikka_app_key_env"],
        secret_key_env=merged.get("sikka_secret_key_env"),
    )
