"""Each statement gets one status, to the cent, whatever types its money arrives in."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import duckdb
import numpy as np
import pandas as pd
import pytest

from ar_pipelines.client.models import Statement
from ar_pipelines.reconcile import (
    ReconcileInputError,
    Status,
    ar_statements_frame,
    reconcile,
)
from tests.ar_pipelines.reconcile.statements import (
    Side,
    ar_statement,
    both_sides,
    local_frame,
    local_row,
)


def only_row(local: pd.DataFrame, ar: list[Statement]) -> dict[str, object]:
    result = reconcile("PR-1", local, ar)
    assert len(result.rows) == 1
    return {str(name): value for name, value in result.rows.iloc[0].items()}


def test_a_statement_equal_on_both_sides_to_the_cent_is_matched() -> None:
    ar = ar_statement("PT-1", "2026-05", "240.00", "100.00", enrollment_status="enrolled")
    row = only_row(local_frame(local_row("PT-1", "2026-05", "240.00", "100.00")), [ar])

    assert row["status"] == Status.MATCHED
    assert row["key"] == "STMT-2026-05-PT-1"
    assert row["customer_external_id"] == "PT-1"
    assert row["period_start"] == date(2026, 5, 1)
    assert (row["local_amount"], row["ar_amount"]) == (Decimal("240.00"), Decimal("240.00"))
    assert (row["amount_difference"], row["paid_difference"]) == (Decimal(0), Decimal(0))
    assert row["ar_statement_id"] == ar.id
    assert (row["ar_status"], row["enrollment_status"]) == ("not_assigned", "enrolled")
    assert not row["zeroed_in_ar"]


@pytest.mark.parametrize(
    ("local", "ar", "status", "differences"),
    [
        pytest.param(
            ("240.00", "100.00"),
            ("250.00", "100.00"),
            Status.AMOUNT_MISMATCH,
            ("10.00", "0.00"),
            id="AR bills more",
        ),
        pytest.param(
            ("80.00", "0.00"),
            ("70.00", "70.00"),
            Status.AMOUNT_MISMATCH,
            ("-10.00", "70.00"),
            id="AR bills less and applies more: an amount mismatch whatever was paid",
        ),
        pytest.param(
            ("240.00", "100.00"),
            ("240.00", "140.00"),
            Status.PAID_MISMATCH,
            ("0.00", "40.00"),
            id="equal amounts with different payments applied",
        ),
        pytest.param(
            ("240.00", "100.00"),
            ("240.01", "100.00"),
            Status.AMOUNT_MISMATCH,
            ("0.01", "0.00"),
            id="one cent of amount",
        ),
        pytest.param(
            ("10.00", "10.00"),
            ("10.00", "9.99"),
            Status.PAID_MISMATCH,
            ("0.00", "-0.01"),
            id="one cent of paid amount",
        ),
        pytest.param(
            ("12.00", "0.00"),
            ("0.00", "0.00"),
            Status.AMOUNT_MISMATCH,
            ("-12.00", "0.00"),
            id="zeroed in AR while the ledger still bills it",
        ),
    ],
)
def test_a_statement_on_both_sides_differs_by_its_amount_first_then_by_what_was_paid(
    local: Side, ar: Side, status: Status, differences: tuple[str, str]
) -> None:
    row = only_row(*both_sides(("PT-1", "2026-05", local, ar)))

    assert row["status"] == status
    assert (row["amount_difference"], row["paid_difference"]) == tuple(map(Decimal, differences))
    assert not row["zeroed_in_ar"]


def test_a_statement_only_computed_locally_is_missing_in_ar() -> None:
    row = only_row(local_frame(local_row("PT-1", "2026-05", "240.00", "100.00")), [])

    assert row["status"] == Status.MISSING_IN_AR
    assert row["customer_external_id"] == "PT-1"
    assert row["period_start"] == date(2026, 5, 1)
    assert row["ar_amount"] is None
    assert row["ar_paid"] is None
    assert row["ar_statement_id"] is None
    assert row["amount_difference"] == Decimal("-240.00")
    assert row["paid_difference"] == Decimal("-100.00")


def test_a_statement_only_in_ar_is_unexpected_and_its_customer_is_read_from_its_number() -> None:
    ar = ar_statement("PR-1-P-7", "2026-02", "35.50", "0.00")
    row = only_row(local_frame(), [ar])

    assert row["status"] == Status.UNEXPECTED_IN_AR
    assert row["customer_external_id"] == "PR-1-P-7"
    assert row["period_start"] == date(2026, 2, 1)
    assert row["local_amount"] is None
    assert row["amount_difference"] == Decimal("35.50")
    assert row["ar_statement_id"] == ar.id


def test_an_enrolled_statement_kept_at_zero_in_ar_without_a_local_one_is_matched() -> None:
    zeroed = ar_statement(
        "PT-1", "2026-03", "0.00", "0.00", status="in_progress", enrollment_status="enrolled"
    )

    result = reconcile("PR-1", local_frame(), [zeroed])

    assert list(result.rows["status"]) == [Status.MATCHED]
    assert result.clean
    assert result.counts()["zeroed_in_ar"] == 1
    assert result.counts()["matched"] == 1
    assert bool(result.rows["zeroed_in_ar"].iloc[0]) is True


def test_an_ar_only_statement_with_a_balance_is_not_taken_for_a_zeroed_one() -> None:
    paid_only = ar_statement("PT-1", "2026-03", "0.00", "5.00")
    row = only_row(local_frame(), [paid_only])

    assert row["status"] == Status.UNEXPECTED_IN_AR
    assert not row["zeroed_in_ar"]


def test_float_money_from_a_database_driver_makes_no_false_mismatch() -> None:
    local, ar = both_sides(
        ("PT-1", "2026-01", (0.1 + 0.2, 0.1), ("0.30", "0.10")),
        ("PT-2", "2026-01", (1.1 * 3, 100.0 - 99.99), ("3.30", "0.01")),
        ("PT-3", "2026-01", (1234567.89, 0.0), ("1234567.89", "0.00")),
    )
    assert local["amount"].dtype == np.float64

    result = reconcile("PR-1", local, ar)

    assert result.clean
    assert list(result.rows["local_amount"]) == [
        Decimal("0.30"),
        Decimal("3.30"),
        Decimal("1234567.89"),
    ]
    assert all(type(v) is Decimal for v in result.rows["local_outstanding"])


def test_money_as_text_and_dates_as_text_timestamps_or_datetimes_read_alike() -> None:
    local, ar = both_sides(
        ("PT-1", "2026-01", ("12.5", "0"), ("12.50", "0.00")),
        ("PT-2", "2026-02", (" 7.25 ", "7.250"), ("7.25", "7.25")),
        ("PT-3", "2026-03", ("99.99", "1.00"), ("99.99", "1.00")),
        ("PT-4", "2026-04", (3, 1), ("3.00", "1.00")),
    )
    local["period_start"] = pd.Series(
        [
            "2026-01-01",
            pd.Timestamp("2026-02-01"),
            datetime(2026, 3, 1, 0, 0),  # noqa: DTZ001 - a driver's naive timestamp
            "2026-04-01T00:00:00",
        ],
        dtype=object,
    )
    result = reconcile("PR-1", local, ar)

    assert result.clean
    assert list(result.rows["period_start"]) == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
        date(2026, 4, 1),
    ]
    assert list(result.rows["local_amount"]) == [
        Decimal("12.50"),
        Decimal("7.25"),
        Decimal("99.99"),
        Decimal("3.00"),
    ]


def test_a_datetime64_column_from_a_driver_is_read_as_dates() -> None:
    local = local_frame(local_row("PT-1", "2026-01", "12.50", "0.00"))
    local["period_start"] = pd.to_datetime(local["period_start"])

    result = reconcile("PR-1", local, [ar_statement("PT-1", "2026-01", "12.50", "0.00")])

    assert result.clean
    assert result.rows["period_start"].iloc[0] == date(2026, 1, 1)


@pytest.mark.parametrize("bad", [float("nan"), None, pd.NA, Decimal("NaN")])
def test_a_missing_or_nan_amount_is_refused_naming_its_statement(bad: object) -> None:
    local = local_frame(
        local_row("PT-1", "2026-01", "1.00", "0.00"),
        local_row("PT-2", "2026-01", "1.00", "0.00"),
    )
    local["amount"] = pd.Series([Decimal("1.00"), bad], dtype=object)

    with pytest.raises(ReconcileInputError, match=r"local amount of STMT-2026-01-PT-2 is missing"):
        reconcile("PR-1", local, [])


@pytest.mark.parametrize("bad", ["1,000.00", "n/a", "Infinity", True, float("inf")])
def test_a_value_that_is_not_money_is_refused(bad: object) -> None:
    local = local_frame(local_row("PT-1", "2026-01", "1.00", "0.00"))
    local["paid_amount"] = pd.Series([bad], dtype=object)

    with pytest.raises(ReconcileInputError, match=r"local paid_amount of STMT-2026-01-PT-1"):
        reconcile("PR-1", local, [])


def test_a_date_that_is_not_a_date_is_refused() -> None:
    local = local_frame(local_row("PT-1", "2026-01", "1.00", "0.00"))
    local["period_start"] = ["January"]

    with pytest.raises(ReconcileInputError, match=r"period_start of STMT-2026-01-PT-1"):
        reconcile("PR-1", local, [])


def test_a_frame_without_a_money_column_is_refused_naming_it() -> None:
    local = local_frame(local_row("PT-1", "2026-01", "1.00", "0.00")).drop(columns=["amount"])

    with pytest.raises(ReconcileInputError, match=r"local statements lack column.*amount"):
        reconcile("PR-1", local, [])


def test_a_statement_number_repeated_on_one_side_is_refused() -> None:
    twice = [
        ar_statement("PT-1", "2026-01", "1.00", "0.00"),
        ar_statement("PT-1", "2026-01", "2.00", "0.00"),
    ]

    with pytest.raises(ReconcileInputError, match=r"AR statements repeat .* STMT-2026-01-PT-1"):
        reconcile("PR-1", local_frame(), twice)


def test_ar_statements_as_a_frame_reconcile_as_the_models_do() -> None:
    local, ar = both_sides(
        ("PT-1", "2026-05", ("240.00", "100.00"), ("240.00", "90.00")),
        ("PT-2", "2026-05", ("80.00", "0.00"), None),
        ("PT-3", "2026-05", None, ("5.00", "0.00")),
    )
    frame = ar_statements_frame(ar)
    frame["amount"] = frame["amount"].astype(str)  # as read back from a CSV, say

    from_models = reconcile("PR-1", local, ar)
    from_frame = reconcile("PR-1", local, frame)

    assert set(frame.columns) >= {"id", "external_invoice_id", "amount", "enrollment_status"}
    pd.testing.assert_frame_equal(from_models.rows, from_frame.rows)


def test_nothing_on_either_side_is_clean_and_empty() -> None:
    result = reconcile("PR-1", local_frame(), [])

    assert result.clean
    assert result.rows.empty
    assert result.by_month.empty
    assert result.counts()["total"] == 0
    assert result.summary()["totals"] == {
        name: "0.00"
        for name in (
            "local_billed",
            "local_paid",
            "local_outstanding",
            "ar_billed",
            "ar_paid",
            "ar_outstanding",
        )
    }


def test_rows_are_one_per_statement_number_sorted_by_it() -> None:
    local, ar = both_sides(
        ("PT-2", "2026-05", ("1.00", "0.00"), None),
        ("PT-1", "2026-06", ("1.00", "0.00"), None),
        ("PT-1", "2026-05", ("1.00", "0.00"), ("1.00", "0.00")),
        ("PT-0", "2026-05", None, ("1.00", "0.00")),
    )

    result = reconcile("PR-1", local, ar)

    assert list(result.rows["key"]) == [
        "STMT-2026-05-PT-0",
        "STMT-2026-05-PT-1",
        "STMT-2026-05-PT-2",
        "STMT-2026-06-PT-1",
    ]
    assert list(result.rows["status"]) == [
        Status.UNEXPECTED_IN_AR,
        Status.MATCHED,
        Status.MISSING_IN_AR,
        Status.MISSING_IN_AR,
    ]


def test_frames_cut_from_bigger_ones_keep_each_statement_with_its_own_values() -> None:
    local = local_frame(
        local_row("PT-1", "2026-05", "1.00", "0.00"),
        local_row("PT-2", "2026-05", "2.00", "0.00"),
        local_row("PT-3", "2026-05", "3.00", "0.00"),
    ).iloc[[2, 0]]
    ar = ar_statements_frame(
        [
            ar_statement("PT-1", "2026-05", "1.00", "0.00"),
            ar_statement("PT-3", "2026-05", "3.00", "0.50"),
        ]
    ).iloc[::-1]

    result = reconcile("PR-1", local, ar)

    assert list(result.rows["key"]) == ["STMT-2026-05-PT-1", "STMT-2026-05-PT-3"]
    assert list(result.rows["status"]) == [Status.MATCHED, Status.PAID_MISMATCH]
    assert list(result.rows["ar_paid"]) == [Decimal("0.00"), Decimal("0.50")]


def test_statements_read_from_duckdb_as_floats_and_timestamps_match_ar_to_the_cent() -> None:
    amounts = ["0.30", "0.01", "33.33", "1234567.89", "9999999999.99"]
    with duckdb.connect() as connection:
        connection.execute(
            "create table statements (external_invoice_id text, customer_external_id text,"
            " period_start date, amount decimal(14,2), paid_amount decimal(14,2),"
            " outstanding decimal(14,2))"
        )
        for n, amount in enumerate(amounts):
            connection.execute(
                "insert into statements values (?, ?, ?, ?, ?, ?)",
                [f"STMT-2026-01-PT-{n}", f"PT-{n}", date(2026, 1, 1), amount, "0.10", None],
            )
        connection.execute("update statements set outstanding = amount - paid_amount")
        local = connection.sql("select * from statements").df()
    assert local["amount"].dtype == np.float64  # as DuckDB hands DECIMAL to pandas
    ar = [ar_statement(f"PT-{n}", "2026-01", a, "0.10") for n, a in enumerate(amounts)]

    result = reconcile("PR-1", local, ar)

    assert result.clean, result.mismatches()
    assert result.totals()["local_billed"] == sum(map(Decimal, amounts))
    assert result.totals()["local_outstanding"] == sum(map(Decimal, amounts)) - Decimal("0.50")
