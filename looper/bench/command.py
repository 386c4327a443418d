"""The `looper bench` command line."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from codegen.harness import machine_id
from looper.argtypes import at_least, positive
from looper.bench.configs import CONFIG_NAMES, Config, default_configs, select, unavailable, variant_config
from looper.bench.report import collect, combine, markdown, plot
from looper.bench.runner import Settings, bench, commit_id
from looper.bench.store import Key, Store
from looper.errors import EXIT_INPUT, EXIT_OK
from looper.searchflags import parse_search_flags
from polybench.manifest import KERNELS, SIZES


def _names(values: list[str] | None) -> list[str] | None:
    """Accept both `--kernels a b` and `--kernels a,b`."""
    if values is None:
        return None
    return [n for v in values for n in v.split(",") if n]


def parser(cls: type[argparse.ArgumentParser] = argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `looper bench` options."""
    p = cls(prog="looper bench",
            description="Build, verify and time PolyBench with gcc, Graphite, Polly and looper, interleaved, each "
                        "speedup against gcc in the same run; resumable (results kept in SQLite). Writes JSON, "
                        "bar charts and the markdown report (BENCHMARKS.md: method and current tables), also "
                        "from stored results (--report-only) or from earlier runs' JSON (--from-json).")
    p.add_argument("--size", default="MEDIUM", type=str.upper, choices=SIZES, help="dataset size (default: MEDIUM)")
    p.add_argument("--kernels", nargs="+", metavar="KERNEL", help="kernels to run (default: all 30)")
    p.add_argument("--configs", nargs="+", metavar="CONFIG",
                   help="configurations to run, or with --from-json to show (default: all; gcc, the baseline, is "
                        f"always included): {', '.join(CONFIG_NAMES)}")
    p.add_argument("--model", action="append", default=[], metavar="NAME=CHECKPOINT",
                   help="add configuration looper-NAME: the default search scored by this cost-model checkpoint, "
                        "beside the shipped model's `looper`; results are stored by NAME, so another checkpoint "
                        "needs another NAME (repeatable; default: none)")
    p.add_argument("--variant", action="append", default=[], metavar="NAME=FLAGS",
                   help="add configuration looper-NAME: looper with these looper-opt search flags, e.g. "
                        "beam8='--beam-width 8' or 'ft=--model ft.pt --beam-width 8'; results are stored by NAME "
                        "(repeatable; default: none)")
    p.add_argument("--repeat", type=at_least(1), default=5, help="timed runs per configuration (default: 5)")
    p.add_argument("--json", type=Path, metavar="OUT", help="write this run's results as JSON (default: not written)")
    p.add_argument("--plot", type=Path, metavar="OUT.png",
                   help="bar chart of the speedups at --size, or of every size when the path contains {size} "
                        "(e.g. benchmarks/{size}.png; default: no chart)")
    p.add_argument("--report", type=Path, metavar="BENCHMARKS.md",
                   help="write the whole markdown report, method and tables, linking the --plot charts "
                        "(default: not written)")
    p.add_argument("--from-json", type=Path, nargs="+", metavar="RUN.json",
                   help="measure nothing: report and plot these runs' results (written by --json); per size, "
                        "each configuration's column comes from the latest run that has it (default: this "
                        "commit's stored results)")
    p.add_argument("--note", default="", help="a sentence about this run, kept in its JSON and shown in the report "
                                              "(default: none)")
    p.add_argument("--results", type=Path, metavar="DB",
                   help="SQLite results database (default: bench-results.db in the looper cache directory, "
                        "$LOOPER_CACHE or /tmp/looper-$UID)")
    p.add_argument("--threads", type=at_least(1), default=2, help="OMP_NUM_THREADS for every run (default: 2)")
    p.add_argument("--verify-size", default="MINI", type=str.upper, choices=SIZES,
                   help="dataset size at which variants are checked against the baseline (default: MINI)")
    p.add_argument("--timeout", type=positive, default=600.0, help="seconds allowed per run (default: 600)")
    p.add_argument("--max-load", type=positive, default=None, metavar="TASKS",
                   help="before timing a kernel, wait until fewer than TASKS other tasks are running (default: "
                        "don't wait; the load is recorded either way)")
    p.add_argument("--max-wait", type=positive, default=600.0,
                   help="longest wait for --max-load, seconds (default: 600)")
    p.add_argument("--remeasure-busy", type=positive, default=None, metavar="TASKS",
                   help="measure again the kernels timed while at least TASKS other tasks ran; keep the new "
                        "timings only if the machine was quieter (default: never)")
    p.add_argument("--jobs", type=at_least(1), default=None, help="parallel builds (default: number of CPUs)")
    p.add_argument("--gcc", default="gcc", help="gcc command (default: gcc)")
    p.add_argument("--clang", default="clang-16", help="clang command with Polly (default: clang-16)")
    p.add_argument("--commit", help="store results under this commit (default: the checked-out one)")
    p.add_argument("--report-only", action="store_true", help="measure nothing: write the outputs from the database")
    p.add_argument("--quiet", action="store_true", help="no progress or per-kernel lines")
    return p


