"""``ar-pipelines source generate``: fill a source database with demo data, with a
progress bar on standard error and a summary on standard output."""

from __future__ import annotations

import json
from datetime import date

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as ProgressBar

from ar_demo.generate import GenerationSummary, generate


def generate_source(
    url: str,
    *,
    practices: int,
    patients: int,
    months: int,
    seed: int,
    defect_rate: float,
    end: date | None,
    show_progress: bool,
    office_id: str = "D1000",
) -> GenerationSummary:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with ProgressBar(*columns, console=Console(stderr=True), disable=not show_progress) as bar:
        task = bar.add_task("writing rows", total=None)
        summary = generate(
            url,
            practices=practices,
            patients=patients,
            months=months,
            seed=seed,
            defect_rate=defect_rate,
            end=end,
            office_id=office_id,
            on_progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    print(json.dumps(summary_record(summary), indent=2))
    return summary


def summary_record(summary: GenerationSummary) -> dict[str, object]:
    return {
        "start": summary.start.isoformat(),
        "end": summary.end.isoformat(),
        "rows": summary.rows,
        "defects": summary.defects,
        "seconds": round(summary.seconds, 2),
    }
