"""``normalize``: everything at once, with counts that conserve; ``write_outputs``: CSVs.

The CSVs carry the API's field names (``ar-pipelines push`` reads them as they are),
money as plain decimal text (``"123.40"``) and an empty cell for a missing value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from ar_pipelines.normalize import schemas
from ar_pipelines.normalize.normalizer import Normalizer
from ar_pipelines.normalize.quarantine import empty_quarantine
from ar_pipelines.normalize.settings import PracticeSettings
from ar_pipelines.normalize.transactions import ledger_frame


@dataclass(frozen=True)
class Counts:
    """Where every source row went. ``conserved`` holds for every run."""

    patients: int  # patients, and guarantors read as customers (who are not patients)
    customers: int
    patients_quarantined: dict[str, int]
    transactions: int
    ledger_entries: int  # from this run's transaction rows (voids of deleted rows included)
    deleted: int  # of which voids of rows marked deleted
    transactions_quarantined: dict[str, int]

    @property
    def conserved(self) -> bool:
        return self.patients == self.customers + sum(
            self.patients_quarantined.values()
        ) and self.transactions == self.ledger_entries + sum(self.transactions_quarantined.values())


@dataclass(frozen=True)
class Normalized:
    customers: pd.DataFrame
    ledger_entries: pd.DataFrame
    quarantine: pd.DataFrame  # patients, then transactions
    counts: Counts


def normalize(
    *,
    settings: PracticeSettings = PracticeSettings(),
    payment_types: pd.DataFrame,
    patients: pd.DataFrame,
    guarantors: pd.DataFrame | None = None,
    transactions: Iterable[pd.DataFrame] | pd.DataFrame,
    today: date | None = None,
    record_keys: Mapping[str, str] | None = None,
) -> Normalized:
    """Normalize a whole extract. ``record_keys`` (``present.SourceKeys.records`` of the
    source's key scan) settles the numbers several keyed rows hold by row key, as a
    nightly run does; without it the first row of a number read is its record. Voids of
    entries whose rows disappeared are not made here: ``sync.voids_for_missing`` makes
    them against what was pushed."""
    normalizer = Normalizer(
        settings=settings,
        payment_types=payment_types,
        patients=patients,
        guarantors=guarantors,
        today=today,
        record_keys=record_keys,
    )
    chunks = [transactions] if isinstance(transactions, pd.DataFrame) else transactions
    entries, quarantined = [], [normalizer.patient_quarantine]
    for chunk in chunks:
        result = normalizer.transactions(chunk)
        entries.append(result.ledger_entries)
        quarantined.append(result.quarantine)
    counts = Counts(
        patients=normalizer.patients_in,
        customers=len(normalizer.customers),
        patients_quarantined=_by_reason(normalizer.patient_quarantine),
        transactions=normalizer.counts.rows,
        ledger_entries=normalizer.counts.ledger_entries,
        deleted=normalizer.counts.deleted,
        transactions_quarantined=dict(sorted(normalizer.counts.quarantined.items())),
    )
    return Normalized(
        customers=normalizer.customers,
        ledger_entries=_concat(entries, ledger_frame({})),
        quarantine=_concat(quarantined, empty_quarantine()),
        counts=counts,
    )


def _by_reason(quarantine: pd.DataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted(quarantine["reason"].value_counts().items())}


def _concat(frames: list[pd.DataFrame], empty: pd.DataFrame) -> pd.DataFrame:
    filled = [frame for frame in frames if len(frame)]
    if not filled:
        return empty
    return filled[0] if len(filled) == 1 else pd.concat(filled, ignore_index=True)


def write_outputs(result: Normalized, out_dir: Path) -> dict[str, int]:
    """Write customers.csv, ledger_entries.csv and quarantine.csv into ``out_dir``;
    returns the rows written per file name. Each frame is checked before it is written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = {
        "customers.csv": schemas.customers.validate(result.customers),
        "ledger_entries.csv": schemas.ledger_entries.validate(result.ledger_entries),
        "quarantine.csv": schemas.quarantine.validate(result.quarantine),
    }
    for name, frame in frames.items():
        frame.to_csv(out_dir / name, index=False, encoding="utf-8", lineterminator="\n")
    return {name: len(frame) for name, frame in frames.items()}