def main(argv: list[str] | None = None, cls: type[argparse.ArgumentParser] = argparse.ArgumentParser) -> int:
    """Run `looper bench`; return the exit status."""
    p = parser(cls)
    args = p.parse_args(argv)
    if args.from_json and args.json:
        p.error("--json writes a run's results; with --from-json nothing is measured")
    say = (lambda text: None) if args.quiet else (lambda text: print(f"[bench] {text}", file=sys.stderr, flush=True))
    command = shlex.join(["looper", "bench", *(sys.argv[2:] if argv is None else argv)])
    try:
        extra = _extra_configs(args.model, args.variant, args.gcc)
    except ValueError as exc:
        print(f"looper bench: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    if args.from_json:
        try:
            runs = [json.loads(path.read_text()) for path in args.from_json]
        except (OSError, ValueError) as exc:
            print(f"looper bench: error: cannot read results: {exc}", file=sys.stderr)
            return EXIT_INPUT
    else:
        data = _measure(args, say, command, extra)
        if isinstance(data, int):
            return data
        runs = [data]
        if args.json:
            _write(args.json, json.dumps(data, indent=1) + "\n")
    shown = _names(args.configs)
    if shown is not None:  # the --model and --variant configurations too
        shown += list(extra)
    try:
        report = combine(runs, shown)
    except (KeyError, ValueError) as exc:
        print(f"looper bench: error: not a results file of looper bench: {exc}", file=sys.stderr)
        return EXIT_INPUT
    for name, s in report["sizes"].items():
        gm = ", ".join(f"{n} {g['speedup']:.2f}x" for n, g in s["geomean"].items() if g["speedup"])
        say(f"{name}: geometric mean speedup over gcc: {gm}")
    plots = _plot_paths(args.plot, args.size, report)
    if isinstance(plots, str):
        print(f"looper bench: error: {plots}", file=sys.stderr)
        return EXIT_INPUT
    for size, path in plots.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        plot(report, size, path)
    if args.report:
        links = {size: os.path.relpath(path, args.report.resolve().parent) for size, path in plots.items()}
        _write(args.report, markdown(report, command=command, plots=links))
    return EXIT_OK


def _measure(args: argparse.Namespace, say: Callable[[str], None], command: str,
             extra: dict[str, Config]) -> dict | int:
    """Measure what the results database lacks (unless --report-only), with the configurations `extra` beside
    the named ones; return this commit's results or an exit status."""
    try:
        kernels = [KERNELS[n] for n in _names(args.kernels) or KERNELS]
        names = _names(args.configs)
        configs = select(names if names is None else [*names, *extra], {**default_configs(args.gcc, args.clang),
                                                                          **extra})
    except KeyError as exc:
        print(f"looper bench: error: unknown kernel {exc}; known: {', '.join(KERNELS)}", file=sys.stderr)
        return EXIT_INPUT
    except ValueError as exc:
        print(f"looper bench: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    skipped = {c.name: reason for c in configs if (reason := unavailable(c))}
    for name, reason in skipped.items():
        say(f"configuration {name} skipped: {reason}")
    if configs[0].name in skipped:
        print(f"looper bench: error: the baseline cannot run: {skipped[configs[0].name]}", file=sys.stderr)
        return EXIT_INPUT
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
        return collect(store, key, configs, skipped, repeat=args.repeat, threads=args.threads,
                       verify_size=args.verify_size, command=command, note=args.note)


def _extra_configs(models: list[str], variants: list[str], gcc: str) -> dict[str, Config]:
    """The configurations of the `--model NAME=CHECKPOINT` and `--variant NAME=FLAGS` options, by name."""
    out: dict[str, Config] = {}
    specs = [("--model", spec, "CHECKPOINT") for spec in models] + [("--variant", spec, "FLAGS") for spec in variants]
    for option, spec, what in specs:
        name, sep, value = spec.partition("=")
        if not sep or not name or not value:
            raise ValueError(f"{option} {spec!r}: expected NAME={what}")
        flags = shlex.join(["--model", value]) if option == "--model" else value
        try:
            settings = parse_search_flags(flags)
        except ValueError as exc:
            raise ValueError(f"{option} {spec!r}: {exc}") from None
        config = variant_config(name, settings, flags, gcc)
        if config.name in CONFIG_NAMES or config.name in out:
            raise ValueError(f"{option} {spec!r}: configuration {config.name} exists already")
        out[config.name] = config
    return out


def _plot_paths(plot: Path | None, size: str, report: dict) -> dict[str, Path] | str:
    """Where each size's chart goes: every size if the path has {size}, else --size; or what is wrong."""
    if plot is None:
        return {}
    if "{size}" in str(plot):
        return {s: Path(str(plot).replace("{size}", s.lower())) for s in report["sizes"]}
    if size not in report["sizes"]:
        return f"no results at {size} to plot (have: {', '.join(report['sizes'])})"
    return {size: plot}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)
