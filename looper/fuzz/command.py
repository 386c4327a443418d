"""`looper fuzz`: differential fuzzing of looper on random affine programs (resumable)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from looper.argtypes import at_least, positive
from looper.fuzz.cases import SEARCH_MODES
from looper.fuzz.runner import Options, run
from looper.progress import Progress


def parser(parser_cls: type = argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `looper fuzz` command line."""
    p: argparse.ArgumentParser = parser_cls(
        prog="looper fuzz",
        description="Build random affine programs and random legal transformations of them (and every search "
                    "mode's choice) at small sizes, run both, compare every live-out array; reduce each failure "
                    "to a reproducer in DIR/reproducers and DIR/failures.txt. Resumable: finished programs "
                    "(DIR/state.sqlite) are skipped.")
    p.add_argument("--programs", type=at_least(1), default=100, help="number of programs (default: 100)")
    p.add_argument("--first", type=at_least(0), default=0, help="index of the first program (default: 0)")
    p.add_argument("--schedules-per-program", type=at_least(0), default=15,
                   help="random legal schedules per program (default: 15)")
    p.add_argument("--seed", type=int, default=0, help="seed of the run's program stream (default: 0)")
    p.add_argument("--jobs", type=at_least(1), default=2, help="worker processes (default: 2)")
    p.add_argument("--out", type=Path, default=Path("fuzz-out"), help="output directory (default: fuzz-out)")
    p.add_argument("--time-limit", type=positive, default=300.0,
                   help="seconds per case before its worker is killed and the case counts as a hang (default: 300)")
    p.add_argument("--searches", nargs="*", choices=SEARCH_MODES, default=["pluto", "isl", "model", "random", "none"],
                   help="search modes fed through looper.api.optimize; measure and hybrid time things, so they "
                        "are opt-in (default: pluto isl model random none)")
    p.add_argument("--all-searches", action="store_true",
                   help="every search on every program (default: pluto, isl and none always, the others in turn)")
    p.add_argument("--beam-width", type=at_least(1), default=2, help="beam width of the searches (default: 2)")
    p.add_argument("--max-nests", type=at_least(1), default=4, help="top-level loop nests per program (default: 4)")
    p.add_argument("--max-depth", type=at_least(1, at_most=5), default=5,
                   help="loop depth of the programs, 1 to 5 (default: 5)")
    p.add_argument("--no-reduce", action="store_true", help="save failures as found, without reducing them")
    p.add_argument("--reduce-budget", type=positive, default=300.0,
                   help="seconds of reduction per failure (default: 300)")
    p.add_argument("--max-reductions", type=at_least(0), default=3,
                   help="failures reduced per failure signature (default: 3)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no log lines")
    return p


def main(argv: list[str] | None = None, parser_cls: type = argparse.ArgumentParser) -> int:
    """Run `looper fuzz`; print the JSON summary; exit status 1 if anything failed."""
    args = parser(parser_cls).parse_args(argv)
    options = Options(programs=args.programs, first=args.first, schedules=args.schedules_per_program,
                      seed=args.seed, jobs=args.jobs, time_limit=args.time_limit, searches=tuple(args.searches),
                      all_searches=args.all_searches, beam_width=args.beam_width, max_nests=args.max_nests,
                      max_depth=args.max_depth, reduce=not args.no_reduce, reduce_budget=args.reduce_budget,
                      max_reductions=args.max_reductions, quiet=args.quiet)
    with Progress(args.programs, "fuzz", enabled=False if args.quiet else None) as bar:

        def log(message: str) -> None:
            if not args.quiet:
                print(("\n" if bar.enabled else "") + f"[looper] fuzz: {message}", file=sys.stderr, flush=True)

        summary = run(args.out, options, log=log, progress=bar.advance)
    print(json.dumps(summary, indent=2))
    if summary["interrupted"]:
        return 130
    return 1 if summary["failures"] else 0
