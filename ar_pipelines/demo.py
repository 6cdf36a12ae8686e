"""The end-to-end flow of the Statements API docs, against a freshly started sandbox.

Starts ``ar-sandbox serve`` on a free loopback port with a new SQLite file, makes a
company and keys with ``ar-sandbox bootstrap``, then, with the AR client, pushes a
customer and two ledger entries, reads the statement back, enrolls it into the SA
campaign, and prints it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from ar_pipelines.client import ARClient

EXPECTED = {
    "external_invoice_id": "STMT-2026-05-PT-001",
    "amount": Decimal("240"),
    "paid_amount": Decimal("100"),
    "outstanding": Decimal("140"),
    "due_date": date(2026, 10, 28),
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


def _json_value(value: object) -> float | str:
    # Two-decimal amounts below 10^10 print exactly as floats, as the API sends them.
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
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
        with ARClient(base_url=base_url, api_key=company["live_key"]) as ar:
            print(f"sandbox up at {base_url} (database {database_file})")
            customers = ar.customers.bulk_upsert(
                [
                    {
                        "external_id": "PT-001",
                        "firstName": "Alice",
                        "lastName": "Example",
                        "email": "alice@example.com",
                    }
                ]
            )
            print(f"1. customers pushed: {customers.created} created")
            pushed = ar.ledgers.bulk_upsert(
                [
                    {
                        "external_id": "TX-1",
                        "customer_external_id": "PT-001",
                        "transaction_date": "2026-05-03",
                        "transaction_type": "charge",
                        "amount": Decimal("240.00"),
                    },
                    {
                        "external_id": "TX-2",
                        "customer_external_id": "PT-001",
                        "transaction_date": "2026-05-15",
                        "transaction_type": "patient_payment",
                        "amount": Decimal("-100.00"),
                    },
                ]
            )
            created = pushed.statements.created if pushed.statements else 0
            print(
                f"2. ledger entries pushed: {pushed.created} created; statements created: {created}"
            )
            statement = next(iter(ar.statements.list(customer_external_id="PT-001")))
            print("3. statement read back:")
            for name in EXPECTED:
                print(f"     {name:<20} {getattr(statement, name)}")
            enrolled = ar.statements.enroll_one(statement.id, campaign_id=company["sa_campaign_id"])
            after = ar.statements.get(statement.id, include_entries=False)
            print(
                f"4. enrolled into the SA campaign: {enrolled.enrolled_count} enrolled; "
                f"status is now {after.status}"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    written = after.model_dump(exclude={"entries"})
    result_file = out_dir / "statement.json"
    result_file.write_text(json.dumps(written, indent=2, default=_json_value) + "\n")
    mismatched = {
        k: getattr(statement, k) for k, v in EXPECTED.items() if getattr(statement, k) != v
    }
    if mismatched:
        raise RuntimeError(f"the statement differs from the documented example: {mismatched}")
    print(f"statement written to {result_file}")
    return written
