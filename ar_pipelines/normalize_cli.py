"""``ar-pipelines normalize``: a SQL source's rows, normalized, written as CSV files."""

from __future__ import annotations

from pathlib import Path

from ar_pipelines.normalize import normalize, write_outputs
from ar_pipelines.sources.sql_reader import SqlSource


def normalize_source(url: str, *, out_dir: Path, practice_id: str | None = None) -> dict[str, int]:
    """Read every table of the source at ``url`` (transactions streamed), normalize them
    and write the outputs to ``out_dir``; the rows written per file."""
    with SqlSource(url) as source:
        extract = source.transactions(practice_id=practice_id)
        result = normalize(
            practices=source.practices(practice_id=practice_id),
            payment_types=source.payment_types(practice_id=practice_id),
            patients=source.patients(practice_id=practice_id),
            transactions=extract,
        )
    counts = write_outputs(result, out_dir)
    return {"transactions read": extract.rows, **counts}
