"""What every asset module shares: the practice partitions, keys, retries and run config."""

from __future__ import annotations

import os
import re
import sqlite3
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

import dagster as dg
import duckdb
import httpx
import psycopg
import sqlalchemy.exc
from dagster_dbt import DagsterDbtCliRuntimeError

from ar_pipelines.causes import DUCKDB_LOCK, cause_line
from ar_pipelines.client import (
    ApiConnectionError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    LiveKeyRequiredError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    UnprocessableEntityError,
)
from ar_pipelines.defs.practices import Practice, PracticeConfigError, PracticesConfig
from ar_pipelines.defs.resources import Settings, WarehouseResource
from ar_pipelines.sources.base import DailyQuotaSpent, SourceNotReady, SourceUnavailable
from ar_pipelines.sources.sikka_http import SikkaAuthError
from ar_pipelines.warehouse import Warehouse

# Run tag carrying the name of the variable that holds the practice's AR key; dagster.yaml
# limits runs per distinct value, so one key is never driven by two runs at once.
AR_KEY_TAG = "ar_pipelines/ar_key"

RAW_PATIENTS = dg.AssetKey(["raw", "patients"])
RAW_TRANSACTIONS = dg.AssetKey(["raw", "transactions"])
NORMALIZED_CUSTOMERS = dg.AssetKey(["normalized", "customers"])
# The dbt project's source: this key is also what dagster-dbt names the source.
NORMALIZED_LEDGER = dg.AssetKey(["normalized", "ledger_entries"])
QUARANTINE = dg.AssetKey(["normalized", "quarantine"])
PUSHED_CUSTOMERS = dg.AssetKey(["ar", "customers"])
PUSHED_LEDGER = dg.AssetKey(["ar", "ledger_entries"])
AR_STATEMENTS = dg.AssetKey(["ar", "statements"])
LOCAL_STATEMENTS = dg.AssetKey(["local", "statements"])  # the dbt mart
RECONCILIATION = dg.AssetKey(["reconciliation"])

# Whether a failed step is tried again is decided by RETRY_RULES alone, a row per kind
# of error. A connection refused or dropped, a time-out, a 5xx or a rate limit is
# transient: the step is tried again, later each time. A refused key or password, a
# database that is not there, a bad setting fails the step at once: no retry can get
# past it. An error no row knows fails at once too.


class Verdict(Enum):
    RETRY = "retried"  # transient: a later try can get past it
    FAIL = "fails at once"  # no try within the run can: a setting, a key, a missing database
    NEXT_RUN = "not retried within the run"  # transient in kind, but not before tomorrow


@dataclass(frozen=True)
class Rule:
    """A row of the table: what errors it recognises, and what becomes of a step that met one."""

    verdict: Verdict
    matches: Callable[[BaseException], bool]


def of_type(*types: type[BaseException]) -> Callable[[BaseException], bool]:
    return lambda error: isinstance(error, types)


def saying(pattern: str, *types: type[BaseException]) -> Callable[[BaseException], bool]:
    """Errors of ``types`` whose message matches ``pattern`` (case aside)."""
    expression = re.compile(pattern, re.IGNORECASE)
    return lambda error: isinstance(error, types) and expression.search(str(error)) is not None


def _driver(error: BaseException) -> str:
    return type(error).__module__.partition(".")[0]


POSTGRES_DRIVERS = frozenset({"psycopg", "psycopg2"})
MYSQL_DRIVERS = frozenset({"pymysql", "MySQLdb"})


def postgres_sqlstate(*codes: str) -> Callable[[BaseException], bool]:
    """A Postgres driver's error whose SQLSTATE is one of ``codes`` (a two-character code
    is a class: ``"08"`` is every connection exception). Only errors the server sent
    have one; libpq's failures to connect do not (see the rows on their text)."""

    def matches(error: BaseException) -> bool:
        if _driver(error) not in POSTGRES_DRIVERS:
            return False
        state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        return isinstance(state, str) and any(state.startswith(code) for code in codes)

    return matches


