"""One line for an error: what its innermost cause says.

A step's failure reaches the log wrapped: Dagster's "Exceeded max_retries of 3" around
the push that stopped, around the request that got no answer, around httpx's
"[Errno 111] Connection refused". The line that helps is the innermost cause's, and
``cause_line`` gives it, for a live exception (following ``__cause__``) and for the
``SerializableErrorInfo`` Dagster keeps of one (following ``.cause``). When the error
around the innermost cause repeats its message with more (the client's
"POST /ledgers/bulk: [Errno 111] Connection refused after 7 attempts" around httpx's
words), that error's line is given instead: it says the same, and where and how often.

Only causes are followed, never what an error was raised while handling
(``__context__``, ``.context``): that is not what caused it, and it may hold what a
message left out on purpose (a database URL with its password).

The line is the message's first, with two exceptions. A DuckDB lock conflict gives
DuckDB's sentence, which names the file and the process holding it. dbt's failure as
dagster-dbt reports it gives the first error dbt logged, else its exit code, and never
the command line (its variables).
"""

from __future__ import annotations

import re
from typing import Protocol

# DuckDB's words when another process holds the file: which file, which program, which PID.
DUCKDB_LOCK = re.compile(
    r'(?:IO Error: )?Could not set lock on file "[^"\n]*": '
    r"Conflicting lock is held in [^\n]*?\(PID \d+\)"
)
# How dagster-dbt's ``DagsterDbtCliRuntimeError`` begins, and where dbt's errors start in it.
DBT_FAILURE = "The dbt CLI process with command"
DBT_LOGGED = "Errors parsed from dbt logs:"
_DBT_EXIT = re.compile(r"failed with exit code `(-?\d+)`")
# A heading dbt puts above the error itself ("Database Error", "Runtime Error").
_DBT_HEADING = re.compile(r"[A-Z][a-z]+ Error|.*:")
# SQLAlchemy's tag before the driver's words: "(psycopg.OperationalError) ...".
_SQLALCHEMY_TAG = re.compile(r"^\([\w.]+\) ")
_MAX_DEPTH = 50  # a cause chain longer than this is cut there (or a cycle)


class ErrorInfo(Protocol):
    """What ``cause_line`` reads of Dagster's ``SerializableErrorInfo``."""

    @property
    def message(self) -> str: ...

    @property
    def cls_name(self) -> str | None: ...

    @property
    def cause(self) -> ErrorInfo | None: ...


def cause_line(error: BaseException | ErrorInfo) -> str:
    """The first line of what the innermost cause of ``error`` says (see the module)."""
    lines = [_line(link) for link in _causes(error)]
    innermost = lines[-1]
    if len(lines) > 1 and innermost in lines[-2]:
        return lines[-2]
    return innermost


def headline(text: str) -> str:
    """The line of an error message that says what happened ("" when it says nothing)."""
    lock = DUCKDB_LOCK.search(text)
    if lock is not None:
        return lock.group(0)
    if text.lstrip().startswith(DBT_FAILURE):
        return _dbt_line(text)
    for line in text.splitlines():
        if line.strip():
            return _SQLALCHEMY_TAG.sub("", line.strip())
    return ""


def _causes(error: BaseException | ErrorInfo) -> list[BaseException | ErrorInfo]:
    chain: list[BaseException | ErrorInfo] = []
    link: BaseException | ErrorInfo | None = error
    while link is not None and len(chain) < _MAX_DEPTH and all(link is not c for c in chain):
        chain.append(link)
        link = link.__cause__ if isinstance(link, BaseException) else link.cause
    return chain


def _line(link: BaseException | ErrorInfo) -> str:
    if isinstance(link, BaseException):
        name: str | None = type(link).__name__
        text = str(link)
    else:
        name = link.cls_name
        text = _without_class(link.message, name)
    return headline(text) or name or "an error without a message"


def _without_class(message: str, name: str | None) -> str:
    """A ``SerializableErrorInfo`` message without the ``module.Class: `` Python puts first."""
    if not name:
        return message
    return re.sub(rf"^\s*(?:[\w.]+\.)?{re.escape(name)}(?::[ \t]?|[ \t]*$)", "", message, count=1)


def _dbt_line(text: str) -> str:
    _, _, logged = text.partition(DBT_LOGGED)
    for raw in logged.splitlines():
        line = raw.strip()
        if line and not _DBT_HEADING.fullmatch(line):
            return line
    exit_code = _DBT_EXIT.search(text)
    return f"dbt failed with exit code {exit_code.group(1)}" if exit_code else "dbt failed"
