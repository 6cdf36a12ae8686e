"""Small frames shaped as the normalizer makes them, for the warehouse and sync tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd

from ar_pipelines.normalize import schemas

LEDGER_COLUMNS = tuple(schemas.ledger_entries.columns)
CUSTOMER_COLUMNS = tuple(schemas.customers.columns)


def ledger_row(external_id: str, amount: str = "10.00", **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(LEDGER_COLUMNS)
    row.update(
        external_id=external_id,
        customer_external_id="P1-C1",
        transaction_date="2024-01-15",
        transaction_type="charge",
        amount=Decimal(amount),
    )
    row.update(fields)
    return row


def ledger(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {name: pd.Series([row[name] for row in rows], dtype=object) for name in LEDGER_COLUMNS}
    )


def customer_row(external_id: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(CUSTOMER_COLUMNS)
    row.update(external_id=external_id, email=f"{external_id.lower()}@example.com")
    row.update(fields)
    return row


def customers(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {name: pd.Series([row[name] for row in rows], dtype=object) for name in CUSTOMER_COLUMNS}
    )