def postgres_saying(pattern: str) -> Callable[[BaseException], bool]:
    """A Postgres driver's error, or dbt's failure (which reports dbt-postgres's), whose
    text matches ``pattern``: libpq's words when it could not connect."""
    expression = re.compile(pattern, re.IGNORECASE)

    def matches(error: BaseException) -> bool:
        postgres = _driver(error) in POSTGRES_DRIVERS
        if not postgres and not isinstance(error, DagsterDbtCliRuntimeError):
            return False
        return expression.search(str(error)) is not None

    return matches


def mysql_error(*numbers: int, text: str | None = None) -> Callable[[BaseException], bool]:
    """A MySQL/MariaDB driver's error whose error number is one of ``numbers`` (and
    whose message matches ``text``, when given)."""
    expression = None if text is None else re.compile(text, re.IGNORECASE)

    def matches(error: BaseException) -> bool:
        if _driver(error) not in MYSQL_DRIVERS or not error.args or error.args[0] not in numbers:
            return False
        return expression is None or expression.search(str(error)) is not None

    return matches


# The drivers' words for a database, a login or a host name that is not there, and
# libpq's for a server it cannot reach now.
NO_SUCH_DATABASE = r'database "[^"]*" does not exist'
LOGIN_REFUSED = (
    r"password authentication failed|role \"[^\"]*\" does not exist|no pg_hba\.conf entry"
    r"|no password supplied|authentication failed"
)
# The resolver's "no such name" (a DNS outage says "temporary failure" instead).
NO_SUCH_HOST = r"name or service not known|nodename nor servname|unknown (?:mysql )?server host"
POSTGRES_UNREACHABLE = (
    r"connection to server .* failed|could not connect to server|server closed the connection"
    r"|timeout expired|the database system is (?:starting up|shutting down|in recovery mode)"
)

