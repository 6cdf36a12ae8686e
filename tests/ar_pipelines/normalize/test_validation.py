"""The faster path to a schema's verdict gives the schema's verdict, whatever the frame."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pandera.errors as pa_errors
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ar_pipelines.normalize import schemas, validation
from ar_pipelines.normalize.quarantine import QUARANTINE_COLUMNS
from ar_pipelines.normalize.text import Coded
from ar_pipelines.normalize.transactions import LEDGER_COLUMNS
from tests.ar_pipelines.normalize.test_schemas import ledger_columns, passes_fast

# Values each ledger column may hold: good ones, then bad ones. A random frame has bad
# values in a column or two, so that it fails one check at a time as often as several.
GOOD: dict[str, list[Any]] = {
    "customer_external_id": ["P1-PT1", "P2-PT9"],
    "transaction_date": ["2026-01-05", "2024-02-29"],
    "transaction_type": ["charge", "patient_payment", "other_credit", "adjustment"],
    "amount": [Decimal("12.50"), Decimal("-3.00"), Decimal("0.00")],
    "amount_paid": [None, Decimal("2.00")],
    "estimated_insurance": [None, Decimal("80.00")],
    "payment_link_id": [None, "P1-9"],
    "procedure_code": [None, "D1110"],
    "description": [None, "Prophylaxis"],
}
BAD: dict[str, list[Any]] = {
    "external_id": ["P1-1", "P1-1", "", None, "x" * 101, 7],
    "customer_external_id": [None, "c" * 243],
    "transaction_date": ["05/01/2026", None],
    "transaction_type": ["payment_allocation", None],
    "amount": [Decimal("1.005"), Decimal("1E+10"), 12.5, None],
    "amount_paid": [Decimal("NaN")],
    "estimated_insurance": ["80.00"],
    "payment_link_id": ["l" * 101],
    "procedure_code": ["p" * 51],
    "description": [b"bytes"],
}


def _schema_accepts(schema: Any, frame: pd.DataFrame) -> bool:
    try:
        schema.validate(frame)
    except pa_errors.SchemaError:
        return False
    return True


@st.composite
def ledger_frames(draw: st.DrawFn) -> pd.DataFrame:
    size = draw(st.integers(min_value=0, max_value=6))
    spoilt = draw(st.sets(st.sampled_from(LEDGER_COLUMNS), max_size=2))
    columns: dict[str, list[Any]] = {"external_id": [f"P1-{n}" for n in range(size)]}
    for name in LEDGER_COLUMNS:
        pool = [*GOOD.get(name, []), *BAD[name]] if name in spoilt else GOOD.get(name)
        if pool:
            columns[name] = [draw(st.sampled_from(pool)) for _ in range(size)]
    return pd.DataFrame({name: pd.Series(v, dtype=object) for name, v in columns.items()})


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=ledger_frames())
def test_the_fast_path_accepts_a_ledger_frame_exactly_when_the_schema_does(
    frame: pd.DataFrame,
) -> None:
    accepted = _schema_accepts(schemas.ledger_entries, frame)

    assert passes_fast(frame) is accepted
    if accepted:
        assert schemas.valid_ledger_entries(ledger_columns(frame)).equals(frame)
    else:
        with pytest.raises(pa_errors.SchemaError):
            schemas.valid_ledger_entries(ledger_columns(frame))


def test_an_unused_bad_value_leaves_the_verdict_to_the_schema() -> None:
    amounts = Coded(
        codes=np.array([0, 0], dtype=np.intp),
        values=np.array([Decimal("5.00"), Decimal("0.001")], dtype=object),
    )
    columns = {**ledger_columns(_charges(2)), "amount": amounts}
    frame = schemas.valid_ledger_entries(columns)

    assert frame["amount"].tolist() == [Decimal("5.00"), Decimal("5.00")]
    assert not validation.passes(
        schemas.ledger_entries,
        frame,
        distinct={"amount": amounts},
        row_checks=schemas.LEDGER_ROW_CHECKS,
    )


def test_a_sign_is_judged_per_row_not_per_value() -> None:
    # Each type and each amount is fine with some row; the third row pairs them wrongly.
    five, minus_five = Decimal("5.00"), Decimal("-5.00")
    frame = _charges(3)
    frame["transaction_type"] = pd.Series(["charge", "patient_payment", "charge"], dtype=object)
    frame["amount"] = pd.Series([five, minus_five, minus_five], dtype=object)

    assert not passes_fast(frame)
    with pytest.raises(pa_errors.SchemaError, match="sign_follows_type"):
        schemas.valid_ledger_entries(ledger_columns(frame))


def test_a_ledger_frame_with_its_columns_out_of_order_is_refused() -> None:
    frame = _charges(2)
    swapped = frame[[*LEDGER_COLUMNS[1:], LEDGER_COLUMNS[0]]]

    assert not validation.passes(schemas.ledger_entries, swapped)
    with pytest.raises((pa_errors.SchemaError, pa_errors.SchemaErrors)):
        validation.validate(schemas.ledger_entries, swapped)


def _charges(count: int) -> pd.DataFrame:
    five = Decimal("5.00")
    rows = {
        "external_id": [f"P1-{n}" for n in range(count)],
        "customer_external_id": ["P1-PT1"] * count,
        "transaction_date": ["2026-01-05"] * count,
        "transaction_type": ["charge"] * count,
        "amount": [five] * count,
    }
    return pd.DataFrame(
        {name: pd.Series(rows.get(name, [None] * count), dtype=object) for name in LEDGER_COLUMNS}
    )


def _quarantine(**changes: list[Any]) -> pd.DataFrame:
    columns: dict[str, list[Any]] = {
        "source": ["transactions", "transactions"],
        "practice_id": ["P1", None],
        "source_id": ["7", None],
        "row_number": [1, 2],
        "loaded_date": ["2026-05-01 08:00:00", None],
        "reason": ["amount_unparseable", "id_invalid"],
        "detail": ["amount 'x' is not a number", "practice_id is empty"],
        "raw": ['{"amount": "x"}', "{}"],
    }
    columns.update(changes)
    return pd.DataFrame(
        {
            name: pd.Series(columns[name], dtype=np.int64 if name == "row_number" else object)
            for name in QUARANTINE_COLUMNS
        }
    )


def test_a_well_formed_quarantine_passes_the_fast_path() -> None:
    frame = _quarantine()

    assert validation.passes(schemas.quarantine, frame)
    assert validation.validate(schemas.quarantine, frame) is frame


@pytest.mark.parametrize(
    "changes",
    [
        {"row_number": [1, 1]},  # one source row quarantined twice
        {"row_number": [0, 2]},
        {"reason": ["amount_unparseable", "no_such_reason"]},
        {"source": ["transactions", "ledger"]},
        {"detail": ["", "practice_id is empty"]},
        {"raw": [None, "{}"]},
        {"practice_id": [7, None]},
    ],
)
def test_a_quarantine_the_schema_refuses_is_refused_by_the_fast_path(
    changes: dict[str, list[Any]],
) -> None:
    frame = _quarantine(**changes)
    with pytest.raises(pa_errors.SchemaError) as declared:
        schemas.quarantine.validate(frame)

    assert not validation.passes(schemas.quarantine, frame)
    with pytest.raises(pa_errors.SchemaError) as fast:
        validation.validate(schemas.quarantine, frame)
    assert str(fast.value) == str(declared.value)


def test_a_row_number_that_is_not_an_integer_column_is_refused() -> None:
    frame = _quarantine()
    frame["row_number"] = frame["row_number"].astype(object)

    assert not validation.passes(schemas.quarantine, frame)
    with pytest.raises(pa_errors.SchemaError):
        validation.validate(schemas.quarantine, frame)
