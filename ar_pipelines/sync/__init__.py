"""Push with change detection: send AR only what is new or changed, retry what did not
land, and void what disappeared from the source.

::

    from ar_pipelines.sync import push_changes, voids_for_missing

    report = push_changes(client, warehouse, practice_id="P1", kind="customers",
                          records=customers)
    report = push_changes(client, warehouse, practice_id="P1", kind="ledger_entries",
                          records=entries)
    report.clean, report.summary()          # counts, for Dagster metadata

State lives in the warehouse (``push.state``, ``push.dead_letter``). No Dagster here.
"""

from ar_pipelines.sync.payloads import Kind, payload_hashes, records_frame
from ar_pipelines.sync.push import DEFAULT_SLICE_SIZE, push_changes
from ar_pipelines.sync.report import SyncCounts, SyncIncompleteError, SyncReport
from ar_pipelines.sync.voids import voids_for_missing

__all__ = [
    "DEFAULT_SLICE_SIZE",
    "Kind",
    "SyncCounts",
    "SyncIncompleteError",
    "SyncReport",
    "payload_hashes",
    "push_changes",
    "records_frame",
    "voids_for_missing",
]
