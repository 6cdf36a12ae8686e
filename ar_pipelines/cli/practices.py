"""``ar-pipelines practices check``: the practices file and everything it points at,
checked before Dagster runs anything.

The file is read as the code location reads it: a mistake is its one line. Then, for
each practice, the environment variables it names (and ``AR_BASE_URL``) must be set
(their values are never shown), and its source must answer: a landed database is
connected to (no rows are read) and must have a ``transactions`` table with the columns
the practice's layout names; Sikka's REST API must give the office's sync status, a
request key and the entry of the practice's ``sikka_practice_id``. AR must take the
practice's key on one authenticated GET (of its SA campaign, when it has one). Last,
the warehouse (``AR_WAREHOUSE_URL``) must open; a DuckDB file not made yet is left for
the first run to make.

Every probe runs with short network time-outs, in its own thread, which is waited for
at most ``PROBE_SECONDS`` (and a second's grace): a host that never answers costs a few
seconds, not a hung check. A practice's row says ``OK`` or each reason it is not, from
the innermost cause, in one line; no value of a variable appears in it.

The practices file's module (in the Dagster wiring) and the warehouse are imported when
the check runs, so that the other commands start without them.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ar_pipelines.causes import cause_line
from ar_pipelines.client import (
    ARClient,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
)
from ar_pipelines.sources.rest_reader import SikkaRestSource
from ar_pipelines.sources.schema import normalize_url, source_engine
from ar_pipelines.sources.sql_reader import TRANSACTIONS

if TYPE_CHECKING:
    from ar_pipelines.defs.practices import Practice, PracticesConfig

PROBE_SECONDS = 5.0
GRACE_SECONDS = 1.0  # a driver's own time-out, at PROBE_SECONDS, says more than ours
PARALLEL_PROBES = 8
AR_BASE_URL_ENV = "AR_BASE_URL"
WAREHOUSE = "warehouse"
# Sikka's client waits between retries (up to a minute when rate limited); a check
# retries at once, or nearly.
RETRY_PAUSE_CAP = 0.2
# Values shorter than this are not looked for in messages (they would match anywhere).
SHORTEST_SECRET = 4

EPILOG = """Prints a row per practice and one for the warehouse (AR_WAREHOUSE_URL):
OK, or why not. Variable values are never printed. Exit status: 0 every row is OK;
1 some row is not; 2 usage errors, or a file that does not validate (its line on
standard error)."""


def add_practices_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    practices = commands.add_parser("practices", help="work with the practices file")
    practices_commands = practices.add_subparsers(dest="practices_command", required=True)
    check = practices_commands.add_parser(
        "check",
        help="check the file, its variables, each source, AR and the warehouse before a run",
        epilog=EPILOG,
    )
    check.add_argument(
        "--file", help="the practices file (default: AR_PRACTICES_FILE, else practices.toml)"
    )
    check.set_defaults(run=run_check_command)


def run_check_command(args: argparse.Namespace) -> int:
    return run_check(Path(args.file) if args.file else None)


def run_check(path: Path | None = None) -> int:
    """The command: the table on standard output; 0 when every row is OK, 1 when one is
    not, 2 when the file does not validate (its line on standard error)."""
    from ar_pipelines.defs.practices import PracticeConfigError, load_practices

    try:
        config = load_practices(path)
    except PracticeConfigError as err:
        print(f"ar-pipelines: {err}", file=sys.stderr)
        return 2
    rows = check_practices(config)
    for line in table(rows):
        print(line)
    return 0 if all(row.ok for row in rows) else 1


class ProbeFailed(Exception):  # noqa: N818 - a finding, read as "the probe failed: ..."
    """What a probe found wrong, in words fit for the table."""


@dataclass(frozen=True)
class Row:
    """One line of the table: a practice's (or the warehouse's) problems, or none."""

    label: str
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def result(self) -> str:
        if self.problems:
            return "; ".join(self.problems)
        return "OK" + (f" ({'; '.join(self.notes)})" if self.notes else "")


def table(rows: Sequence[Row]) -> list[str]:
    width = max(len(row.label) for row in rows)
    return [f"{row.label.ljust(width)}  {row.result}" for row in rows]


@dataclass
class _Probe:
    """One question to one service, run in a daemon thread that nobody waits for past
    its deadline: a driver stuck in a connect is left behind, not joined."""

    row: str
    what: str
    run: Callable[[], str | None]  # a note, or None; raises when the answer is wrong
    secrets: tuple[str, ...] = ()
    done: threading.Event = field(default_factory=threading.Event)
    note: str | None = None
    error: BaseException | None = None
    deadline: float = 0.0

    def start(self, seconds: float, finished: queue.SimpleQueue[_Probe]) -> None:
        self.deadline = time.monotonic() + seconds
        threading.Thread(target=self._work, args=(finished,), daemon=True).start()

    def _work(self, finished: queue.SimpleQueue[_Probe]) -> None:
        try:
            self.note = self.run()
        except BaseException as err:  # every failure is a finding, reported in the table
            self.error = err
        finally:
            self.done.set()
            finished.put(self)

    def problem(self, seconds: float) -> str | None:
        """What went wrong, after the service's name unless the row is the service's."""
        if not self.done.is_set():
            text = f"no answer within {seconds:g} s"
        elif self.error is not None:
            text = scrubbed(reason(self.error), self.secrets)
        else:
            return None
        return text if self.what == self.row else f"{self.what}: {text}"


def check_practices(config: PracticesConfig, *, seconds: float = PROBE_SECONDS) -> list[Row]:
    """A row per practice, in the file's order, then the warehouse's."""
    from ar_pipelines.defs.resources import DEFAULT_WAREHOUSE_URL, WAREHOUSE_URL_ENV

    missing: dict[str, list[str]] = {}
    probes: list[_Probe] = []
    for practice in config.practices:
        label = f"practice {practice.id}"
        names = [*practice.variables(), AR_BASE_URL_ENV]
        missing[label] = [name for name in names if not os.environ.get(name, "").strip()]
        secrets = _secrets(
            [os.environ.get(name, "") for name in practice.variables()] + [practice.source or ""]
        )
        if not set(_source_variables(practice)) & set(missing[label]):
            probes.append(_Probe(label, "source", _source_probe(practice, seconds), secrets))
        if not {practice.ar_key_env, AR_BASE_URL_ENV} & set(missing[label]):
            probes.append(_Probe(label, "AR", _ar_probe(practice, seconds), secrets))
    warehouse_url = os.environ.get(WAREHOUSE_URL_ENV) or DEFAULT_WAREHOUSE_URL
    probes.append(
        _Probe(
            WAREHOUSE,
            WAREHOUSE,
            _warehouse_probe(warehouse_url, seconds),
            _secrets([warehouse_url]),
        )
    )
    with _quiet("ar_pipelines"):
        _run(probes, seconds + GRACE_SECONDS)
    rows = []
    for label in [*missing, WAREHOUSE]:
        problems = [_not_set(missing[label])] if missing.get(label) else []
        notes = []
        for probe in probes:
            if probe.row == label:
                problem = probe.problem(seconds)
                if problem is not None:
                    problems.append(problem)
                elif probe.note:
                    notes.append(
                        probe.note if probe.what == label else f"{probe.what}: {probe.note}"
                    )
        rows.append(Row(label, tuple(problems), tuple(notes)))
    return rows


def _run(probes: Sequence[_Probe], seconds: float) -> None:
    """Runs the probes, at most ``PARALLEL_PROBES`` at once, each until it finishes or
    ``seconds`` have passed since it started."""
    finished: queue.SimpleQueue[_Probe] = queue.SimpleQueue()
    waiting = list(reversed(probes))
    running: list[_Probe] = []
    while waiting or running:
        while waiting and len(running) < PARALLEL_PROBES:
            probe = waiting.pop()
            probe.start(seconds, finished)
            running.append(probe)
        first_deadline = min(probe.deadline for probe in running)
        with suppress(queue.Empty):
            finished.get(timeout=max(0.0, first_deadline - time.monotonic()))
        now = time.monotonic()
        running = [p for p in running if not p.done.is_set() and now < p.deadline]


# -- the probes ------------------------------------------------------------------------


def _source_variables(practice: Practice) -> list[str]:
    if practice.sikka is None:
        return [practice.source_env] if practice.source_env else []
    sikka = practice.sikka
    return [name for name in (sikka.app_id_env, sikka.app_key_env, sikka.secret_key_env) if name]


def _source_probe(practice: Practice, seconds: float) -> Callable[[], str | None]:
    if practice.sikka is not None:
        return lambda: _sikka(practice, seconds)
    return lambda: _database(practice, seconds)


def _database(practice: Practice, seconds: float) -> str | None:
    """Connects as the SQL reader does and finds ``transactions`` and the columns the
    practice's layout names; reads no rows."""
    engine = source_engine(_with_connect_timeout(practice.source_url(), seconds), must_exist=True)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            if not inspector.has_table(TRANSACTIONS):
                raise ProbeFailed(f"the source database has no {TRANSACTIONS!r} table")
            columns = {column["name"] for column in inspector.get_columns(TRANSACTIONS)}
    finally:
        engine.dispose()
    layout = practice.sql_layout()
    wanted = [
        ("practice", "practice_id"),
        ("key", "transaction_sr_no"),
        ("office", layout.office_column if layout.office_id is not None else None),
        ("cursor", layout.cursor_column),
        ("deleted", layout.deleted_column),
        ("row key", layout.key_column),
    ]
    for role, name in wanted:
        if name is not None and name not in columns:
            raise ProbeFailed(f"table {TRANSACTIONS!r} has no {role} column {name!r}")
    return None


