"""``--help`` reads as plain text, for the top command and every subcommand."""

from __future__ import annotations

import argparse
import re

import pytest

from ar_pipelines.cli import build_parser

# reStructuredText a docstring may hold: literals, roles, a directive opening a line.
MARKUP = re.compile(r"``|:(func|class|mod|meth):`|^\s*\.\. \w", re.MULTILINE)


def every_parser(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:  # argparse names its subcommands nowhere public
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += every_parser(child)
    return found


def test_every_commands_help_is_plain_text_with_no_markup() -> None:
    parsers = every_parser(build_parser())
    helps = {parser.prog: parser.format_help() for parser in parsers}

    assert len(helps) > 8  # the top command and every subcommand, nested ones too
    marked = {prog: MARKUP.findall(text) for prog, text in helps.items()}
    assert {prog: found for prog, found in marked.items() if found} == {}


@pytest.mark.parametrize("argv", [["--help"]])
def test_the_top_help_says_what_the_tool_does(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)

    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "Agile Receivables" in out
    assert "``" not in out
