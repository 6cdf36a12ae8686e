"""The demo generator: one Sikka office's rows as Sikka serves them, seeded, with defects
planted on request."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from ar_demo.catalog import REFUND_PAYMENT_TYPE
from ar_demo.defects import PATIENT_DEFECTS, Defect
from ar_demo.generate import GenerationSummary, bills_guarantors, generate
from ar_pipelines.cli import main
from tests.ar_demo.source_checks import (
    kind_of,
    patient_defects,
    payment_type_of,
    read,
    transaction_defects,
)

END = date(2026, 6, 30)
OFFICE = "D7011"  # apart from other tests' offices in the shared test databases
SIZE: dict[str, Any] = {"practices": 3, "patients": 120, "months": 12, "end": END}
AMOUNT = re.compile(r"-?\d+\.\d{4}")
DAY = re.compile(r"\d{4}-\d\d-\d\dT00:00:00")
MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
Tables = dict[str, list[dict[str, Any]]]


def sqlite_url(directory: Path, name: str) -> str:
    return f"sqlite:///{directory / name}.db"


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> tuple[GenerationSummary, Tables]:
    url = sqlite_url(tmp_path_factory.mktemp("generate"), "defective")
    summary = generate(url, seed=11, defect_rate=0.05, office_id=OFFICE, **SIZE)
    return summary, read(url, OFFICE)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    url = sqlite_url(tmp_path_factory.mktemp("generate"), "clean")
    generate(url, seed=11, office_id=OFFICE, **SIZE)
    return read(url, OFFICE)


def test_the_same_seed_writes_identical_rows_and_another_seed_different_ones(
    tmp_path: Path, defective: tuple[GenerationSummary, Tables]
) -> None:
    again, other = sqlite_url(tmp_path, "again"), sqlite_url(tmp_path, "other")
    generate(again, seed=11, defect_rate=0.05, office_id=OFFICE, **SIZE)
    generate(other, seed=12, defect_rate=0.05, office_id=OFFICE, **SIZE)
    assert read(again, OFFICE) == defective[1]
    assert read(other, OFFICE)["transactions"] != defective[1]["transactions"]
    assert read(other, OFFICE)["patients"] != defective[1]["patients"]


@pytest.mark.parametrize("database", ["postgres_url", "mysql_url"])
def test_postgres_and_mariadb_receive_the_same_rows_as_sqlite(
    database: str, request: pytest.FixtureRequest, defective: tuple[GenerationSummary, Tables]
) -> None:
    url: str = request.getfixturevalue(database)
    generate(url, seed=11, defect_rate=0.05, office_id=OFFICE, **SIZE)
    assert read(url, OFFICE) == defective[1]


def test_the_summary_counts_what_was_written(defective: tuple[GenerationSummary, Tables]) -> None:
    summary, tables = defective
    assert summary.rows == {name: len(rows) for name, rows in tables.items()}
    assert (summary.start, summary.end) == (date(2025, 7, 1), END)
    assert sum(summary.defects.values()) == len(tables["demo_defects"])


def test_planting_defects_changes_rows_but_not_how_many_there_are(
    defective: tuple[GenerationSummary, Tables], clean: Tables
) -> None:
    _, tables = defective
    for name in ("practices", "payment_types", "patients", "guarantors"):
        assert len(tables[name]) == len(clean[name]) > 0
    # Which rows are deleted depends on where defects went; how many rows there were does not.
    assert len(tables["transactions"]) + summary_deleted(tables) == len(
        clean["transactions"]
    ) + summary_deleted(clean)
    assert summary_deleted(tables) > 0


def test_every_value_is_text_as_sikka_serves_it(
    defective: tuple[GenerationSummary, Tables],
) -> None:
    _, tables = defective
    clean_rows = _clean_transactions(tables)
    assert clean_rows
    for row in clean_rows:
        assert AMOUNT.fullmatch(row["amount"].strip())
        assert DAY.fullmatch(row["transaction_date"])
        assert DAY.fullmatch(row["transaction_entry_date"])
        for field in ("estimated_insurance_payment", "primary_insurance_estimate", "amount_paid"):
            assert row[field] in ("", None) or AMOUNT.fullmatch(row[field])
    for table in ("practices", "payment_types", "patients", "guarantors", "transactions"):
        for row in tables[table]:
            texts = {k: v for k, v in row.items() if k not in ("_loaded_at", "_row_id")}
            assert all(v is None or isinstance(v, str) for v in texts.values()), row
    empties = Counter(
        repr(v) for row in tables["transactions"] for v in row.values() if v in ("", None)
    )
    assert empties["''"]  # empty fields come both ways
    assert empties["None"]
    assert all(DAY.fullmatch(p["birthdate"]) for p in tables["patients"])
    assert [p["practice_id"] for p in tables["practices"]] == ["1", "2", "3"]
    assert all(p["name"] and p["phone"] and p["address_line1"] for p in tables["practices"])
    assert all(
        row["office_id"] == OFFICE for rows in tables.values() for row in rows
    )  # every table names the office


def test_labels_are_the_pms_own_and_payment_types_are_named_by_code_or_description(
    defective: tuple[GenerationSummary, Tables],
) -> None:
    _, tables = defective
    rows = _clean_transactions(tables)
    labels = Counter(r["transaction_type"] for r in rows)
    documented = labels["Procedure"] + labels["Payment"] + labels["Adjustment"]
    assert documented > 0.8 * len(rows)
    assert {"Proc", "Pay", "Adj"} <= set(labels)
    assert all(kind_of(label) for label in labels)
    named = [r["payment_type"] for r in rows if r["payment_type"]]
    codes = {t["code"] for t in tables["payment_types"]}
    descriptions = {t["description"] for t in tables["payment_types"]}
    assert {n in codes for n in named} == {True, False}
    assert all(n in codes | descriptions for n in named)
    assert REFUND_PAYMENT_TYPE in codes


def test_payment_types_carry_their_classes_as_true_or_null(clean: Tables) -> None:
    classes = ("is_insurance_type", "is_adjustment_type", "is_debit_adjustment_type")
    by_code = {t["code"]: tuple(t[c] for c in classes) for t in clean["payment_types"]}
    assert {v for flags in by_code.values() for v in flags} == {"true", None}
    assert by_code["INS"] == ("true", None, None)
    assert by_code["WO"] == (None, "true", None)
    assert by_code["FIN"] == (None, None, "true")
    assert by_code[REFUND_PAYMENT_TYPE] == (None, None, None)
    refund = next(t for t in clean["payment_types"] if t["code"] == REFUND_PAYMENT_TYPE)
    assert "refund" in refund["description"].lower()


def test_every_defect_kind_is_planted_and_recorded(
    defective: tuple[GenerationSummary, Tables],
) -> None:
    summary, tables = defective
    recorded = Counter(row["defect"] for row in tables["demo_defects"])
    assert set(recorded) == {d.value for d in Defect}
    assert summary.defects == dict(recorded)
    transactions = sum(n for d, n in recorded.items() if Defect(d) not in PATIENT_DEFECTS)
    all_rows = len(tables["transactions"]) + summary_deleted(tables)
    assert transactions == pytest.approx(0.05 * all_rows, abs=2)


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


def test_a_precise_amount_has_a_digit_past_the_cents_and_others_only_zeros(
    defective: tuple[GenerationSummary, Tables],
) -> None:
    _, tables = defective
    by_id = {t["_row_id"]: t for t in tables["transactions"]}
    precise = [
        by_id[int(r["source_id"])]["amount"]
        for r in tables["demo_defects"]
        if r["defect"] == Defect.PRECISE_AMOUNT
    ]
    assert precise
    assert all(AMOUNT.fullmatch(a) and not a.endswith("00") for a in precise)
    assert all(r["amount"].strip().endswith("00") for r in _clean_transactions(tables))


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
    bad_transactions = {
        int(r["source_id"]) for r in tables["demo_defects"] if r["table_name"] == "transactions"
    }
    for key, defect in planted.items():
        own = [t for t in tables["transactions"] if (t["practice_id"], t["patient_id"]) == key]
        assert own, f"{key} ({defect}) has no transaction"
        assert not {t["_row_id"] for t in own} & bad_transactions
        if bills_guarantors(key[0]):  # billed as a guarantor: the same contacts there
            guarantor = _guarantors(tables)[key]
            assert patient_defects(guarantor) == [defect]


def test_a_duplicate_reuses_the_number_of_a_clean_row_loaded_earlier(
    defective: tuple[GenerationSummary, Tables],
) -> None:
    _, tables = defective
    by_id = {t["_row_id"]: t for t in tables["transactions"]}
    planted = {
        int(r["source_id"]) for r in tables["demo_defects"] if r["table_name"] == "transactions"
    }
    duplicates = [
        by_id[int(r["source_id"])]
        for r in tables["demo_defects"]
        if r["defect"] == Defect.DUPLICATE_SR_NO
    ]
    assert duplicates
    for row in duplicates:
        originals = [
            t
            for t in tables["transactions"]
            if (t["practice_id"], t["transaction_sr_no"])
            == (row["practice_id"], row["transaction_sr_no"])
            and t["_row_id"] != row["_row_id"]
        ]
        assert len(originals) == 1
        assert originals[0]["_loaded_at"] < row["_loaded_at"]
        assert originals[0]["_row_id"] not in planted


def test_without_a_defect_rate_nothing_is_planted_and_every_row_is_clean(clean: Tables) -> None:
    assert clean["demo_defects"] == []
    assert not any(transaction_defects(clean, END).values())
    assert not any(patient_defects(p) for p in clean["patients"])
    assert not any(patient_defects(g) for g in clean["guarantors"])


def test_every_kind_of_source_row_the_mapping_knows_is_present(clean: Tables) -> None:
    kinds: Counter[str] = Counter()
    for row in clean["transactions"]:
        kind, amount = kind_of(row["transaction_type"]), float(row["amount"])
        payment_type = payment_type_of(clean, row)
        if kind == "payment":
            assert payment_type is not None
            assert amount > 0
            if payment_type["is_insurance_type"] == "true":
                kinds["insurance payment"] += 1
            elif payment_type["code"] == REFUND_PAYMENT_TYPE:
                kinds["refund"] += 1
            else:
                kinds["patient payment"] += 1
        elif kind == "adjustment":
            assert amount != 0
            if payment_type is None:
                assert not row["payment_type"]
                kinds["adjustment without a type"] += 1
            elif payment_type["is_debit_adjustment_type"] == "true":
                assert amount > 0
                kinds["debit adjustment"] += 1
            else:
                assert payment_type["is_adjustment_type"] == "true"
                assert amount < 0
                kinds["credit adjustment"] += 1
        else:
            assert kind == "procedure"
            assert amount > 0
            assert row["procedure_code"]
            assert AMOUNT.fullmatch(row["estimated_insurance_payment"])
            paid = float(row["amount_paid"])
            kinds["procedure with insurance paid" if paid else "procedure"] += 1
    assert set(kinds) == {
        "insurance payment", "refund", "patient payment", "debit adjustment",
        "credit adjustment", "adjustment without a type", "procedure with insurance paid",
        "procedure",
    }  # fmt: skip
    assert all(kinds.values())


def test_insurance_payments_link_to_an_earlier_procedure_of_the_same_patient(
    clean: Tables,
) -> None:
    procedures = {
        (t["practice_id"], t["transaction_sr_no"]): t
        for t in clean["transactions"]
        if kind_of(t["transaction_type"]) == "procedure"
    }
    linked = [t for t in clean["transactions"] if t["payment_procedure_link_id"]]
    assert linked
    for payment in linked:
        payment_type = payment_type_of(clean, payment)
        assert payment_type is not None
        assert payment_type["is_insurance_type"] == "true"
        procedure = procedures[(payment["practice_id"], payment["payment_procedure_link_id"])]
        assert procedure["patient_id"] == payment["patient_id"]
        weeks = (_day(payment["transaction_date"]) - _day(procedure["transaction_date"])).days / 7
        assert 2 <= weeks <= 8
        assert procedure["_loaded_at"] < payment["_loaded_at"]
    for row in clean["transactions"]:
        payment_type = payment_type_of(clean, row)
        if payment_type is not None and payment_type["is_insurance_type"] == "true":
            assert row["payment_procedure_link_id"]


def test_rows_are_loaded_in_row_order_within_days_of_their_date(clean: Tables) -> None:
    rows = clean["transactions"]
    assert [r["_loaded_at"] for r in rows] == sorted(r["_loaded_at"] for r in rows)
    for row in rows:
        day = datetime.fromisoformat(row["transaction_date"])
        assert 0 <= (row["_loaded_at"] - day).total_seconds() <= 3 * 86_400
        assert date(2025, 7, 1) <= day.date() <= END
    for practice in {r["practice_id"] for r in rows}:
        numbers = [int(r["transaction_sr_no"]) for r in rows if r["practice_id"] == practice]
        assert numbers == sorted(set(numbers))


def test_deleted_transactions_are_only_events_and_other_events_name_live_rows(
    clean: Tables,
) -> None:
    events = clean["practice_events"]
    live = {(t["practice_id"], t["transaction_sr_no"]): t for t in clean["transactions"]}
    flags = Counter(e["flag"] for e in events)
    assert {"Deleted", "deleted", "DELETED", "Added", "Updated"} <= set(flags)
    assert {e["events"] for e in events} == {"transactions"}
    assert [e["_loaded_at"] for e in events] == sorted(e["_loaded_at"] for e in events)
    for event in events:
        assert MOMENT.fullmatch(event["loadeddate"])
        assert datetime.fromisoformat(event["loadeddate"]) == event["_loaded_at"]
        key = (event["practice_id"], event["transaction_sr_no"])
        if event["flag"].lower() == "deleted":
            assert key not in live
        else:
            record = {k: v for k, v in live[key].items() if k not in ("_row_id", "_loaded_at")}
            assert {k: event[k] for k in record} == record
            assert event["_loaded_at"] >= live[key]["_loaded_at"]


def test_patients_are_loaded_before_their_first_transaction(clean: Tables) -> None:
    first: dict[tuple[str, str], datetime] = {}
    for row in clean["transactions"]:
        first.setdefault((row["practice_id"], row["patient_id"]), row["_loaded_at"])
    for patient in clean["patients"]:
        key = (patient["practice_id"], patient["patient_id"])
        if key in first:
            assert patient["_loaded_at"] < first[key]


def test_every_guarantor_is_listed_and_some_are_not_patients(clean: Tables) -> None:
    patients = {(p["practice_id"], p["patient_id"]): p for p in clean["patients"]}
    guarantors = _guarantors(clean)
    outside = dependants = 0
    for (practice, patient_id), patient in patients.items():
        key = (practice, patient["guarantor_id"])
        guarantor = guarantors[key]
        assert guarantor["lastname"] == patient["lastname"]
        assert guarantor["_loaded_at"] <= patient["_loaded_at"]
        if key in patients:
            assert guarantor["patient_id"] == patient["guarantor_id"]
            assert patients[key]["guarantor_id"] == patient["guarantor_id"]
        else:
            assert guarantor["status"] == "Non-Patient"
            assert not guarantor["patient_id"]
            outside += 1
        dependants += patient_id != patient["guarantor_id"]
    assert outside
    assert dependants > len(patients) / 3
    assert len(guarantors) == len(clean["guarantors"])  # each listed once
    assert set(guarantors) == {(p["practice_id"], p["guarantor_id"]) for p in patients.values()}
    only_email = [p for p in patients.values() if p["email"] and not (p["cell"] or p["homephone"])]
    only_phone = [p for p in patients.values() if not p["email"] and p["cell"]]
    assert only_email
    assert only_phone


def test_two_offices_share_one_database_and_an_office_is_written_once(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path, "offices")
    generate(url, practices=2, patients=5, months=1, seed=1, end=END, office_id="D1")
    generate(url, practices=1, patients=5, months=1, seed=2, end=END, office_id="D2")
    first, second = read(url, "D1"), read(url, "D2")
    assert [p["practice_id"] for p in first["practices"]] == ["1", "2"]
    assert [p["practice_id"] for p in second["practices"]] == ["1"]
    assert first["transactions"]
    assert second["transactions"]
    assert first["patients"][0]["patient_id"] == second["patients"][0]["patient_id"]
    with pytest.raises(ValueError, match="already holds office D1"):
        generate(url, practices=1, patients=5, months=1, seed=1, end=END, office_id="D1")


def test_the_cli_generates_a_source_and_prints_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_url(tmp_path, "cli")
    args = ["--practices", "2", "--patients", "20", "--months", "3", "--seed", "5"]
    args += ["--defect-rate", "0.1", "--end", "2026-06-30", "--office-id", "D42"]
    code = main(["source", "generate", "--url", url, *args])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"]["practices"] == 2
    assert summary["rows"]["transactions"] == len(read(url, "D42")["transactions"]) > 0
    assert summary["end"] == "2026-06-30"
    assert summary["defects"]


def _clean_transactions(tables: Tables) -> list[dict[str, Any]]:
    planted = {
        int(r["source_id"]) for r in tables["demo_defects"] if r["table_name"] == "transactions"
    }
    return [t for t in tables["transactions"] if t["_row_id"] not in planted]


def _guarantors(tables: Tables) -> dict[tuple[str, str], dict[str, Any]]:
    return {(g["practice_id"], g["guarantor_id"]): g for g in tables["guarantors"]}


def _day(text: str) -> date:
    return datetime.fromisoformat(text).date()


def summary_deleted(tables: Tables) -> int:
    return sum(e["flag"].lower() == "deleted" for e in tables["practice_events"])
