"""The warehouse's records kept in step with the source and with AR, a practice at a
time: its raw rows extracted (``extract_patients``, ``extract_transactions``),
normalized into the warehouse (``normalize_practice``), pushed with change detection
(send AR only what is new or changed, retry what did not land, void what disappeared
from the source), and its statements enrolled (``sync.enroll``).

::

    from ar_pipelines import sync

    practice = sync.PracticeIds(id="P1", sikka_practice_id="1")
    sync.extract_patients(warehouse, source, practice)
    sync.extract_transactions(warehouse, source, practice)
    outcome = sync.normalize_practice(warehouse, source, practice, settings=settings)
    report = sync.push_customers(client, warehouse, practice_id="P1")
    report = sync.push_ledger_entries(client, warehouse, practice_id="P1")
    report.clean, report.summary()          # counts, for Dagster metadata

``plan_practice`` works out what the next push will send and what it will do to AR's
statements, without sending anything; ``judge`` holds the plan against the practice's
``PlanLimits``. ``plan_repair`` and ``apply_repair`` repair in AR what a reconciliation
explained (``docs/repair.md``). ``push_changes`` pushes any frame of records of one kind.
State lives in the warehouse (``push.state``, ``push.dead_letter``, ``push.cursors``).
No Dagster here.
"""

from ar_pipelines.sync.extract import (
    PatientsExtract,
    TransactionsExtract,
    extract_patients,
    extract_transactions,
)
from ar_pipelines.sync.normalized import NormalizeOutcome, normalize_practice
from ar_pipelines.sync.payloads import Kind, payload_hashes, records_frame
from ar_pipelines.sync.plan import (
    Breach,
    PlanLimits,
    PlannedKind,
    PushPlan,
    StatementPlan,
    compare_statements,
    judge,
    plan_kind,
    plan_practice,
    write_plan_files,
)
from ar_pipelines.sync.practice import PracticeIds, SourcedPractice
from ar_pipelines.sync.push import (
    DEFAULT_SLICE_SIZE,
    push_changes,
    push_customers,
    push_ledger_entries,
)
from ar_pipelines.sync.repair import (
    Refusal,
    RepairOutcome,
    RepairPlan,
    apply_repair,
    plan_repair,
)
from ar_pipelines.sync.report import SyncCounts, SyncIncompleteError, SyncReport
from ar_pipelines.sync.voids import voids_for_missing

__all__ = [
    "DEFAULT_SLICE_SIZE",
    "Breach",
    "Kind",
    "NormalizeOutcome",
    "PatientsExtract",
    "PlanLimits",
    "PlannedKind",
    "PracticeIds",
    "PushPlan",
    "Refusal",
    "RepairOutcome",
    "RepairPlan",
    "SourcedPractice",
    "StatementPlan",
    "SyncCounts",
    "SyncIncompleteError",
    "SyncReport",
    "TransactionsExtract",
    "apply_repair",
    "compare_statements",
    "extract_patients",
    "extract_transactions",
    "judge",
    "normalize_practice",
    "payload_hashes",
    "plan_kind",
    "plan_practice",
    "plan_repair",
    "push_changes",
    "push_customers",
    "push_ledger_entries",
    "records_frame",
    "voids_for_missing",
    "write_plan_files",
]
