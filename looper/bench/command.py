"""The `looper bench` command line."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from looper.argtypes import at_least, positive
from looper.bench.configs import CONFIG_NAMES, default_configs, select, unavailable
from looper.bench.report import collect, markdown, plot
from looper.bench.runner import Settings, bench, commit_id, machine_id
from looper.bench.store import Key, Store
from polybench.manifest import KERNELS, SIZES


def _names(values: list[str] | None) -> list[str] | None:
    """Accept both `--kernels a b` and `--kernels a,b`."""
    if values is None:
        return None
    return [n for v in values for n in v.split(",") if n]


def parser(cls: type[argparse.ArgumentParser] = argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `looper bench` options."""
    p = cls(prog="looper bench", description="Build, verify and time PolyBench with gcc, Graphite, Polly and "
                                             "looper, interleaved; resumable; markdown/JSON/plot reports.")
    p.add_argument("--size", default="MEDIUM", type=str.upper, choices=SIZES, help="dataset size (default MEDIUM)")
    p.add_argument("--kernels", nargs="+", metavar="KERNEL", help="kernels to run (default: all 30)")
    p.add_argument("--configs", nargs="+", metavar="CONFIG",
                   help=f"configurations (default: all; gcc, the baseline, is always run): {', '.join(CONFIG_NAMES)}")
    p.add_argument("--repeat", type=at_least(1), default=5, help="timed runs per configuration (default 5)")
    p.add_argument("--json", type=Path, metavar="OUT", help="write every result as JSON")
    p.add_argument("--plot", type=Path, metavar="OUT.png", help="bar chart of the speedups")
    p.add_argument("--report", type=Path, metavar="BENCHMARKS.md", help="write a markdown report")
    p.add_argument("--results", type=Path, metavar="DB",
                   help="SQLite results database (default: bench-results.db in the looper cache directory)")
    p.add_argument("--threads", type=at_least(1), default=2, help="OMP_NUM_THREADS for every run (default 2)")
    p.add_argument("--verify-size", default="MINI", type=str.upper, choices=SIZES,
                   help="dataset size at which variants are checked against the baseline (default MINI)")
    p.add_argument("--timeout", type=positive, default=600.0, help="seconds allowed per run (default 600)")
    p.add_argument("--max-load", type=positive, default=None, metavar="TASKS",
                   help="before timing a kernel, wait until fewer than TASKS other tasks are running (default: "
                        "don't wait; the load is recorded either way)")
    p.add_argument("--max-wait", type=positive, default=600.0,
                   help="longest wait for --max-load, seconds (default 600)")
    p.add_argument("--remeasure-busy", type=positive, default=None, metavar="TASKS",
                   help="measure again the kernels timed while at least TASKS other tasks ran; keep the new "
                        "timings only if the machine was quieter")
    p.add_argument("--jobs", type=at_least(1), default=None, help="parallel builds (default: number of CPUs)")
    p.add_argument("--gcc", default="gcc", help="gcc command (default gcc)")
    p.add_argument("--clang", default="clang-16", help="clang command with Polly (default clang-16)")
    p.add_argument("--commit", help="store results under this commit instead of the checked-out one")
    p.add_argument("--report-only", action="store_true", help="measure nothing: write the outputs from the database")
    p.add_argument("--quiet", action="store_true", help="no progress or per-kernel lines")
    return p


def main(argv: list[str] | None = None, cls: type[argparse.ArgumentParser] = argparse.ArgumentParser) -> int:
    """Run `looper bench`; return the exit status."""
    args = parser(cls).parse_args(argv)
    say = (lambda text: None) if args.quiet else (lambda text: print(f"[bench] {text}", file=sys.stderr, flush=True))
    try:
        kernels = [KERNELS[n] for n in _names(args.kernels) or KERNELS]
        configs = select(_names(args.configs), default_configs(args.gcc, args.clang))
    except KeyError as exc:
        print(f"looper bench: error: unknown kernel {exc}; known: {', '.join(KERNELS)}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"looper bench: error: {exc}", file=sys.stderr)
        return 2
    skipped = {c.name: reason for c in configs if (reason := unavailable(c))}
    for name, reason in skipped.items():
        say(f"configuration {name} skipped: {reason}")
    if configs[0].name in skipped:
        print(f"looper bench: error: the baseline cannot run: {skipped[configs[0].name]}", file=sys.stderr)
        return 2
    settings = Settings(size=args.size, repeat=args.repeat, threads=args.threads, verify_size=args.verify_size,
                        timeout=args.timeout, max_load=args.max_load, max_wait=args.max_wait)
    if args.jobs:
        settings.jobs = args.jobs
    key = Key(args.commit or commit_id(), machine_id(), args.size)
    db = args.results or settings.workdir.parent / "bench-results.db"
    say(f"results: {db} (commit {key.commit}, {key.machine}, {key.size})")
    with Store(db) as store:
        if not args.report_only:
            bench(kernels, [c for c in configs if c.name not in skipped], settings, store, key,
                  remeasure_busy=args.remeasure_busy, log=say, progress=None if not args.quiet else False)
        data = collect(store, key, configs, skipped, repeat=args.repeat, threads=args.threads,
                       verify_size=args.verify_size, command=shlex.join(["looper", "bench", *(argv or sys.argv[2:])]))
    for name, s in data["sizes"].items():
        gm = ", ".join(f"{n} {g['speedup']:.2f}x" for n, g in s["geomean"].items() if g["speedup"])
        say(f"{name}: geometric mean speedup over gcc: {gm}")
    if args.json:
        _write(args.json, json.dumps(data, indent=1) + "\n")
    if args.report:
        _write(args.report, markdown(data))
    if args.plot:
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        plot(data, args.size, args.plot)
    return 0


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)
