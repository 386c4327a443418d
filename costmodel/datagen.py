"""`looper dataset`: make and inspect the cost model's measured data sets (the command line).

`generate` appends to an SQLite store (schema in costmodel.dataset) and is safe to kill at any
moment: every sample is committed on its own, a program's schedules are drawn from a seeded
stream, and a restart skips what is already stored (UNIQUE(program, fingerprint)). How programs
are prepared and timed: costmodel.pipeline, costmodel.labels and the measurement harness
(codegen.harness). `remeasure` times stored schedules again the same way; `agreement` compares two
labellings of the same schedules (costmodel.agreement).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from costmodel.agreement import agreement, format_agreement
from costmodel.cli import guard
from costmodel.dataset import merge_databases, open_db, program_keys, split_database, statistics
from costmodel.generator import SCALES
from costmodel.inference import load_model, threads
from costmodel.labels import RUN_TIMEOUT
from costmodel.pipeline import run
from costmodel.programs import generated_programs, polybench_programs
from costmodel.remeasure import remeasure, remeasure_order
from costmodel.sampling import Sampling
from looper.argtypes import at_least, positive, probability
from looper.progress import Progress
from polybench.manifest import SIZES

BUSY_CPUS = 0.25  # CPUs' worth of time other jobs may take before a measurement run warns
REPEAT = 5  # --repeat's default


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_warning(seconds: float = 1.0) -> str | None:
    """A warning when other work is running now (measured over `seconds` while this process sleeps):
    on a 2-vCPU virtual machine the times of parallel variants depend on it (TRAINING.md)."""
    try:
        busy0, total0 = _cpu_times()
        time.sleep(seconds)
        busy1, total1 = _cpu_times()
    except (OSError, ValueError, IndexError):  # no /proc/stat: not Linux; nothing to say
        return None
    cpus = (busy1 - busy0) / max(total1 - total0, 1) * (os.cpu_count() or 1)
    if cpus <= BUSY_CPUS:
        return None
    return (f"other jobs are using {cpus:.1f} CPUs: the speedups of parallel variants measured now depend on them; "
            f"measure alone")


def parser(parser_cls: type = argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `looper dataset` command line and its subcommands."""
    p: argparse.ArgumentParser = parser_cls(
        prog="looper dataset",
        description="Make and inspect the cost model's measured data sets (SQLite): generate random programs x "
                    "random legal schedules, built and timed; split by program; merge; remeasure; compare two "
                    "labellings (agreement); stats.")
    sub = p.add_subparsers(dest="action", required=True)
    g = sub.add_parser("generate", help="generate programs, draw legal schedules, build and time them (resumable)",
                       description="Generate random affine programs (or take PolyBench's kernels), draw random legal "
                                   "schedules of each, build each program's schedules into one library and time them "
                                   "against the original (codegen.harness), and append the samples to an SQLite data "
                                   "set. Resumable: run it again to continue.")
    g.add_argument("--out", type=Path, required=True, help="SQLite data set (created or extended)")
    g.add_argument("--suite", choices=("generated", "polybench"), default="generated",
                   help="generated programs or PolyBench's kernels (default: generated)")
    g.add_argument("--programs", type=at_least(1), default=100,
                   help="number of generated programs, one seed each (default: 100)")
    g.add_argument("--first-seed", type=at_least(0), default=0, help="seed of the first program (default: 0)")
    g.add_argument("--scale", choices=tuple(SCALES), default="small",
                   help="generated programs' sizes: 'small' in cache, 3-30 ms a run (the shipped model's data); "
                        "'use' as PolyBench MEDIUM/LARGE, footprints up to 4x the last-level cache, 5-200 ms, "
                        "with more program families (default: small)")
    g.add_argument("--kernels", nargs="*", metavar="KERNEL",
                   help="PolyBench kernels, with --suite polybench (default: all 30)")
    g.add_argument("--size", choices=SIZES, metavar="SIZE",
                   help="PolyBench's dataset size for every kernel, with --suite polybench: MINI, SMALL, MEDIUM, "
                        "LARGE or EXTRALARGE (default: each kernel at a size it runs 1-100 ms)")
    g.add_argument("--run-timeout", type=positive, default=RUN_TIMEOUT, metavar="SECONDS",
                   help=f"seconds one timed run may take before it is a timeout (default: {RUN_TIMEOUT:g}; LARGE's "
                        "slowest kernels take 20 s)")
    g.add_argument("--schedules-per-program", type=at_least(1), default=30,
                   help="schedules measured per program (default: 30)")
    _repeat_option(g)
    g.add_argument("--beam", type=at_least(0), default=0, metavar="K",
                   help="of each program's schedules, first the K the cost model (the shipped one, or --model) ranks "
                        "highest in a beam search (exploration data; default: 0, random samples only)")
    g.add_argument("--visited", action="store_true",
                   help="of each program's schedules, first those looper-opt's default search visits: the original, "
                        "the model's beam favourites (the shipped one, or --model), the Pluto-class schedules and "
                        "seeds, neighbours of the favourites; then a random fifth (costmodel/sampling.py)")
    g.add_argument("--model", type=Path, metavar="CHECKPOINT",
                   help="the cost model whose beam search --beam and --visited follow, e.g. a candidate's, so that "
                        "its favourites are measured before it is judged (default: the shipped model)")
    g.add_argument("--nest-steps", type=at_least(1), default=1, metavar="K",
                   help="random schedules may take up to K parallel, tile, unroll and vector steps each, one per "
                        "loop nest (the search's Space.nest_steps; default: 1, as data/generated.db)")
    g.add_argument("--outer-parallel", type=probability, default=0.0, metavar="P",
                   help="chance that a random schedule's parallel step takes the outermost legal loop (default: 0, "
                        "any of the outermost three alike, as data/generated.db and generated-nests.db)")
    cpus = os.cpu_count() or 1
    g.add_argument("--jobs", type=at_least(1), default=cpus,
                   help=f"programs prepared (schedules drawn, code generated, built) at once; timing is always one "
                        f"program at a time, alone (default: {cpus}, the cores; with --backend ray, tasks at once, "
                        "one per node for quiet timings)")
    g.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="measure in worker processes here, or as tasks on a Ray cluster (default: local)")
    g.add_argument("--ray-address", metavar="HOST:PORT",
                   help="Ray cluster to join (default: $RAY_ADDRESS, else the one started on this machine, else a "
                        "new local instance)")
    g.add_argument("--quiet", action="store_true", help="no progress bar and no log lines")
    sp = sub.add_parser("split", help="copy a data set into training and held-out databases, by program",
                        description="Copy a data set into a training and a held-out database; a seeded hash of each "
                                    "program decides its side, so no program is in both. Refuses to overwrite.")
    sp.add_argument("data", type=Path, help="data set to split")
    sp.add_argument("--train", type=Path, required=True, help="training database to create")
    sp.add_argument("--test", type=Path, required=True, help="held-out database to create")
    sp.add_argument("--test-fraction", type=probability, default=0.2,
                    help="fraction of the programs held out (default: 0.2)")
    sp.add_argument("--seed", type=int, default=0, help="seed of the hash that splits the programs (default: 0)")
    mg = sub.add_parser("merge", help="one data set from several; a program in several takes the last one's samples",
                        description="Write one data set from several. A program found in several takes all its "
                                    "samples from the last data set that has it.")
    mg.add_argument("data", type=Path, nargs="+", help="data sets to merge, in order (a FILE.db.xz is read unpacked)")
    mg.add_argument("--out", type=Path, required=True, help="data set to create")
    rm = sub.add_parser("remeasure", help="measure a data set's schedules again into a new database (resumable)",
                        description="Time a data set's stored schedules (those labelled ok) again with the "
                                    "generator's own procedure, into a new database of the same schema. Resumable.")
    rm.add_argument("data", type=Path, help="data set whose schedules are measured again")
    rm.add_argument("--out", type=Path, required=True, help="SQLite data set for the new measurements")
    rm.add_argument("--programs", type=at_least(1), help="only this many programs, a seeded sample (default: all)")
    rm.add_argument("--seed", type=int, default=0, help="which programs are drawn, and in which order (default: 0)")
    _repeat_option(rm)
    rm.add_argument("--quiet", action="store_true", help="no progress bar and no log lines")
    ag = sub.add_parser("agreement", help="how alike two labellings of the same schedules are",
                        description="Compare the labels of the schedules two data sets both hold (e.g. a data set "
                                    "and its remeasure hours later): mean per-program Spearman, pairwise agreement "
                                    "on pairs more than 10% apart, MAPE of A against B; all, serial and parallel "
                                    "schedules.")
    ag.add_argument("data", type=Path, nargs=2, metavar="DB", help="the two data sets, A and B")
    ag.add_argument("--json", action="store_true", help="print the figures as JSON")
    st = sub.add_parser("stats", help="counts of a data set (programs, samples, noise, throughput)",
                        description="Print a data set's counts: programs, samples by status, samples with steady "
                                    "runs, and the hours spent measuring.")
    st.add_argument("data", type=Path, help="data set to describe")
    st.add_argument("--json", action="store_true", help="print the counts as JSON")
    return p


