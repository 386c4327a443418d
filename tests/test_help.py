"""Help texts: every subcommand says what it does, every option has help and shows its default."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from costmodel.cli import evaluate_parser, train_parser
from costmodel.datagen import parser as dataset_parser
from looper.bench.command import parser as bench_parser
from looper.fuzz.command import parser as fuzz_parser
from polybench.__main__ import parser as polybench_parser

# Flags and options whose default needs no words: on/off switches, required options, --help, --version.
_SELF_EVIDENT = (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._HelpAction,
                 argparse._VersionAction, argparse._SubParsersAction)


def _parsers(p: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """A parser and, recursively, its subcommands' parsers."""
    yield p
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _parsers(child)


PARSERS = {name: make() for name, make in {
    "looper bench": bench_parser, "looper fuzz": fuzz_parser, "looper train": train_parser,
    "looper evaluate": evaluate_parser, "looper dataset": dataset_parser, "python -m polybench": polybench_parser,
}.items()}


@pytest.mark.parametrize("name", PARSERS)
def test_every_command_says_what_it_does_and_every_option_its_default(name: str) -> None:
    for p in _parsers(PARSERS[name]):
        assert p.description and len(p.description) > 20, f"{p.prog}: no description"
        assert "error" not in p.description.split(":")[0], f"{p.prog}: describes its errors, not itself"
        for action in p._actions:
            if isinstance(action, _SELF_EVIDENT):
                continue
            label = f"{p.prog} {'/'.join(action.option_strings) or action.dest}"
            assert action.help, f"{label}: no help text"
            if action.option_strings and not action.required:
                assert "default" in action.help, f"{label}: help does not show the default"


def test_help_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        dataset_parser().parse_args(["generate", "--help"])
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "append the samples to an SQLite data set" in out and "(default: 30)" in out
