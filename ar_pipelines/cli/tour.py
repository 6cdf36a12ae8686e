"""``ar-pipelines api-tour``: the flow of the Statements API docs, against a fresh sandbox.

Starts ``ar-sandbox serve`` on a free loopback port with a new SQLite file, makes a
company and keys with ``ar-sandbox bootstrap``, then, with the AR client, pushes a
customer and two ledger entries, reads the statement back, enrolls it into the SA
campaign, and prints it.
"""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ar_pipelines.client import ARClient
from ar_pipelines.local_sandbox import bootstrap_company, serving

EXPECTED = {
    "external_invoice_id": "STMT-2026-05-PT-001",
    "amount": Decimal("240"),
    "paid_amount": Decimal("100"),
    "outstanding": Decimal("140"),
    "due_date": date(2026, 10, 28),
}


def add_tour_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tour = commands.add_parser(
        "api-tour", help="the Statements API docs' flow, step by step, against a fresh sandbox"
    )
    tour.add_argument("--out", default="data/tour", help="where it writes (default data/tour)")
    tour.set_defaults(run=run_tour_command)


def run_tour_command(args: argparse.Namespace) -> int:
    run_tour(Path(args.out))
    return 0


def _json_value(value: object) -> float | str:
    # Two-decimal amounts below 10^10 print exactly as floats, as the API sends them.
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def run_tour(out_dir: Path) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    database_file = out_dir / "ar_sandbox.db"
    database_file.unlink(missing_ok=True)
    database = f"sqlite:///{database_file}"
    company = bootstrap_company(database, "Sandbox Practice")
    with (
        serving(database, quiet=False) as base_url,
        ARClient(base_url=base_url, api_key=company["live_key"]) as ar,
    ):
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
        print(f"2. ledger entries pushed: {pushed.created} created; statements created: {created}")
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