def _repeat_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repeat", type=at_least(1), default=REPEAT,
                   help=f"timed runs of a variant (interleaved with the original's, which runs every round); one "
                        f"over 2x the best stops after 2, one within 10%% of the best gets up to twice as many "
                        f"(default: {REPEAT})")


def main(argv: list[str] | None, parser_cls: type) -> int:
    """Run `looper dataset`: bad input and internal errors as one line on stderr, never a traceback."""
    return guard(_main, argv, parser_cls, "dataset")


def _main(argv: list[str] | None, parser_cls: type) -> int:
    """Run one `looper dataset` subcommand."""
    p = parser(parser_cls)
    args = p.parse_args(argv)
    datas = args.data if args.action in ("merge", "agreement") else [getattr(args, "data", None)]
    for data in datas:
        if data is not None and not data.is_file():
            print(f"{data}: error: no such data set", file=sys.stderr)
            return 2
    if args.action in ("split", "stats", "merge", "agreement"):
        return _inspect(args)
    if args.action == "remeasure":
        return _remeasure(args)
    if args.size and args.suite != "polybench":
        p.error("--size needs --suite polybench (generated programs take --scale)")
    if args.scale != "small" and args.suite != "generated":
        p.error("--scale is for generated programs (PolyBench's kernels take --size)")
    if args.ray_address and args.backend != "ray":
        p.error("--ray-address needs --backend ray")
    if args.backend == "ray":
        try:
            import ray  # noqa: F401  (only to say that the extra is missing)
        except ImportError:
            p.error("--backend ray needs the 'ray' extra: pip install 'looper[ray]'")
    model = None
    if args.model is not None:
        if not (args.beam or args.visited):
            p.error("--model needs --beam or --visited (random schedules use no model)")
        if not args.model.is_file():
            print(f"{args.model}: error: no such cost-model checkpoint", file=sys.stderr)
            return 2
        # A file that is not a checkpoint fails here, once, not in every worker; on one thread, because
        # the workers are forked next, and a fork after torch's thread pool ran leaves them hanging.
        with threads(1):
            load_model(args.model)
        model = str(args.model.resolve())  # workers (Ray tasks) may start in another directory
    if args.backend == "local" and not args.quiet and (warning := busy_warning()):
        print(f"looper dataset: warning: {warning}", file=sys.stderr)
    if args.suite == "polybench":
        specs = list(polybench_programs(args.kernels, args.size))
    else:
        specs = list(generated_programs(args.first_seed, args.programs, args.scale))
    log = (lambda msg: None) if args.quiet else (lambda msg: print(f"[looper] {msg}", file=sys.stderr))
    started = time.time()
    with Progress(len(specs), "measuring", enabled=None if not args.quiet else False) as bar:
        counts = run(args.out, iter(specs), len(specs), args.schedules_per_program, repeat=args.repeat,
                     log=log, progress=bar.advance, jobs=args.jobs, backend=args.backend,
                     ray_address=args.ray_address, quiet=args.quiet, run_timeout=args.run_timeout,
                     sampling=Sampling(args.beam, args.nest_steps, args.outer_parallel, args.visited, model))
    hours = (time.time() - started) / 3600
    counts["samples_per_hour"] = int(counts["new_samples"] / hours) if hours > 0 else 0
    print(json.dumps(counts))
    return 0


