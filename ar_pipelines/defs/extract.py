"""Raw rows from a practice's source into the warehouse: patients whole, transactions
incrementally from the practice's cursor.

The cursor a read returns is kept as *pending*; normalization promotes it once the rows
are normalized and stored, so a run that fails in between reads the same rows again.
"""

from datetime import datetime
from typing import Any

import dagster as dg
import pandas as pd

from ar_pipelines.defs.common import (
    RAW_PATIENTS,
    RAW_TRANSACTIONS,
    ExtractConfig,
    practice_of,
    retried_when_transient,
    utc_now,
)
from ar_pipelines.defs.resources import Settings, Sources, WarehouseResource
from ar_pipelines.sources.schema import TRANSACTION_COLUMNS
from ar_pipelines.warehouse import RAW_TRANSACTIONS as RAW_TRANSACTIONS_TABLE

CURSOR = "transactions"
PENDING_CURSOR = "transactions_pending"


def extract_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(
        key=RAW_PATIENTS,
        partitions_def=partitions,
        group_name="extract",
        kinds={"sql"},
        description="The practice's patients as the source has them now, as text.",
    )
    def raw_patients(
        context: dg.AssetExecutionContext,
        sources: Sources,
        warehouse: WarehouseResource,
        settings: Settings,
    ) -> dg.MaterializeResult[Any]:
        practice = practice_of(context, settings)
        with retried_when_transient(context), sources.open(practice) as source:
            patients = source.patients(practice_id=practice.id)
        patients = patients.assign(practice_id=practice.id, extracted_at=utc_now())
        with retried_when_transient(context), warehouse.open() as store:
            store.replace("raw.patients", patients, practice_id=practice.id)
        return dg.MaterializeResult(metadata={"rows": len(patients)})

    @dg.asset(
        key=RAW_TRANSACTIONS,
        partitions_def=partitions,
        group_name="extract",
        kinds={"sql"},
        description=(
            "The practice's transactions loaded since its cursor (less a lookback), as "
            "text: this run's increment."
        ),
    )
    def raw_transactions(
        context: dg.AssetExecutionContext,
        config: ExtractConfig,
        sources: Sources,
        warehouse: WarehouseResource,
        settings: Settings,
    ) -> dg.MaterializeResult[Any]:
        practice = practice_of(context, settings)
        with retried_when_transient(context), warehouse.open() as store:
            since = None if config.full_refresh else store.get_cursor(practice.id, CURSOR)
            extracted_at = utc_now()
            with sources.open(practice) as source:
                extract = source.transactions(practice_id=practice.id, since=since)
                # The table holds this increment only: the first chunk replaces the last one.
                empty = True
                for chunk in extract:
                    rows = chunk.assign(extracted_at=extracted_at)
                    if empty:
                        store.replace(RAW_TRANSACTIONS_TABLE, rows, practice_id=practice.id)
                        empty = False
                    else:
                        store.append(RAW_TRANSACTIONS_TABLE, rows)
                if empty:
                    nothing = pd.DataFrame(columns=list(TRANSACTION_COLUMNS))
                    store.replace(RAW_TRANSACTIONS_TABLE, nothing, practice_id=practice.id)
            if extract.cursor is not None:
                store.set_cursor(practice.id, PENDING_CURSOR, extract.cursor)
        return dg.MaterializeResult(
            metadata={
                "rows": extract.rows,
                "read": "every row" if since is None else "incremental",
                "since": _describe(since),
                "new_cursor": _describe(extract.cursor),
            }
        )

    return [raw_patients, raw_transactions]


def _describe(moment: datetime | None) -> str:
    return "the beginning" if moment is None else moment.isoformat(sep=" ")
