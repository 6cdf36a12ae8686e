"""``ar-pipelines statements``: a ledger file in, statements computed by the dbt project out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EPILOG = """Exit status: 0 the three files were written; 2 the ledger or the warehouse
was refused (unreadable file, repeated external_id, an unknown type or a sign the
type does not allow, an unreachable database); 1 dbt failed on the results."""


def add_statements_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    statements = commands.add_parser(
        "statements",
        help="compute statements, allocations and credits from a ledger file with dbt",
        epilog=EPILOG,
    )
    statements.add_argument(
        "--ledger", required=True, help="normalized ledger entries, .csv or .parquet"
    )
    statements.add_argument(
        "--out",
        required=True,
        help="directory for statements.csv, payment_allocations.csv, customer_credits.csv",
    )
    statements.add_argument(
        "--warehouse",
        help="duckdb:///FILE or postgresql://... (default: an embedded DuckDB in a temporary "
        "directory); on Postgres the schema is the URL's schema parameter or search_path",
    )
    statements.add_argument(
        "--skip-tests",
        action="store_true",
        help="build the models without dbt's data tests (trusts the ledger)",
    )
    statements.set_defaults(run=run_statements_command)


def run_statements_command(args: argparse.Namespace) -> int:
    from ar_pipelines.statements.errors import DbtRunError, InvalidLedgerError
    from ar_pipelines.statements.local import compute_local_statements
    from ar_pipelines.warehouse import WarehouseError

    try:
        run = compute_local_statements(
            Path(args.ledger),
            Path(args.out),
            warehouse=args.warehouse,
            run_tests=not args.skip_tests,
        )
    except (InvalidLedgerError, WarehouseError) as err:
        print(f"ar-pipelines: {_one_line(err)}", file=sys.stderr)
        return 2
    except DbtRunError as err:
        print(f"ar-pipelines: {_one_line(err)}", file=sys.stderr)
        return 1
    print(
        f"{run.entries} ledger entries: loaded in {run.load_seconds:.1f} s, "
        f"dbt {run.dbt_seconds:.1f} s, written in {run.export_seconds:.1f} s"
    )
    counts = {
        "statements": run.statements,
        "payment_allocations": run.allocations,
        "customer_credits": run.customers,
    }
    for name, path in run.files.items():
        print(f"{name}: {counts[name]} rows in {path}")
    return 0


def _one_line(err: Exception) -> str:
    """What the innermost cause of ``err`` says (whatever its message's layout), on one line."""
    from ar_pipelines.causes import cause_line

    return " ".join(cause_line(err).split())
