"""looper-opt's flags that say how to search, shared with `looper bench --variant`, which builds a
configuration from them."""

from __future__ import annotations

import argparse
import os
import shlex

from looper.argtypes import at_least
from looper.search import Space
from looper.search.strategies import SEARCHES, STANDIN, Settings


def add_search_flags(p: argparse.ArgumentParser) -> None:
    """Add the search flags (--search, --beam-width, ..., --model, --jobs, --repeat, --seed) to `p`, with
    `Settings()`'s defaults (but --jobs: the machine's cores, as looper-opt has always had it)."""
    d = Settings()
    p.add_argument("--search", choices=SEARCHES, default=d.search,
                   help=f"how to choose transformations (default: {d.search})")
    p.add_argument("--beam-width", type=at_least(1), default=d.beam_width,
                   help=f"beam width of the search (default {d.beam_width})")
    p.add_argument("--fusion-width", type=at_least(1), default=d.fusion_width,
                   help=f"loop structures kept at the fusion levels of the model, hybrid and random searches "
                   f"(default {d.fusion_width})")
    p.add_argument("--notile", action="store_true", help="no tiling")
    p.add_argument("--noparallel", action="store_true", help="no OpenMP parallel loops")
    p.add_argument("--nounroll", action="store_true", help="no unrolling")
    p.add_argument("--novector", action="store_true", help="no simd loops")
    p.add_argument("--model", help=f"cost model checkpoint (default: the shipped model), or {STANDIN} for the stand-in")
    p.add_argument("--jobs", type=at_least(1), default=os.cpu_count() or 1, help="parallel builds when measuring")
    p.add_argument("--repeat", type=at_least(1), default=d.repeat,
                   help=f"timed runs per candidate when measuring (default {d.repeat})")
    p.add_argument("--seed", type=int, default=d.seed, help="seed of the random search")


def search_settings(args: argparse.Namespace) -> Settings:
    """The settings that parsed search flags say."""
    space = Space(tile=not args.notile, parallel=not args.noparallel, unroll=not args.nounroll,
                  vector=not args.novector)
    return Settings(search=args.search, beam_width=args.beam_width, fusion_width=args.fusion_width, space=space,
                    model=args.model, jobs=args.jobs, repeat=args.repeat, seed=args.seed)


class _Raising(argparse.ArgumentParser):
    """argparse that raises ValueError on a bad command line instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ValueError(message)


def parse_search_flags(text: str) -> Settings:
    """The settings of search flags written as on looper-opt's command line (`"--beam-width 8 --model m.pt"`);
    ValueError says what is wrong with them."""
    p = _Raising(prog="", add_help=False)
    add_search_flags(p)
    p.set_defaults(jobs=Settings().jobs)  # a variant differs from the built-in configurations by its flags alone
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"cannot split {text!r}: {exc}") from None
    args = p.parse_args(words)
    if problem := model_problem(args.model):
        raise ValueError(problem)
    if args.model not in (None, STANDIN):
        args.model = os.path.abspath(args.model)
    return search_settings(args)


def model_problem(model: str | None) -> str | None:
    """What is wrong with a --model value (a checkpoint that is not a file), or None."""
    if model in (None, STANDIN) or os.path.isfile(model):
        return None
    return f"--model {model}: no such cost-model checkpoint"
