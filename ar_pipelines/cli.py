"""``ar-pipelines``: the project's command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ar_pipelines.client import ApiError


def _demo(args: argparse.Namespace) -> int:
    from ar_pipelines.demo import run_demo

    run_demo(Path(args.out))
    return 0


def _push(args: argparse.Namespace) -> int:
    from ar_pipelines.push import push_file

    show = sys.stderr.isatty() if args.progress is None else args.progress
    return push_file(
        args.kind,
        Path(args.file),
        base_url=args.base_url,
        concurrency=args.concurrency,
        show_progress=show,
        issues_path=Path(args.issues) if args.issues else None,
    )


PUSH_EPILOG = """The API key is read from AR_API_KEY (never from the command line); the base URL
from --base-url or AR_BASE_URL. Exit status: 0 every record landed (or was superseded
by a later one with the same external_id); 1 some were refused (rejected or failed);
3 the push stopped before sending everything; 2 usage or set-up errors."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ar-pipelines", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run the documented end-to-end flow against a fresh local sandbox"
    )
    demo.add_argument(
        "--out", default="data/demo", help="where the demo writes (default data/demo)"
    )
    demo.set_defaults(run=_demo)
    push = commands.add_parser(
        "push",
        help="send a file of customers, invoices or ledger entries to AR",
        epilog=PUSH_EPILOG,
    )
    push.add_argument("kind", choices=("customers", "invoices", "ledger"))
    push.add_argument("file", help="a .csv (header of API field names), .json or .jsonl file")
    push.add_argument("--base-url", help="AR's base URL (default: AR_BASE_URL)")
    push.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    push.add_argument("--issues", help="write records that did not land, with reasons, here")
    push.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when standard error is a terminal)",
    )
    push.set_defaults(run=_push)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except RuntimeError as err:
        print(f"ar-pipelines: {err}", file=sys.stderr)
        return 1
    except (ValueError, OSError, ApiError) as err:
        print(f"ar-pipelines: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
