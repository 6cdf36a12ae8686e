"""``python -m bench [NAME ...] [--quick]``: run every benchmark, or only those named."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from bench import (
    client_push,
    extract,
    normalize,
    pipeline,
    practices_at_once,
    sandbox_push,
    statements,
)

# A benchmark takes ``quick`` (a smaller run) and answers whether its checks passed.
Benchmark = Callable[[bool], bool]

BENCHMARKS: dict[str, Benchmark] = {
    "sandbox_push": sandbox_push.run,
    "client_push": client_push.run,
    "extract": extract.run,
    "normalize": normalize.run,
    "statements": statements.run,
    "pipeline": pipeline.run,
    "practices_at_once": practices_at_once.run,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run benchmarks; they print figures and assert nothing about time.",
    )
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHMARKS)} (default: all)"
    )
    parser.add_argument("--quick", action="store_true", help="a smaller run, for a smoke test")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    failed = [name for name in args.names or BENCHMARKS if not BENCHMARKS[name](args.quick)]
    if failed:
        print(f"\nchecks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