# Each error of a chain (the error, what caused it, and so on) takes the verdict of the
# first row it matches; the chain is retried when some error of it is transient and none
# is a failure no retry can get past (a push that stopped on a refused key is not retried).
RETRY_RULES: tuple[Rule, ...] = (
    # Settings: a practice's entry or a variable it names is missing or invalid.
    Rule(Verdict.FAIL, of_type(PracticeConfigError)),
    # Sikka: the daily quota is spent; reading again today fails alike.
    Rule(Verdict.NEXT_RUN, of_type(DailyQuotaSpent)),
    # Sikka is loading the office: it will have finished later.
    Rule(Verdict.RETRY, of_type(SourceNotReady)),
    # Sikka kept failing (refused, time-outs, 5xx) after its own retries.
    Rule(Verdict.RETRY, of_type(SourceUnavailable)),
    # Sikka refused the app's credentials or the office's keys.
    Rule(Verdict.FAIL, of_type(SikkaAuthError)),
    # AR refused the key (401) or what it may do (403), or a test key was used to enroll.
    Rule(Verdict.FAIL, of_type(AuthenticationError, PermissionDeniedError, LiveKeyRequiredError)),
    # AR refused the request itself (400, 404, 409, 422): sent again, it is refused again.
    Rule(
        Verdict.FAIL,
        of_type(BadRequestError, NotFoundError, ConflictError, UnprocessableEntityError),
    ),
    # AR rate-limited (429), timed out (408) or failed (5xx) after the client's retries.
    Rule(Verdict.RETRY, of_type(RateLimitError, RequestTimeoutError, InternalServerError)),
    # AR did not answer: connection refused, reset or timed out after the client's retries.
    Rule(Verdict.RETRY, of_type(ApiConnectionError)),
    # A URL that is not http(s): a setting, not the network.
    Rule(Verdict.FAIL, of_type(httpx.UnsupportedProtocol)),
    # Any other failure to talk HTTP: connect/read/write/pool time-outs, refused, reset.
    Rule(Verdict.RETRY, of_type(httpx.TransportError)),
    # Postgres (SQLSTATE): 28* invalid authorization (password, role).
    Rule(Verdict.FAIL, postgres_sqlstate("28")),
    # Postgres: 3D000 invalid catalog name: the database does not exist.
    Rule(Verdict.FAIL, postgres_sqlstate("3D000")),
    # Postgres: 08* connection exceptions.
    Rule(Verdict.RETRY, postgres_sqlstate("08")),
    # Postgres: 57P01-57P03 shut down by an administrator or a crash, cannot connect now
    # (starting up); 53300 too many connections; 40001/40P01 serialization failure, deadlock.
    Rule(Verdict.RETRY, postgres_sqlstate("57P01", "57P02", "57P03", "53300", "40001", "40P01")),
    # Postgres, connecting (libpq gives no SQLSTATE then): no such database.
    Rule(Verdict.FAIL, postgres_saying(NO_SUCH_DATABASE)),
    # Postgres, connecting: password or role refused, no pg_hba.conf entry.
    Rule(Verdict.FAIL, postgres_saying(LOGIN_REFUSED)),
    # Postgres, connecting: the host name is unknown (a setting; a DNS outage says otherwise).
    Rule(Verdict.FAIL, postgres_saying(NO_SUCH_HOST)),
    # Postgres, connecting: refused, timed out, closed, starting up (in dbt's words too).
    Rule(Verdict.RETRY, postgres_saying(POSTGRES_UNREACHABLE)),
    # Postgres: psycopg's other operational errors are about the connection or the server.
    Rule(Verdict.RETRY, of_type(psycopg.OperationalError)),
    # MySQL/MariaDB: 1044/1045/1698 access denied, 1049 unknown database.
    Rule(Verdict.FAIL, mysql_error(1044, 1045, 1049, 1698)),
    # MySQL/MariaDB: 2003/2005 naming a host name that is unknown.
    Rule(Verdict.FAIL, mysql_error(2003, 2005, text=NO_SUCH_HOST)),
    # MySQL/MariaDB: 2002/2003 cannot connect, 2006 server gone away, 2013/2055 connection
    # lost, 1040 too many connections, 1205 lock wait time-out, 1213 deadlock.
    Rule(Verdict.RETRY, mysql_error(2002, 2003, 2006, 2013, 2055, 1040, 1205, 1213)),
    # SQLite: another process is writing the file.
    Rule(Verdict.RETRY, saying("database (?:table )?is locked", sqlite3.OperationalError)),
    # SQLite: the file cannot be opened (missing directory, permissions).
    Rule(Verdict.FAIL, saying("unable to open database file", sqlite3.OperationalError)),
    # SQLite: its other operational errors are the SQL's or the file's (no such table).
    Rule(Verdict.FAIL, of_type(sqlite3.OperationalError)),
    # DuckDB: another process (dbt, another run) holds the file's lock, met in-process or
    # by dbt; the message names the file and the process.
    Rule(Verdict.RETRY, saying(DUCKDB_LOCK.pattern, duckdb.IOException, DagsterDbtCliRuntimeError)),
    # DuckDB: any other error (a damaged file, a statement refused).
    Rule(Verdict.FAIL, of_type(duckdb.Error)),
    # dbt: any other failure (a model or a data test fails alike when run again).
    Rule(Verdict.FAIL, of_type(DagsterDbtCliRuntimeError)),
    # SQLAlchemy: no pooled connection in time, or a connection found dropped.
    Rule(Verdict.RETRY, of_type(sqlalchemy.exc.TimeoutError, sqlalchemy.exc.DisconnectionError)),
    # SQLAlchemy: a driver's operational error; the driver's own error, its cause, is
    # matched above (an unknown database fails at once).
    Rule(Verdict.RETRY, of_type(sqlalchemy.exc.OperationalError)),
)
MAX_RETRIES = 3
RETRY_SECONDS_ENV = "AR_RETRY_SECONDS"
DEFAULT_RETRY_SECONDS = 10.0


