"""``ar-pipelines push KIND FILE``: send a file of customers, invoices or ledger entries
to AR through the client, with a progress bar, and account for every record.

Files are CSV (a header row of the API's field names), JSON (an array of objects) or
JSON lines. The API key comes only from ``AR_API_KEY``, never from the command line,
so that it stays out of shell history and process lists.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as ProgressBar

from ar_pipelines.causes import cause_line
from ar_pipelines.cli._options import add_progress_option, progress_wanted
from ar_pipelines.client import ARClient, Progress, PushIncompleteError, PushReport

KINDS = ("customers", "invoices", "ledger")
# Columns that hold JSON in a CSV file (lists and objects of the customer record).
JSON_COLUMNS = {"tags", "custom_fields", "communication_preferences"}
EXIT_LANDED, EXIT_REFUSED, EXIT_INCOMPLETE = 0, 1, 3

EPILOG = """The API key is read from AR_API_KEY (never from the command line); the base URL
from --base-url or AR_BASE_URL. Exit status: 0 every record landed (or was superseded
by a later one with the same external_id); 1 some were refused (rejected or failed);
3 the push stopped before sending everything; 2 usage or set-up errors."""


def add_push_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    push = commands.add_parser(
        "push",
        help="send a file of customers, invoices or ledger entries to AR",
        epilog=EPILOG,
    )
    push.add_argument("kind", choices=KINDS)
    push.add_argument("file", help="a .csv (header of API field names), .json or .jsonl file")
    push.add_argument("--base-url", help="AR's base URL (default: AR_BASE_URL)")
    push.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    push.add_argument("--issues", help="write records that did not land, with reasons, here")
    add_progress_option(push)
    push.set_defaults(run=run_push_command)


def run_push_command(args: argparse.Namespace) -> int:
    return push_file(
        args.kind,
        Path(args.file),
        base_url=args.base_url,
        concurrency=args.concurrency,
        show_progress=progress_wanted(args),
        issues_path=Path(args.issues) if args.issues else None,
    )


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of a ``.csv``, ``.json`` or ``.jsonl`` file; numbers as ``Decimal``."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            return [_csv_record(row) for row in csv.DictReader(handle)]
    if suffix == ".json":
        records = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        if not isinstance(records, list):
            raise ValueError(f"{path}: a JSON file must hold an array of records")
        return records
    if suffix in {".jsonl", ".ndjson"}:
        with path.open(encoding="utf-8") as handle:
            return [json.loads(line, parse_float=Decimal) for line in handle if line.strip()]
    raise ValueError(f"{path}: expected a .csv, .json or .jsonl file")


def _csv_record(row: dict[str, str | None]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name, value in row.items():
        if name is None or value is None or value == "":
            continue  # an empty cell is a field left unset
        record[name] = json.loads(value) if name in JSON_COLUMNS else value
    return record


@contextmanager
def progress_bar(kind: str, *, enabled: bool) -> Iterator[Callable[[Progress], None] | None]:
    """A progress bar on standard error, fed by the client's progress callback."""
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[retries]} retries"),
        TimeRemainingColumn(),
    )
    with ProgressBar(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(f"pushing {kind}", total=None, retries=0)

        def update(progress: Progress) -> None:
            bar.update(
                task, completed=progress.done, total=progress.total, retries=progress.retries
            )

        yield update


def write_issues(report: PushReport, path: Path) -> None:
    """Every record that did not land, with its bucket and reason, as CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["bucket", "index", "external_id", "reason"])
        for bucket in ("rejected", "failed", "skipped", "unsent"):
            for issue in getattr(report, bucket):
                writer.writerow([bucket, issue.index, issue.external_id or "", issue.reason])


def push_file(
    kind: str,
    path: Path,
    *,
    base_url: str | None,
    concurrency: int,
    show_progress: bool,
    issues_path: Path | None,
) -> int:
    records = read_records(path)
    with ARClient(base_url=base_url, concurrency=concurrency) as ar:
        upserts: dict[str, Callable[..., PushReport]] = {
            "customers": ar.customers.bulk_upsert,
            "invoices": ar.accounts.bulk_upsert,
            "ledger": ar.ledgers.bulk_upsert,
        }
        with progress_bar(kind, enabled=show_progress) as on_progress:
            try:
                report = upserts[kind](records, on_progress=on_progress)
                code = EXIT_REFUSED if report.rejected or report.failed else EXIT_LANDED
            except PushIncompleteError as err:
                report, code = err.report, EXIT_INCOMPLETE
                print(f"ar-pipelines: {cause_line(err)}", file=sys.stderr)
    print(json.dumps(report.summary(), indent=2))
    if issues_path is not None:
        write_issues(report, issues_path)
        print(f"records that did not land: {issues_path}", file=sys.stderr)
    return code