def _inspect(args: argparse.Namespace) -> int:
    """`looper dataset split`, `merge`, `agreement` and `stats`."""
    if args.action == "merge":  # an existing output file is a ValueError: `guard` reports it
        counts = merge_databases(args.data, args.out)
        print(f"{args.out}: " + "; ".join(f"{n} programs from {source}" for source, n in counts.items()))
        return 0
    if args.action == "split":  # an existing output file is a ValueError: `guard` reports it
        n_train, n_test = split_database(args.data, args.train, args.test, test_fraction=args.test_fraction,
                                         seed=args.seed)
        print(f"{args.train}: {n_train} programs; {args.test}: {n_test} programs")
        return 0
    if args.action == "agreement":
        report = agreement(*args.data)
        print(json.dumps(report, indent=2) if args.json else format_agreement(report))
        return 0
    stats = statistics(args.data)
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        print("\n".join(f"{k}: {v}" for k, v in stats.items()))
    return 0


def _remeasure(args: argparse.Namespace) -> int:
    """`looper dataset remeasure`."""
    if args.data.resolve() == args.out.resolve():
        print(f"{args.out}: error: the new measurements need a database of their own", file=sys.stderr)
        return 2
    if not args.quiet and (warning := busy_warning()):
        print(f"looper dataset: warning: {warning}", file=sys.stderr)
    conn = open_db(args.data, create=False)
    keys = remeasure_order(program_keys(conn), args.programs, args.seed)
    conn.close()
    started = time.time()
    with Progress(len(keys), "re-measuring", enabled=None if not args.quiet else False) as bar:
        measured = remeasure(args.data, args.out, keys, repeat=args.repeat, progress=bar.advance)
    minutes = round((time.time() - started) / 60, 1)
    print(json.dumps({"programs": len(keys), "measured_now": measured, "minutes": minutes}))
    return 0
