"""Source rows to AR records: customers and ledger entries, or the quarantine with a reason.

``Normalizer`` takes one practice's ``PracticeSettings`` and reads the small tables
(payment types, patients, guarantors) once, then transaction chunks in loaded order;
``normalize`` does a whole extract at once and ``write_outputs`` writes customers.csv,
ledger_entries.csv and quarantine.csv. Every source row ends in exactly one place: a
record, or one quarantine row with a ``Reason``.
"""

from ar_pipelines.normalize.normalizer import NormalizedChunk, Normalizer, TransactionCounts
from ar_pipelines.normalize.outputs import Counts, Normalized, normalize, write_outputs
from ar_pipelines.normalize.settings import PracticeSettings

__all__ = [
    "Counts",
    "Normalized",
    "NormalizedChunk",
    "Normalizer",
    "PracticeSettings",
    "TransactionCounts",
    "normalize",
    "write_outputs",
]