@contextmanager
def retried_when_transient(
    context: dg.AssetExecutionContext | dg.OpExecutionContext,
) -> Iterator[None]:
    """Ask Dagster to run the step again, with exponential back-off, when what failed
    is transient (``RETRY_RULES``); the warning names the innermost cause."""
    try:
        yield
    except Exception as err:
        if not is_transient(err):
            raise
        base = float(os.environ.get(RETRY_SECONDS_ENV) or DEFAULT_RETRY_SECONDS)
        context.log.warning(f"transient failure, the step will be retried: {cause_line(err)}")
        raise dg.RetryRequested(
            max_retries=MAX_RETRIES, seconds_to_wait=base * 2**context.retry_number
        ) from err


# Reconciliations a sensor reads per tick: a backlog (many practices at once, or a sensor
# started on an instance with history) is worked through over several ticks, not one.
RECONCILIATIONS_PER_TICK = 100


def reconciliations_since(
    context: dg.SensorEvaluationContext,
) -> Sequence[dg.EventLogRecord]:
    """Every reconciliation after the sensor's cursor (a storage id), oldest first, whatever
    its partition, at most ``RECONCILIATIONS_PER_TICK``. An asset sensor would see only the
    latest one: a practice that failed, followed by another that reconciled clean before
    the next tick, would never be seen."""
    after = int(context.cursor) if context.cursor else None
    return context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=RECONCILIATION, after_storage_id=after),
        limit=RECONCILIATIONS_PER_TICK,
        ascending=True,
    ).records


def practice_partitions(config: PracticesConfig) -> dg.StaticPartitionsDefinition:
    return dg.StaticPartitionsDefinition(config.ids)


def tagged_by_ar_key(
    partitions: dg.PartitionsDefinition,
    config: PracticesConfig,
    run_config: Callable[[Practice], dict[str, Any]] | None = None,
) -> dg.PartitionedConfig[dg.PartitionsDefinition]:
    """Every run of a practice, however launched (schedule, UI, backfill), carries the
    name of its AR key's variable, which dagster.yaml limits to one run at a time, and
    the run config ``run_config`` gives for the practice (none by default)."""
    practices = {practice.id: practice for practice in config.practices}
    return dg.PartitionedConfig(
        partitions_def=partitions,
        run_config_for_partition_key_fn=lambda key: (
            run_config(practices[key]) if run_config is not None else {}
        ),
        tags_for_partition_key_fn=lambda key: {AR_KEY_TAG: practices[key].ar_key_env},
    )


def practice_of(
    context: dg.AssetExecutionContext | dg.OpExecutionContext, settings: Settings
) -> Practice:
    return settings.practice(context.partition_key)


Held = TypeVar("Held")
Compute = TypeVar("Compute", bound=Callable[..., Any])


@dataclass(frozen=True)
class _Declared:
    compute: Callable[..., Any]
    key: dg.AssetKey
    description: str
    deps: Sequence[dg.AssetKey] | None
    check_specs: Sequence[dg.AssetCheckSpec] | None
    kinds: set[str]
    freshness_policy: dg.FreshnessPolicy | None


