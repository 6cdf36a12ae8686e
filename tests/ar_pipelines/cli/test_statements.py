"""``ar-pipelines statements``: a ledger file in, the three files out and where they are,
and a ledger that breaks the contract refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ar_pipelines.cli import main
from tests.ar_pipelines.statements.conftest import SMALL_LEDGER, SMALL_LEDGER_FILES


def test_the_command_writes_the_three_expected_files_and_says_where(
    small_ledger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"

    assert main(["statements", "--ledger", str(small_ledger), "--out", str(out)]) == 0

    assert {path.name for path in out.iterdir()} == {f"{name}.csv" for name in SMALL_LEDGER_FILES}
    for name, expected in SMALL_LEDGER_FILES.items():
        assert (out / f"{name}.csv").read_text(encoding="utf-8") == expected
    printed = capsys.readouterr().out
    assert "12 ledger entries" in printed
    assert f"statements: 5 rows in {out / 'statements.csv'}" in printed
    assert f"payment_allocations: 5 rows in {out / 'payment_allocations.csv'}" in printed
    assert f"customer_credits: 4 rows in {out / 'customer_credits.csv'}" in printed


def test_a_ledger_that_breaks_the_contract_exits_2_naming_each_problem_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger_entries.csv"
    ledger.write_text(
        SMALL_LEDGER
        + "TX-1,PT-009,2026-05-03,charge,5.00,,,,,\n"  # TX-1 again
        + "TX-8,PT-009,2026-05-03,patient_payment,5.00,,,,,\n"  # a payment must be <= 0
        + "TX-9,PT-009,2026-05-03,refund,-5.00,,,,,\n",  # not a pushable type
        encoding="utf-8",
    )

    status = main(["statements", "--ledger", str(ledger), "--out", str(tmp_path / "out")])

    assert status == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "1 external_id value(s) repeat" in error
    assert "1 entr(ies) have an amount whose sign their type does not allow" in error
    assert "1 transaction_type value(s) are not one of the six pushable types" in error
    assert not (tmp_path / "out" / "statements.csv").exists()
