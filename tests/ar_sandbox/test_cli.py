"""``ar-sandbox bootstrap`` and ``ar-sandbox serve`` as DESIGN.md specifies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from ar_pipelines.local_sandbox import bootstrap_company, sandbox_process

CLI = [sys.executable, "-m", "ar_sandbox.cli"]


def test_bootstrap_prints_a_company_with_keys_and_campaigns(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/boot.db"
    printed = bootstrap_company(database)
    assert set(printed) == {"company_id", "live_key", "test_key", "sa_campaign_id", "campaigns"}
    assert printed["live_key"].startswith("sk_live_")
    assert printed["test_key"].startswith("sk_test_")
    live = [c for c in printed["campaigns"] if c["mode"] == "live"]
    assert sorted((c["type"], c["status"]) for c in live) == [
        ("early_stage", "draft"),
        ("payment_reminder", "active"),
        ("statement_acknowledgement", "active"),
    ]
    sa = next(c for c in live if c["type"] == "statement_acknowledgement")
    assert sa["id"] == printed["sa_campaign_id"]


def test_serve_answers_with_the_bootstrapped_keys(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/serve.db"
    keys = bootstrap_company(database)
    with sandbox_process(database) as server:  # ar-sandbox serve --database ... --port ...
        response = httpx.get(f"{server.api}/campaigns", headers={"X-Api-Key": keys["live_key"]})
    assert response.status_code == 200
    assert response.json()["data"]["total"] == 3


def test_create_key_makes_a_scoped_key(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/keys.db"
    boot = bootstrap_company(database)
    made = subprocess.run(
        [
            *CLI,
            "create-key",
            "--database",
            database,
            "--company-id",
            boot["company_id"],
            "--mode",
            "test",
            "--scope",
            "ledgers:read",
            "--json",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(made.stdout)["key"].startswith("sk_test_")
    refused = subprocess.run(
        [
            *CLI,
            "create-key",
            "--database",
            database,
            "--company-id",
            boot["company_id"],
            "--scope",
            "everything",
        ],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2
    assert "unknown scopes" in refused.stderr
