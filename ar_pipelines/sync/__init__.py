"""The warehouse's records kept in step with the source and with AR: a practice's raw rows
normalized into the warehouse (``normalize_practice``), and pushed with change detection:
send AR only what is new or changed, retry what did not land, and void what disappeared
from the source.

::

    from ar_pipelines.sync import normalize_practice, push_changes, voids_for_missing

    outcome = normalize_practice(warehouse, source, practice_id="P1",
                                 sikka_practice_id="1", settings=settings)

    report = push_changes(client, warehouse, practice_id="P1", kind="customers",
                          records=customers)
    report = push_changes(client, warehouse, practice_id="P1", kind="ledger_entries",
                          records=entries)
    report.clean, report.summary()          # counts, for Dagster metadata

State lives in the warehouse (``push.state``, ``push.dead_letter``, ``push.cursors``).
No Dagster here.
"""

from ar_pipelines.sync.normalized import NormalizeOutcome, normalize_practice
from ar_pipelines.sync.payloads import Kind, payload_hashes, records_frame
from ar_pipelines.sync.push import DEFAULT_SLICE_SIZE, push_changes
from ar_pipelines.sync.report import SyncCounts, SyncIncompleteError, SyncReport
from ar_pipelines.sync.voids import voids_for_missing

__all__ = [
    "DEFAULT_SLICE_SIZE",
    "Kind",
    "NormalizeOutcome",
    "SyncCounts",
    "SyncIncompleteError",
    "SyncReport",
    "normalize_practice",
    "payload_hashes",
    "push_changes",
    "records_frame",
    "voids_for_missing",
]
