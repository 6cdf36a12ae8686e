"""``ar-pipelines``: the project's command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    from ar_pipelines.demo import run_demo

    run_demo(Path(args.out))
    return 0


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except RuntimeError as err:
        print(f"ar-pipelines: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