def _with_connect_timeout(url: str, seconds: float) -> str:
    """``url`` with a driver connect time-out, for Postgres and MySQL, unless it has one."""
    parsed = make_url(normalize_url(url))
    if (
        parsed.get_backend_name() not in ("postgresql", "mysql")
        or "connect_timeout" in parsed.query
    ):
        return url
    timeout = str(max(2, math.ceil(seconds)))  # libpq counts whole seconds, at least 2
    return parsed.update_query_dict({"connect_timeout": timeout}).render_as_string(
        hide_password=False
    )


def _sikka(practice: Practice, seconds: float) -> str | None:
    """The office's ``data_sync_status`` (with the app's credentials), then the
    practice's entry in ``practices``, which takes a request key."""
    sikka = practice.sikka
    assert sikka is not None
    secret_key = os.environ[sikka.secret_key_env] if sikka.secret_key_env else None
    with (
        httpx.Client(timeout=httpx.Timeout(seconds)) as http,
        SikkaRestSource(
            base_url=sikka.base_url,
            office_id=sikka.office_id,
            app_id=os.environ[sikka.app_id_env],
            app_key=os.environ[sikka.app_key_env],
            secret_key=secret_key,
            http_client=http,
            sleep=lambda wait: time.sleep(min(wait, RETRY_PAUSE_CAP)),
        ) as source,
    ):
        status = source.status()
        found = source.practices(practice_id=practice.sikka_practice_id)
    if found.empty:
        raise ProbeFailed(
            f"Sikka office {sikka.office_id!r} has no practice_id {practice.sikka_practice_id!r}"
        )
    return status.warning()


