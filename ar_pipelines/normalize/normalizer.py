"""``Normalizer``: the small tables read once, then transactions a chunk at a time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from ar_pipelines._collector import collector_paused
from ar_pipelines.normalize import schemas
from ar_pipelines.normalize.chunk import Context
from ar_pipelines.normalize.contacts import ContactBook
from ar_pipelines.normalize.customers import build_customers
from ar_pipelines.normalize.seen import Records, SeenKeys
from ar_pipelines.normalize.settings import PaymentTypes, PracticeSettings
from ar_pipelines.normalize.transactions import normalize_chunk
from ar_pipelines.normalize.validation import validate


@dataclass
class NormalizedChunk:
    ledger_entries: pd.DataFrame
    quarantine: pd.DataFrame


@dataclass
class TransactionCounts:
    """Running totals over the chunks seen: ``rows == ledger_entries + quarantined``."""

    rows: int = 0
    ledger_entries: int = 0
    deleted: int = 0  # ledger entries that void a row marked deleted
    quarantined: Counter[str] = field(default_factory=Counter)


class Normalizer:
    """Customers from patients (and guarantors) at once; ledger entries from transaction
    chunks, mapped by one practice's ``settings`` (labels, payment-type classes, whom it
    bills, its phone region).

    Call ``transactions`` once per chunk, in loaded order: a ``(practice_id,
    transaction_sr_no)`` seen in an earlier chunk (or earlier in the same chunk) is a
    duplicate, and the first occurrence is the one kept. Row numbers in the quarantine
    count from the first row of the first chunk.

    ``record_keys`` settles ids that several source rows hold at once, each row with a
    row key of its own (``present.SourceKeys.records``): the row with the given key is
    the record of the id, whenever it is read and however often it is edited, and every
    other row of the id is a duplicate, in whatever order the rows come.

    ``earlier_external_ids`` names other ids whose first occurrence is a row loaded before
    the rows to come (read in an earlier run): every row of those ids read here is a
    duplicate, as if that first row had come in the first chunk.

    ``contacts`` holds verdicts on emails and phones reached in earlier runs: only the
    texts it does not know are parsed, and it keeps the new verdicts for the caller to save.
    """

    def __init__(
        self,
        *,
        settings: PracticeSettings = PracticeSettings(),
        payment_types: pd.DataFrame,
        patients: pd.DataFrame,
        guarantors: pd.DataFrame | None = None,
        today: date | None = None,
        earlier_external_ids: Iterable[str] = (),
        record_keys: Mapping[str, str] | None = None,
        contacts: ContactBook | None = None,
    ) -> None:
        labels = settings.label_kinds()  # before any work: a bad setting fails at once
        built = build_customers(patients, settings, contacts, guarantors)
        self.customers: pd.DataFrame = schemas.customers.validate(built.customers)
        # The source row of each customer, in the order of ``customers``.
        self.customer_sources = built.sources
        self.patient_quarantine: pd.DataFrame = schemas.quarantine.validate(built.quarantine)
        # Patients and the guarantors read as customers: each is a customer or quarantined.
        self.patients_in = built.people
        self._context = Context(
            settings=settings,
            labels=labels,
            payment_types=PaymentTypes(payment_types, settings),
            directory=built.directory,
            today=today or date.today(),  # noqa: DTZ011 - dates are the practice's calendar
        )
        self._seen = SeenKeys(earlier_external_ids)
        self._records = Records(record_keys)
        self.counts = TransactionCounts()

    @property
    def today(self) -> date:
        return self._context.today

    def transactions(self, chunk: pd.DataFrame) -> NormalizedChunk:
        """One chunk of transaction rows as ledger entries and quarantine rows."""
        with collector_paused():  # many strings and decimals, no cycles
            result = normalize_chunk(
                chunk, self._context, self._seen, self.counts.rows + 1, self._records
            )
            normalized = NormalizedChunk(
                ledger_entries=schemas.valid_ledger_entries(result.ledger_columns),
                quarantine=validate(schemas.quarantine, result.quarantine),
            )
        self.counts.rows += len(chunk)
        self.counts.ledger_entries += len(normalized.ledger_entries)
        self.counts.deleted += result.deleted
        self.counts.quarantined.update(result.quarantined)
        return normalized
