"""``ar-sandbox serve`` and ``ar-sandbox bootstrap`` (DESIGN.md), plus ``create-key``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from ar_sandbox.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_MAX_BODY_BYTES,
    FaultSettings,
    Settings,
)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ar_sandbox.app import create_app

    settings = Settings.from_env(
        database_url=args.database,
        rate_limit_per_second=args.rate_limit,
        rate_limit_burst=args.rate_limit_burst,
        faults=FaultSettings.parse(args.faults) if args.faults else None,
        max_body_bytes=args.max_body_bytes,
    )
    app = create_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _bootstrap(args: argparse.Namespace) -> int:
    from ar_sandbox.admin import bootstrap
    from ar_sandbox.db import Database

    database = Database(args.database or Settings.from_env().database_url)
    try:
        result = bootstrap(database, name=args.name)
    finally:
        database.dispose()
    if args.json:
        print(json.dumps(result))
    else:
        print(f"company_id      {result['company_id']}")
        print(f"live_key        {result['live_key']}")
        print(f"test_key        {result['test_key']}")
        print(f"sa_campaign_id  {result['sa_campaign_id']}")
        print("Keep the keys: they are stored hashed and cannot be shown again.")
    return 0


def _create_key(args: argparse.Namespace) -> int:
    from ar_sandbox.admin import create_api_key
    from ar_sandbox.db import Database

    database = Database(args.database or Settings.from_env().database_url)
    try:
        key = database.run(
            lambda session: create_api_key(
                session,
                mode=args.mode,
                company_id=args.company_id,
                organization_id=args.organization_id,
                scopes=args.scope or (),
                workspace_ids=args.workspace or (),
            )
        )
    finally:
        database.dispose()
    print(json.dumps({"key": key}) if args.json else key)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ar-sandbox", description="A local AR External API.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API server")
    serve.add_argument("--database", help=f"SQLAlchemy URL (default {DEFAULT_DATABASE_URL})")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--rate-limit", type=float, help="requests per second per key (0 = off)")
    serve.add_argument("--rate-limit-burst", type=int, help="bucket size (default: one second's)")
    serve.add_argument(
        "--faults", help="e.g. '500=0.05,503=0.05,429=0.05,slow=0.05,slow_seconds=1,seed=7'"
    )
    serve.add_argument(
        "--max-body-bytes",
        type=int,
        help=f"larger request bodies get 413 (default {DEFAULT_MAX_BODY_BYTES})",
    )
    serve.add_argument("--log-level", default="warning")
    serve.set_defaults(run=_serve)

    boot = commands.add_parser("bootstrap", help="make a company with keys and campaigns")
    boot.add_argument("--database", help=f"SQLAlchemy URL (default {DEFAULT_DATABASE_URL})")
    boot.add_argument("--name", default="Sandbox Practice")
    boot.add_argument("--json", action="store_true", help="print one JSON object")
    boot.set_defaults(run=_bootstrap)

    key = commands.add_parser("create-key", help="make another (scoped) API key")
    key.add_argument("--database", help=f"SQLAlchemy URL (default {DEFAULT_DATABASE_URL})")
    key.add_argument("--mode", choices=("live", "test"), default="live")
    owner = key.add_mutually_exclusive_group(required=True)
    owner.add_argument("--company-id")
    owner.add_argument("--organization-id")
    key.add_argument("--scope", action="append", help="repeat; none means full access")
    key.add_argument("--workspace", action="append", help="organization keys: allowed company ids")
    key.add_argument("--json", action="store_true")
    key.set_defaults(run=_create_key)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ValueError as err:
        print(f"ar-sandbox: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
