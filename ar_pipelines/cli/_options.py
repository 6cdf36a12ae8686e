"""Options more than one command takes, written once so that they read alike."""

from __future__ import annotations

import argparse
import sys


def add_progress_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when standard error is a terminal)",
    )


def progress_wanted(args: argparse.Namespace) -> bool:
    """``--progress`` or ``--no-progress`` as given, else whether a person is watching:
    a bar drawn into a log file or a pipe is noise."""
    return sys.stderr.isatty() if args.progress is None else bool(args.progress)
