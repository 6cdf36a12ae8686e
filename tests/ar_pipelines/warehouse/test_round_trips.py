"""Values come back from the warehouse as they went in: money to the cent, dates,
text, timestamps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pandas as pd
import pytest

from ar_pipelines.sources.schema import PATIENT_COLUMNS
from ar_pipelines.warehouse import CURSORS, LEDGER_ENTRIES, RAW_PATIENTS, Warehouse
from tests.ar_pipelines.warehouse.frames import ledger, ledger_row

EDGE_AMOUNTS = ("0.01", "-0.01", "9999999999.99", "-9999999999.99", "0.00", "12.5", "7")


def test_money_comes_back_exactly_as_decimals_with_two_places(warehouse: Warehouse) -> None:
    rows = [ledger_row(f"E{i}", amount) for i, amount in enumerate(EDGE_AMOUNTS)]
    rows[0]["amount_paid"] = Decimal("0.10")
    warehouse.replace(LEDGER_ENTRIES, ledger(*rows), practice_id="P1")

    back = warehouse.read(LEDGER_ENTRIES, practice_id="P1").set_index("external_id")

    for i, amount in enumerate(EDGE_AMOUNTS):
        value = back.loc[f"E{i}", "amount"]
        assert isinstance(value, Decimal)
        assert value == Decimal(amount)
        assert value.as_tuple().exponent == -2
    assert back.loc["E0", "amount_paid"] == Decimal("0.10")
    assert back.loc["E1", "amount_paid"] is None


def test_money_sums_in_sql_are_exact_decimals(warehouse: Warehouse) -> None:
    rows = [ledger_row(f"E{i}", "0.01") for i in range(10)]
    rows.append(ledger_row("BIG", "9999999999.99"))
    warehouse.replace(LEDGER_ENTRIES, ledger(*rows), practice_id="P1")

    relation = warehouse.relation(LEDGER_ENTRIES)
    total = warehouse.query(f"select sum(amount) as total from {relation}")  # noqa: S608

    assert total["total"].iloc[0] == Decimal("10000000000.09")


@pytest.mark.parametrize("amount", [Decimal("0.005"), Decimal("1.999"), Decimal("1E+12")])
def test_money_that_does_not_fit_two_places_is_refused_not_rounded(
    warehouse: Warehouse, amount: Decimal
) -> None:
    with pytest.raises(ValueError, match="amount"):
        warehouse.replace(LEDGER_ENTRIES, ledger(ledger_row("E1", str(amount))), practice_id="P1")

    assert warehouse.read(LEDGER_ENTRIES).empty


def test_float_money_is_refused(warehouse: Warehouse) -> None:
    frame = ledger(ledger_row("E1")).assign(amount=[0.1])

    with pytest.raises(ValueError, match="money must be Decimal"):
        warehouse.replace(LEDGER_ENTRIES, frame, practice_id="P1")


def test_dates_come_back_as_dates_whether_written_as_text_or_as_dates(
    warehouse: Warehouse,
) -> None:
    frame = ledger(
        ledger_row("TEXT", transaction_date="2024-02-29"),
        ledger_row("DATE", transaction_date=date(1999, 12, 31)),
        ledger_row("NONE", transaction_date=None),
    )
    warehouse.replace(LEDGER_ENTRIES, frame, practice_id="P1")

    back = warehouse.read(LEDGER_ENTRIES, columns=["external_id", "transaction_date"])
    dates = dict(zip(back["external_id"], back["transaction_date"], strict=True))

    assert dates == {"TEXT": date(2024, 2, 29), "DATE": date(1999, 12, 31), "NONE": None}
    assert type(dates["TEXT"]) is date


def test_a_malformed_date_is_refused(warehouse: Warehouse) -> None:
    with pytest.raises(ValueError, match="not a date"):
        warehouse.replace(
            LEDGER_ENTRIES,
            ledger(ledger_row("E1", transaction_date="15/01/2024")),
            practice_id="P1",
        )


def test_text_keeps_empty_strings_nones_quotes_newlines_and_unicode(warehouse: Warehouse) -> None:
    texts = ["", None, 'say "hi", then, leave', "two\nlines\r\n", "Zoë Ångström 東京", "\\N"]
    frame = pd.DataFrame({name: [None] * len(texts) for name in PATIENT_COLUMNS})
    frame["patient_id"] = [f"PT{i}" for i in range(len(texts))]
    frame["firstname"] = pd.Series(texts, dtype=object)
    warehouse.replace(RAW_PATIENTS, frame, practice_id="P1")

    back = warehouse.read(RAW_PATIENTS, practice_id="P1", columns=["patient_id", "firstname"])

    assert back["firstname"].dtype == object
    got = dict(zip(back["patient_id"], back["firstname"], strict=True))
    assert got == {f"PT{i}": text for i, text in enumerate(texts)}


def test_timestamps_come_back_naive_as_written_and_aware_ones_in_utc(
    warehouse: Warehouse,
) -> None:
    naive = datetime(2024, 3, 1, 8, 30, 15, 123456)  # noqa: DTZ001 - a source's own clock
    aware = datetime(2024, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=-5)))
    frame = pd.DataFrame({"practice_id": "P1", "name": ["naive", "aware"], "value": [naive, aware]})
    before = datetime.now(UTC).replace(tzinfo=None)
    warehouse.upsert(CURSORS, frame)
    after = datetime.now(UTC).replace(tzinfo=None)

    back = warehouse.read(CURSORS, practice_id="P1").set_index("name")

    assert back.loc["naive", "value"] == naive
    assert back.loc["aware", "value"] == datetime(2024, 3, 1, 13, 30)  # noqa: DTZ001
    # A column the frame left out that is filled with the time of the write, in UTC.
    (updated_at,) = back.loc[["naive"], "updated_at"].dt.to_pydatetime()
    assert before <= updated_at <= after
