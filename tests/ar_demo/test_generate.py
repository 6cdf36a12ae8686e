"""The demo generator: seeded rows of every source kind, with defects planted on request."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from ar_demo.defects import PATIENT_DEFECTS, Defect
from ar_demo.generate import GenerationSummary, generate
from ar_pipelines.cli import main
from tests.ar_pipelines.sources.source_checks import (
    patient_defects,
    read,
    transaction_defects,
)

END = date(2026, 6, 30)
SIZE: dict[str, Any] = {"practices": 3, "patients": 120, "months": 12, "end": END}
Tables = dict[str, list[dict[str, Any]]]


def sqlite_url(directory: Path, name: str) -> str:
    return f"sqlite:///{directory / name}.db"


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> tuple[GenerationSummary, Tables]:
    url = sqlite_url(tmp_path_factory.mktemp("generate"), "defective")
    summary = generate(url, seed=11, defect_rate=0.05, **SIZE)
    return summary, read(url)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    url = sqlite_url(tmp_path_factory.mktemp("generate"), "clean")
    generate(url, seed=11, **SIZE)
    return read(url)


def test_the_same_seed_writes_identical_rows_and_another_seed_different_ones(
    tmp_path: Path, defective: tuple[GenerationSummary, Tables]
) -> None:
    again, other = sqlite_url(tmp_path, "again"), sqlite_url(tmp_path, "other")
    generate(again, seed=11, defect_rate=0.05, **SIZE)
    generate(other, seed=12, defect_rate=0.05, **SIZE)
    assert read(again) == defective[1]
    assert read(other)["transactions"] != defective[1]["transactions"]
    assert read(other)["patients"] != defective[1]["patients"]


def test_the_summary_counts_what_was_written(defective: tuple[GenerationSummary, Tables]) -> None:
    summary, tables = defective
    assert summary.rows == {name: len(rows) for name, rows in tables.items()}
    assert (summary.start, summary.end) == (date(2025, 7, 1), END)
    assert sum(summary.defects.values()) == len(tables["demo_defects"])


def test_every_defect_kind_is_planted_and_recorded(
    defective: tuple[GenerationSummary, Tables],
) -> None:
    summary, tables = defective
    recorded = Counter(row["defect"] for row in tables["demo_defects"])
    assert set(recorded) == {d.value for d in Defect}
    assert summary.defects == dict(recorded)
    transactions = sum(n for d, n in recorded.items() if Defect(d) not in PATIENT_DEFECTS)
    assert transactions == pytest.approx(0.05 * len(tables["transactions"]), abs=2)


def test_each_planted_transaction_shows_exactly_its_defect_and_every_other_row_none(
    defective: tuple[GenerationSummary, Tables],
) -> None:
    _, tables = defective
    planted = {
        int(r["source_id"]): Defect(r["defect"])
        for r in tables["demo_defects"]
        if r["table_name"] == "transactions"
    }
    shown = transaction_defects(tables, END)
    assert {row_id: found for row_id, found in shown.items() if found} == {
        row_id: [defect] for row_id, defect in planted.items()
    }


def test_each_planted_patient_shows_exactly_its_defect_and_has_clean_transactions(
    defective: tuple[GenerationSummary, Tables],
) -> None:
    _, tables = defective
    planted = {
        (r["practice_id"], r["source_id"]): Defect(r["defect"])
        for r in tables["demo_defects"]
        if r["table_name"] == "patients"
    }
    shown = {(p["practice_id"], p["patient_id"]): patient_defects(p) for p in tables["patients"]}
    assert {key: found for key, found in shown.items() if found} == {
        key: [defect] for key, defect in planted.items()
    }
    bad_transactions = {int(r["source_id"]) for r in tables["demo_defects"]}
    for key, defect in planted.items():
        own = [t for t in tables["transactions"] if (t["practice_id"], t["patient_id"]) == key]
        assert own, f"{key} ({defect}) has no transaction"
        assert not {t["row_id"] for t in own} & bad_transactions


def test_a_duplicate_reuses_the_number_of_a_clean_row_loaded_earlier(
    defective: tuple[GenerationSummary, Tables],
) -> None:
    _, tables = defective
    by_id = {t["row_id"]: t for t in tables["transactions"]}
    planted = {
        int(r["source_id"]) for r in tables["demo_defects"] if r["table_name"] == "transactions"
    }
    duplicates = [
        by_id[int(r["source_id"])]
        for r in tables["demo_defects"]
        if r["defect"] == "duplicate_sr_no"
    ]
    assert duplicates
    for row in duplicates:
        originals = [
            t
            for t in tables["transactions"]
            if (t["practice_id"], t["transaction_sr_no"])
            == (row["practice_id"], row["transaction_sr_no"])
            and t["row_id"] != row["row_id"]
        ]
        assert len(originals) == 1
        assert originals[0]["loaded_date"] < row["loaded_date"]
        assert originals[0]["row_id"] not in planted


def test_without_a_defect_rate_nothing_is_planted_and_every_row_is_clean(clean: Tables) -> None:
    assert clean["demo_defects"] == []
    assert not any(transaction_defects(clean, END).values())
    assert not any(patient_defects(p) for p in clean["patients"])


def test_every_kind_of_source_row_the_mapping_knows_is_present(clean: Tables) -> None:
    types = {(t["practice_id"], t["code"]): t for t in clean["payment_types"]}
    kinds: Counter[str] = Counter()
    for row in clean["transactions"]:
        kind, amount = row["transaction_type"], float(row["amount"])
        payment_type = types.get((row["practice_id"], row["payment_type"]))
        if kind == "Payment":
            assert payment_type is not None
            assert amount > 0
            if payment_type["is_insurance_type"] == "1":
                kinds["insurance payment"] += 1
            elif payment_type["is_refund_type"] == "1":
                kinds["refund"] += 1
            else:
                kinds["patient payment"] += 1
        elif kind == "Adjustment":
            assert payment_type is not None
            assert amount != 0
            if payment_type["is_debit_adjustment_type"] == "1":
                assert amount > 0
                kinds["finance charge"] += 1
            kinds["debit adjustment" if amount > 0 else "credit adjustment"] += 1
        else:
            assert kind == "Procedure"
            assert amount > 0
            assert row["procedure_code"]
            kinds[
                "procedure with insurance paid" if float(row["insurance_payment"]) else "procedure"
            ] += 1
        kinds["deleted"] += row["is_deleted"] == "1"
    assert set(kinds) == {
        "insurance payment", "refund", "patient payment", "finance charge", "debit adjustment",
        "credit adjustment", "procedure with insurance paid", "procedure", "deleted",
    }  # fmt: skip
    assert all(kinds.values())


def test_insurance_payments_link_to_an_earlier_procedure_of_the_same_patient(
    clean: Tables,
) -> None:
    procedures = {
        (t["practice_id"], t["transaction_sr_no"]): t
        for t in clean["transactions"]
        if t["transaction_type"] == "Procedure"
    }
    insurance = {
        (t["practice_id"], t["code"])
        for t in clean["payment_types"]
        if t["is_insurance_type"] == "1"
    }
    linked = [t for t in clean["transactions"] if t["payment_link_id"]]
    assert linked
    for payment in linked:
        assert (payment["practice_id"], payment["payment_type"]) in insurance
        procedure = procedures[(payment["practice_id"], payment["payment_link_id"])]
        assert procedure["patient_id"] == payment["patient_id"]
        weeks = (
            date.fromisoformat(payment["transaction_date"])
            - date.fromisoformat(procedure["transaction_date"])
        ).days / 7
        assert 2 <= weeks <= 8
        assert procedure["loaded_date"] < payment["loaded_date"]
    assert all(
        t["payment_link_id"]
        for t in clean["transactions"]
        if (t["practice_id"], t["payment_type"]) in insurance
    )


def test_rows_are_loaded_in_row_order_within_days_of_their_date(clean: Tables) -> None:
    rows = clean["transactions"]
    assert [r["loaded_date"] for r in rows] == sorted(r["loaded_date"] for r in rows)
    for row in rows:
        day = datetime.fromisoformat(row["transaction_date"])
        assert 0 <= (row["loaded_date"] - day).total_seconds() <= 3 * 86_400
        assert date(2025, 7, 1) <= day.date() <= END
    for practice in {r["practice_id"] for r in rows}:
        numbers = [int(r["transaction_sr_no"]) for r in rows if r["practice_id"] == practice]
        assert numbers == sorted(set(numbers))


def test_patients_are_loaded_before_their_first_transaction(clean: Tables) -> None:
    first: dict[tuple[str, str], datetime] = {}
    for row in clean["transactions"]:
        first.setdefault((row["practice_id"], row["patient_id"]), row["loaded_date"])
    for patient in clean["patients"]:
        key = (patient["practice_id"], patient["patient_id"])
        if key in first:
            assert patient["loaded_date"] < first[key]


def test_families_share_a_guarantor_and_one_practice_bills_guarantors(clean: Tables) -> None:
    assert {p["bill_to"] for p in clean["practices"]} == {"patient", "guarantor"}
    patients = {(p["practice_id"], p["patient_id"]): p for p in clean["patients"]}
    dependants = 0
    for (practice, patient_id), patient in patients.items():
        guarantor = patients[(practice, patient["guarantor_id"])]
        assert guarantor["guarantor_id"] == guarantor["patient_id"]
        assert guarantor["lastname"] == patient["lastname"]
        dependants += patient_id != guarantor["patient_id"]
    assert dependants > len(patients) / 3
    only_email = [p for p in patients.values() if p["email"] and not (p["cell"] or p["homephone"])]
    only_phone = [p for p in patients.values() if not p["email"] and p["cell"]]
    assert only_email
    assert only_phone


@pytest.mark.parametrize("database", ["postgres_url", "mysql_url"])
def test_postgres_and_mariadb_receive_the_same_rows_as_sqlite(
    database: str, request: pytest.FixtureRequest, defective: tuple[GenerationSummary, Tables]
) -> None:
    url: str = request.getfixturevalue(database)
    generate(url, seed=11, defect_rate=0.05, **SIZE)
    assert read(url) == defective[1]


def test_a_source_that_already_holds_the_practices_is_refused(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path, "twice")
    generate(url, practices=1, patients=5, months=1, seed=1, end=END)
    with pytest.raises(ValueError, match="already holds practices P001"):
        generate(url, practices=1, patients=5, months=1, seed=1, end=END)


def test_the_cli_generates_a_source_and_prints_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_url(tmp_path, "cli")
    args = ["--practices", "2", "--patients", "20", "--months", "3", "--seed", "5"]
    code = main(
        ["source", "generate", "--url", url, *args, "--defect-rate", "0.1", "--end", "2026-06-30"]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"]["practices"] == 2
    assert summary["rows"]["transactions"] == len(read(url)["transactions"]) > 0
    assert summary["end"] == "2026-06-30"
    assert summary["defects"]