@dataclass(frozen=True)
class Stage:
    """The assets of one stage, declared on their functions with ``asset`` and defined by
    ``assets`` for the practice partitions and the pool the runs queue in: they share a
    group and, unless an asset says otherwise, kinds."""

    group_name: str
    kinds: frozenset[str]
    declared: list[_Declared] = field(default_factory=list)

    def asset(
        self,
        key: dg.AssetKey,
        *,
        description: str,
        deps: Sequence[dg.AssetKey] | None = None,
        check_specs: Sequence[dg.AssetCheckSpec] | None = None,
        kinds: set[str] | None = None,
        freshness_policy: dg.FreshnessPolicy | None = None,
    ) -> Callable[[Compute], Compute]:
        def declare(compute: Compute) -> Compute:
            chosen = set(self.kinds) if kinds is None else kinds
            self.declared.append(
                _Declared(compute, key, description, deps, check_specs, chosen, freshness_policy)
            )
            return compute

        return declare

    def assets(
        self, partitions: dg.PartitionsDefinition, pool: str | None = None
    ) -> list[dg.AssetsDefinition]:
        return [
            dg.asset(
                pool=pool,
                key=declared.key,
                deps=declared.deps,
                partitions_def=partitions,
                group_name=self.group_name,
                kinds=declared.kinds,
                check_specs=partitioned_checks(declared.check_specs or (), partitions),
                description=declared.description,
                freshness_policy=declared.freshness_policy,
            )(declared.compute)
            for declared in self.declared
        ]


def partitioned_checks(
    specs: Sequence[dg.AssetCheckSpec], partitions: dg.PartitionsDefinition
) -> list[dg.AssetCheckSpec]:
    """``specs`` checked per practice: each partition's result stands on its own, so the
    last practice to run does not hide how the others stand. (Dagster marks partitioned
    checks as a preview; the pinned release is the one the tests check them on.)"""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.PreviewWarning)
        return _partitioned(specs, partitions)


def _partitioned(
    specs: Sequence[dg.AssetCheckSpec], partitions: dg.PartitionsDefinition
) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            spec.name,
            asset=spec.asset_key,
            description=spec.description,
            blocking=spec.blocking,
            metadata=spec.metadata,
            additional_deps=spec.additional_deps or None,
            partitions_def=partitions,
        )
        for spec in specs
    ]


@contextmanager
def practice_step(
    context: dg.AssetExecutionContext,
    settings: Settings,
    warehouse: WarehouseResource,
    other: Callable[[Practice], AbstractContextManager[Held]],
) -> Iterator[tuple[Practice, Warehouse, Held]]:
    """The practice of the run's partition, its warehouse and ``other(practice)`` (its
    source, its AR client) open for one step whose transient failures are retried."""
    practice = practice_of(context, settings)
    with retried_when_transient(context), warehouse.open() as store, other(practice) as held:
        yield practice, store, held


def verdict(error: BaseException) -> Verdict:
    """What ``RETRY_RULES`` make of ``error`` and the errors that caused it."""
    found = {rule_verdict(link) for link in _translated(error)}
    for decisive in (Verdict.FAIL, Verdict.NEXT_RUN, Verdict.RETRY):
        if decisive in found:
            return decisive
    return Verdict.FAIL  # an error no row knows


def rule_verdict(error: BaseException) -> Verdict | None:
    """The verdict of the first row ``error`` itself matches, if any."""
    return next((rule.verdict for rule in RETRY_RULES if rule.matches(error)), None)


def is_transient(error: BaseException) -> bool:
    """Whether a step that failed with ``error`` is tried again within the run."""
    return verdict(error) is Verdict.RETRY


def _translated(error: BaseException) -> list[BaseException]:
    """``error`` and what it translates: its ``__cause__``, or the error it was raised
    over ``from None`` (a message that summarizes a driver's error hides it on purpose,
    yet what the driver said decides). An error raised while merely handling another
    does not inherit its verdict."""
    chain: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and all(link is not seen for seen in chain):
        chain.append(link)
        hidden = link.__context__ if link.__suppress_context__ else None
        link = link.__cause__ if link.__cause__ is not None else hidden
    return chain


class ExtractConfig(dg.Config):
    """``full_refresh``: read every source row again instead of those loaded since the cursor."""

    full_refresh: bool = False


class PushConfig(dg.Config):
    """``full_repush``: send every record again, changed or not."""

    full_repush: bool = False