def _ar_probe(practice: Practice, seconds: float) -> Callable[[], str | None]:
    return lambda: _ar(practice, seconds)


def _ar(practice: Practice, seconds: float) -> str | None:
    """One GET with the practice's key: its SA campaign, or the first page of one
    campaign when it has none. Not retried: a refusal is the answer."""
    campaign = practice.campaign_id()
    with ARClient(
        base_url=os.environ[AR_BASE_URL_ENV],
        api_key=os.environ[practice.ar_key_env],
        max_retries=0,
        timeout=httpx.Timeout(seconds),
        concurrency=1,
    ) as ar:
        try:
            if campaign:
                ar.campaigns.get(campaign)
            else:
                next(iter(ar.campaigns.list(per_page=1)), None)
        except (AuthenticationError, PermissionDeniedError) as err:
            raise ProbeFailed(
                f"the key in {practice.ar_key_env} was refused ({err.status_code} {err.message})"
            ) from None
        except NotFoundError as err:
            if not campaign:
                raise
            named = (
                f"in {practice.sa_campaign_env}" if practice.sa_campaign_env else "sa_campaign_id"
            )
            raise ProbeFailed(
                f"AR has no SA campaign {named} for this key ({err.status_code} {err.message})"
            ) from None
        if campaign and ar.mode == "test":
            return f"the key in {practice.ar_key_env} is a test key; enrolling needs a live one"
    return None


def _warehouse_probe(url: str, seconds: float) -> Callable[[], str | None]:
    from ar_pipelines.warehouse import DuckDBWarehouse, PostgresWarehouse, Warehouse
    from ar_pipelines.warehouse.location import DuckDBLocation, parse_location

    def probe() -> str | None:
        location = parse_location(url)
        warehouse: Warehouse
        if isinstance(location, DuckDBLocation):
            if location.path is not None and not location.path.exists():
                return _duckdb_to_be(location.path)
            warehouse = DuckDBWarehouse(location, lock_timeout=seconds)
        else:
            parameters = dict(location.parameters)
            parameters.setdefault("connect_timeout", str(max(2, math.ceil(seconds))))
            bounded = replace(location, parameters=tuple(sorted(parameters.items())))
            warehouse = PostgresWarehouse(bounded)
        warehouse.close()
        return None

    return probe


def _duckdb_to_be(path: Path) -> str:
    """A DuckDB warehouse the first run will make: a check makes no file, but the
    directory must be one the run can make it in."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise ProbeFailed(f"no file at {path}, and {parent} is not writable to make one in")
    return f"no file at {path} yet; the first run makes it"


# -- what a row says -------------------------------------------------------------------


def _not_set(names: Sequence[str]) -> str:
    if len(names) == 1:
        return f"{names[0]} is not set"
    return f"{', '.join(names[:-1])} and {names[-1]} are not set"


def reason(error: BaseException) -> str:
    """A probe's own finding, or the line of the innermost cause: the driver's words,
    not its wrappers'."""
    return str(error) if isinstance(error, ProbeFailed) else cause_line(error)


def _secrets(values: Iterable[str]) -> tuple[str, ...]:
    """The values, and the passwords of those that are URLs: what a message must not show."""
    found: list[str] = []
    for value in values:
        found.append(value)
        try:
            password = make_url(value).password
        except (ArgumentError, ValueError):
            continue
        if password:
            found.append(str(password))
    return tuple(sorted({v for v in found if len(v) >= SHORTEST_SECRET}, key=len, reverse=True))


def scrubbed(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """The clients' retry and give-up warnings stay out of the table's way."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
