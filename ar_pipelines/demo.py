"""The end-to-end flow of the Statements API docs, against a freshly started sandbox.

Starts ``ar-sandbox serve`` on a free loopback port with a new SQLite file, makes a
company and keys with ``ar-sandbox bootstrap``, pushes a customer and two ledger
entries, reads the statement back, enrolls it into the SA campaign, and prints it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

EXPECTED = {
    "external_invoice_id": "STMT-2026-05-PT-001",
    "amount": Decimal("240"),
    "paid_amount": Decimal("100"),
    "outstanding": Decimal("140"),
    "due_date": "2026-10-28",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sandbox_command() -> list[str]:
    return [sys.executable, "-m", "ar_sandbox.cli"]


def _wait_until_up(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the sandbox exited before it was ready")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the sandbox did not answer within 30 s")


def _data(response: httpx.Response) -> Any:
    body = json.loads(response.content, parse_float=Decimal)
    if response.status_code != 200 or not body.get("success"):
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: {body}")
    return body["data"]


def _json_number(value: object) -> float:
    # Two-decimal amounts below 10^10 print exactly as floats, as the API sends them.
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def run_demo(out_dir: Path) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    database_file = out_dir / "ar_sandbox.db"
    database_file.unlink(missing_ok=True)
    database = f"sqlite:///{database_file}"
    boot = subprocess.run(
        [*_sandbox_command(), "bootstrap", "--database", database, "--json"],
        check=True,
        capture_output=True,
    )
    company = json.loads(boot.stdout)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "AR_SANDBOX_DATABASE_URL": database}
    server = subprocess.Popen(
        [*_sandbox_command(), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env
    )
    try:
        _wait_until_up(base_url, server)
        with httpx.Client(
            base_url=f"{base_url}/api/v1/external",
            headers={"X-Api-Key": company["live_key"]},
            timeout=30,
        ) as api:
            print(f"sandbox up at {base_url} (database {database_file})")
            customers = _data(
                api.post(
                    "/customers/bulk",
                    json={
                        "customers": [
                            {
                                "external_id": "PT-001",
                                "first_name": "Alice",
                                "last_name": "Example",
                                "email": "alice@example.com",
                            }
                        ]
                    },
                )
            )
            print(f"1. customers pushed: {customers['created']} created")
            pushed = _data(
                api.post(
                    "/ledgers/bulk",
                    json={
                        "ledger_entries": [
                            {
                                "external_id": "TX-1",
                                "customer_external_id": "PT-001",
                                "transaction_date": "2026-05-03",
                                "transaction_type": "charge",
                                "amount": 240,
                            },
                            {
                                "external_id": "TX-2",
                                "customer_external_id": "PT-001",
                                "transaction_date": "2026-05-15",
                                "transaction_type": "patient_payment",
                                "amount": -100,
                            },
                        ]
                    },
                )
            )
            print(
                f"2. ledger entries pushed: {pushed['ledger_entries']['created']} created; "
                f"statements created: {pushed['statements']['created']}"
            )
            listed = _data(api.get("/statements", params={"customer_external_id": "PT-001"}))
            statement = listed["statements"][0]
            print("3. statement read back:")
            for name in ("external_invoice_id", "amount", "paid_amount", "outstanding", "due_date"):
                print(f"     {name:<20} {statement[name]}")
            enrolled = _data(
                api.post(
                    f"/statements/{statement['id']}/campaign",
                    params={"campaign_id": company["sa_campaign_id"]},
                )
            )
            after = _data(
                api.get(f"/statements/{statement['id']}", params={"include_entries": "false"})
            )
            print(
                f"4. enrolled into the SA campaign: {enrolled['enrolled_count']} enrolled; "
                f"status is now {after['status']}"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    result_file = out_dir / "statement.json"
    result_file.write_text(json.dumps(after, indent=2, default=_json_number) + "\n")
    mismatched = {k: statement[k] for k, v in EXPECTED.items() if statement[k] != v}
    if mismatched:
        raise RuntimeError(f"the statement differs from the documented example: {mismatched}")
    print(f"statement written to {result_file}")
    return dict(after)
