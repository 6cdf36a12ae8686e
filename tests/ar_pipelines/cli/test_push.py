"""``ar-pipelines push``: a file of records into AR, every record accounted for."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from ar_pipelines.cli import main
from tests.ar_pipelines.client import practice
from tests.sandbox_server import RunningSandbox


@pytest.fixture
def env(
    sandbox: RunningSandbox, company: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    monkeypatch.setenv("AR_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("AR_API_KEY", company["live_key"])
    return company


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    names = list(dict.fromkeys(name for row in rows for name in row))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_pushing_customers_then_ledger_files_lands_every_record(
    env: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customers = practice.customers(20)
    customers[0]["tags"] = json.dumps(["vip", "new"])
    assert main(["push", "customers", str(write_csv(tmp_path / "c.csv", customers))]) == 0
    assert json.loads(capsys.readouterr().out)["created"] == 20

    rows = practice.entries(20, 30)
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text("".join(json.dumps({**r, "amount": str(r["amount"])}) + "\n" for r in rows))
    assert main(["push", "ledger", str(ledger), "--concurrency", "2"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["total"], summary["created"], summary["rejected"]) == (600, 600, 0)
    assert summary["statements"]["created"] > 0


def test_refused_records_exit_1_and_are_written_with_the_servers_reason(
    env: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["push", "customers", str(write_csv(tmp_path / "c.csv", practice.customers(5)))])
    capsys.readouterr()
    rows = practice.entries(5, 10)
    rows[4] = {**rows[4], "transaction_type": "patient_payment", "amount": "5.00"}
    rows[9] = {**rows[9], "customer_external_id": "PT-NOBODY"}
    issues = tmp_path / "out" / "issues.csv"
    code = main(
        ["push", "ledger", str(write_csv(tmp_path / "l.csv", rows)), "--issues", str(issues)]
    )
    assert code == 1
    assert json.loads(capsys.readouterr().out)["created"] == 48
    written = list(csv.DictReader(issues.open()))
    assert [(w["bucket"], w["index"], w["external_id"]) for w in written] == [
        ("rejected", "4", rows[4]["external_id"]),
        ("failed", "9", rows[9]["external_id"]),
    ]
    assert "<= 0" in written[0]["reason"]
    assert "PT-NOBODY" in written[1]["reason"]


def test_the_progress_bar_goes_to_standard_error(
    env: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(practice.customers(3)))
    assert main(["push", "customers", str(path), "--progress"]) == 0
    captured = capsys.readouterr()
    assert "pushing customers" in captured.err
    assert "3/3" in captured.err
    assert json.loads(captured.out)["total"] == 3


def test_without_a_key_the_push_says_so_and_sends_nothing(
    sandbox: RunningSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.delenv("AR_API_KEY", raising=False)
    path = tmp_path / "c.json"
    path.write_text(json.dumps(practice.customers(1)))
    assert main(["push", "customers", str(path), "--base-url", sandbox.base_url]) == 2
    assert "AR_API_KEY" in capsys.readouterr().err


def test_a_wrong_key_exits_3_without_printing_the_key(
    env: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("AR_API_KEY", "sk_live_not_a_real_key_123")
    path = tmp_path / "c.json"
    path.write_text(json.dumps(practice.customers(2)))
    assert main(["push", "customers", str(path)]) == 3
    captured = capsys.readouterr()
    assert "401" in captured.err
    assert json.loads(captured.out)["unsent"] == 2
    assert "not_a_real_key" not in captured.err + captured.out


def test_an_unknown_file_type_is_a_clear_error(
    env: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.xml"
    path.write_text("<customers/>")
    assert main(["push", "customers", str(path)]) == 2
    assert ".csv, .json or .jsonl" in capsys.readouterr().err
