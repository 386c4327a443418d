"""Training data: random programs x random legal schedules, built with a real compiler and timed.

`looper dataset generate` appends to an SQLite store (schema in costmodel.dataset) and is safe
to kill at any moment: every sample is committed on its own, a program's schedules are drawn
from a seeded stream, and a restart skips what is already stored (UNIQUE(program, fingerprint)).
Each program is measured in a separate worker process (or a Ray task: costmodel.ray_backend), so
a crash or hang in looper, the compiler or the program is recorded as a failure and never stops
the run.

Each variant is built as its own program, exactly as `looper-opt` would emit it; only the shared
harness (polybench.c) is compiled once and linked (codegen.build). Several variants in one binary,
chosen at run time, would save compiler calls but change what is measured: gcc inlines and lays out a
kernel function that holds one variant differently from one that holds thirty.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from codegen.ast_c import generate as generate_code
from codegen.build import BuildError, Compiler, compile_text, timing_env
from codegen.splice import region_code, splice
from costmodel.dataset import frontend_loader, open_db, program_keys
from looper.argtypes import at_least, probability
from looper.deps import Dependences, compute_dependences
from looper.measure import machine_id
from looper.schedule import Schedule
from looper.search.beam import FUSION_WIDTH, beam_search
from looper.search.candidates import SAMPLING_SPACE
from looper.search.sampler import samples
from looper.verify import harness_sources

COMPILER = Compiler(flags=("-O3", "-march=native"))


def compiler_record() -> str:
    """How every sample is compiled, as its `compiler` column records it."""
    return f"{COMPILER.cc} {' '.join(COMPILER.arguments())}"


@dataclass(frozen=True)
class ProgramSpec:
    """A program to measure: its source and the definitions it is built with."""

    key: str
    suite: str
    name: str
    seed: int
    source: str
    defines: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Sampling:
    """Which schedules of a program are measured (`looper dataset generate`'s sampling options)."""

    beam: int = 0  # first the K schedules the shipped cost model ranks highest in a beam search
    nest_steps: int = 1  # random walks take up to K parallel, tile, unroll and vector steps each
    outer_parallel: float = 0.0  # the chance that a parallel step takes the outermost legal loop


@dataclass
class Sample:
    """One measured (program, schedule)."""

    fingerprint: str
    schedule: str
    status: str
    speedup: float | None = None
    median_s: float | None = None
    baseline_s: float | None = None
    times: list[float] = field(default_factory=list)


BUSY_CPUS = 0.25  # CPUs' worth of time other jobs may take before a measurement run warns


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


def program_key(source: str, defines: dict[str, str | None]) -> str:
    """Identity of a program: its text and definitions."""
    return hashlib.sha256((source + json.dumps(defines, sort_keys=True)).encode()).hexdigest()[:20]


def _trimmed_median(times: list[float]) -> float:
    """Median after dropping runs slower than 1.5x the fastest-half median (outlier rejection)."""
    ordered = sorted(times)
    reference = statistics.median(ordered[: max(1, len(ordered) // 2)])
    kept = [t for t in ordered if t <= 1.5 * reference] or ordered
    return statistics.median(kept)


def _run(binary: Path, timeout: float, wait_policy: str | None = "passive") -> float:
    env = {**{k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}, **timing_env(2, wait_policy)}
    proc = subprocess.run([str(binary)], capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"exit status {proc.returncode}")
    return float(proc.stdout.split()[-1])


def measure_program(spec: ProgramSpec, count: int, skip: set[str], seed: int, repeat: int = 5,
                    timeout: float = 10.0, sampling: Sampling = Sampling()) -> list[Sample]:
    """Measure up to `count` new legal schedules of a program (worker side): with `sampling.beam`, first
    the schedules the shipped cost model ranks highest in a beam search, then random samples (walks
    of the search's levels with every skew, `SAMPLING_SPACE`, and `sampling.nest_steps`)."""
    scop = frontend_loader(spec.source, spec.defines)
    deps = compute_dependences(scop)
    start = Schedule(scop)
    favourites = _beam_favourites(start, deps, sampling.beam) if sampling.beam else []
    taken = skip | {s.fingerprint() for s in favourites}
    schedules = [s for s in favourites if s.fingerprint() not in skip]
    space = replace(SAMPLING_SPACE, nest_steps=sampling.nest_steps)
    schedules += [s for s in samples(start, deps, count + len(taken), seed=seed, space=space,
                                     outer_parallel=sampling.outer_parallel)
                  if s.fingerprint() not in taken]
    return measure_schedules(spec, schedules[:count], repeat, timeout)


def measure_schedules(spec: ProgramSpec, schedules: list[Schedule], repeat: int = 5,
                      timeout: float = 10.0, wait_policy: str | None = "passive") -> list[Sample]:
    """Build and time the given schedules of a program against its original (worker side), under an
    OpenMP wait policy (None: unset, libgomp's default)."""
    extra, dirs = harness_sources(spec.source, [])
    defines = {**spec.defines, "POLYBENCH_TIME": None, "POLYBENCH_USE_SCALAR_LB": None}
    compiler = COMPILER.with_(include_dirs=tuple(dirs), defines=defines)
    base_binary = compile_text(spec.source, compiler, name="orig", extra_sources=extra)
    results: list[Sample] = []
    codes = [splice(spec.source, [(s.scop, region_code(spec.source, s.scop, generate_code(s)))]) for s in schedules]

    def build(code: str) -> Path | None:
        try:
            return compile_text(code, compiler, name="variant", extra_sources=extra)
        except BuildError:
            return None

    # Compile on every core (nothing is being timed yet), then run one program at a time.
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        binaries = list(pool.map(build, codes))
    built: list[tuple[Schedule, Path, str]] = []
    for s, binary in zip(schedules, binaries, strict=True):
        text = json.dumps(s.to_json())
        if binary is None:
            results.append(Sample(s.fingerprint(), text, "build_error"))
        else:
            built.append((s, binary, text))
    baseline: list[float] = []
    for s, binary, text in built:
        try:
            # Interleave baseline and variant runs so that machine drift affects both alike.
            times = []
            for _ in range(repeat):
                baseline.append(_run(base_binary, timeout, wait_policy))
                times.append(_run(binary, timeout, wait_policy))
        except subprocess.TimeoutExpired:
            results.append(Sample(s.fingerprint(), text, "timeout"))
            continue
        except RuntimeError:
            results.append(Sample(s.fingerprint(), text, "run_error"))
            continue
        base = _trimmed_median(baseline[-repeat:])
        median = _trimmed_median(times)
        results.append(Sample(s.fingerprint(), text, "ok", base / median if median > 0 else None, median, base,
                              times))
    return results


def _beam_favourites(start: Schedule, deps: Dependences, count: int) -> list[Schedule]:
    """The `count` best-scored distinct schedules a beam search with the shipped cost model visits.

    LOOPer drew its data from exploration: measuring what the model favours teaches the next model
    where it is wrong, which random samples rarely show. Deterministic for a given model, so a
    resumed run picks the same schedules (stored ones are skipped, not replaced)."""
    from costmodel.inference import load_evaluator

    evaluator = load_evaluator()
    if evaluator is None:
        raise RuntimeError("--beam needs the shipped cost model (costmodel/pretrained/model.pt)")
    # The fusion levels as wide as looper-opt's search keeps them, so these are the schedules it visits.
    result = beam_search(start, deps, evaluator, fusion_width=FUSION_WIDTH)
    ranked = sorted(result.explored[1:], key=lambda item: -item[1])  # [0] is the unchanged start
    return [schedule for schedule, _ in ranked[:count]]


def store(db_path: Path, spec: ProgramSpec, results: list[Sample], compiler: str, machine: str | None = None,
          requested: int | None = None) -> int:
    """Append samples measured on `machine` (default: this one), skipping stored ones; return how many were new.

    With `requested`, also mark the program finished for that many schedules per program."""
    db = open_db(db_path)
    machine = machine or machine_id()
    new = 0
    with db:
        db.execute("INSERT OR IGNORE INTO programs (key, suite, name, seed, source, defines, created) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (spec.key, spec.suite, spec.name, spec.seed, spec.source, json.dumps(spec.defines), time.time()))
        for r in results:
            cur = db.execute(
                "INSERT OR IGNORE INTO samples (program, fingerprint, schedule, status, speedup, median_s, "
                "baseline_s, times, machine, compiler, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (spec.key, r.fingerprint, r.schedule, r.status, r.speedup, r.median_s, r.baseline_s,
                 json.dumps(r.times), machine, compiler, time.time()))
            new += cur.rowcount
        if requested is not None:
            db.execute("INSERT INTO finished (program, requested, created) VALUES (?, ?, ?) ON CONFLICT(program) "
                       "DO UPDATE SET requested = max(requested, excluded.requested), created = excluded.created",
                       (spec.key, requested, time.time()))
    db.close()
    return new


def stored_progress(db_path: Path, key: str) -> tuple[set[str], int]:
    """The fingerprints stored for a program, and the most schedules per program it was finished for (0: never)."""
    db = open_db(db_path)
    rows = db.execute("SELECT fingerprint FROM samples WHERE program=?", (key,)).fetchall()
    finished = db.execute("SELECT requested FROM finished WHERE program=?", (key,)).fetchone()
    db.close()
    return {r[0] for r in rows}, finished[0] if finished else 0


def generated_programs(first_seed: int, count: int) -> Iterator[ProgramSpec]:
    """The random-program stream: seed -> program."""
    from costmodel.generator import generate

    for seed in range(first_seed, first_seed + count):
        program = generate(seed)
        yield ProgramSpec(program_key(program.source, {}), "generated", program.name, seed, program.source)


# PolyBench sizes at which one run takes about 1-100 ms on this kind of machine.
POLYBENCH_SIZES = {"floyd-warshall": "SMALL", "nussinov": "SMALL", "deriche": "MEDIUM", "adi": "SMALL",
                   "seidel-2d": "SMALL", "heat-3d": "SMALL", "lu": "SMALL", "ludcmp": "SMALL", "cholesky": "SMALL",
                   "3mm": "SMALL", "2mm": "SMALL", "gramschmidt": "SMALL", "symm": "SMALL", "syr2k": "SMALL",
                   "correlation": "SMALL", "covariance": "SMALL", "doitgen": "SMALL", "trmm": "SMALL"}


def polybench_programs(names: list[str] | None = None) -> Iterator[ProgramSpec]:
    """The 30 PolyBench kernels as self-contained programs (their header inlined) at a 1-100 ms size."""
    from polybench import KERNELS

    for index, (name, k) in enumerate(sorted(KERNELS.items())):
        if names and name not in names:
            continue
        header = k.source.with_suffix(".h")
        include = f'#include "{header.name}"'
        source = k.source.read_text().replace(include, header.read_text(), 1)
        defines = {f"{POLYBENCH_SIZES.get(name, 'MEDIUM')}_DATASET": None}
        yield ProgramSpec(program_key(source, defines), "polybench", name, index, source, defines)


class Backend(Protocol):
    """Where programs are measured: `slots` tasks at once, each `measure_program` on one program."""

    slots: int

    def submit(self, spec: ProgramSpec, count: int, skip: set[str], repeat: int, sampling: Sampling) -> Hashable:
        """Start measuring a program (`measure_program`'s arguments); return its task handle."""

    def wait(self, tasks: list[Hashable], timeout: float) -> set[Hashable]:
        """The tasks that finished (successfully or not) within `timeout` seconds."""

    def result(self, task: Hashable) -> tuple[list[Sample], str | None]:
        """A finished task's samples and the machine that measured them (None: this one); raises its error."""

    def cancel(self, task: Hashable) -> None:
        """Stop a failed or hung task and free its slot."""

    def close(self) -> None:
        """Stop whatever is still running."""


class ProcessBackend:
    """Worker processes on this machine: one single-worker pool per slot, so a failure kills only its own."""

    def __init__(self, jobs: int) -> None:
        self.pools = [ProcessPoolExecutor(max_workers=1) for _ in range(max(1, jobs))]
        self.slots = len(self.pools)
        self._slot: dict[Future, int] = {}  # running or failed task -> index of its pool

    def submit(self, spec: ProgramSpec, count: int, skip: set[str], repeat: int, sampling: Sampling) -> Future:
        """Start measuring a program in a free pool."""
        busy = set(self._slot.values())
        index = next(i for i in range(len(self.pools)) if i not in busy)
        future = self.pools[index].submit(measure_program, spec, count, skip, spec.seed, repeat,
                                          sampling=sampling)
        self._slot[future] = index
        return future

    def wait(self, tasks: list[Future], timeout: float) -> set[Future]:
        """The finished tasks."""
        return wait(tasks, timeout=timeout, return_when=FIRST_COMPLETED)[0]

    def result(self, task: Future) -> tuple[list[Sample], str | None]:
        """A finished task's samples, measured here."""
        samples = task.result()  # raises first: a failed task keeps its slot until cancel() replaces the pool
        del self._slot[task]
        return samples, None

    def cancel(self, task: Future) -> None:
        """Kill the task's worker and give its slot a fresh pool."""
        index = self._slot.pop(task)
        _kill_workers(self.pools[index])  # first: shutdown() forgets the pool's processes
        self.pools[index].shutdown(wait=False, cancel_futures=True)
        self.pools[index] = ProcessPoolExecutor(max_workers=1)

    def close(self) -> None:
        """Shut every pool down without waiting."""
        for pool in self.pools:
            pool.shutdown(wait=False, cancel_futures=True)


def run(db_path: Path, programs: Iterator[ProgramSpec], total: int, per_program: int, *,
        repeat: int = 5, program_timeout: float = 600.0, jobs: int = 1, log: Callable[[str], None] | None = None,
        progress: Callable[[int], None] | None = None, backend: str = "local",
        ray_address: str | None = None, sampling: Sampling = Sampling(), quiet: bool = False) -> dict[str, int]:
    """Measure `per_program` schedules of every program into `db_path`, resuming where it stopped.

    Each program is measured by a worker process of its own pool (`jobs` pools), or with
    `backend="ray"` by a Ray task (`jobs` at once, on the cluster at `ray_address`), so a crash, a
    hang (`program_timeout`) or a segfault loses only that program's batch, recorded as a failure.
    This process alone writes the database, as each program finishes."""
    counts = {"programs": 0, "new_samples": 0, "skipped_programs": 0, "failed_programs": 0}
    compiler = compiler_record()
    if backend == "ray":
        from costmodel.ray_backend import RayBackend

        workers: Backend = RayBackend(jobs, ray_address, quiet)
    else:
        workers = ProcessBackend(jobs)
    running: dict = {}  # task -> (spec, start time)

    def finish(task, spec: ProgramSpec, failed: BaseException | None) -> None:
        machine = None
        if failed is None:
            try:
                results, machine = workers.result(task)
            except Exception as exc:
                failed = exc
        if failed is not None:
            counts["failed_programs"] += 1
            if log:
                log(f"{spec.name} (seed {spec.seed}): {type(failed).__name__}: {str(failed)[:200]}")
            workers.cancel(task)
            results = [Sample(f"failed-{spec.key}", "{}", "worker_error")]
        counts["new_samples"] += store(db_path, spec, results, compiler, machine, requested=per_program)
        counts["programs"] += 1
        if progress:
            progress(1)

    def wait_one() -> None:
        # Poll at least as often as the timeout, so that a hung task is stopped about on time.
        done = workers.wait(list(running), min(5.0, program_timeout))
        now = time.monotonic()
        for task in list(running):
            spec, start = running[task]
            if task in done:
                del running[task]
                finish(task, spec, None)
            elif now - start > program_timeout:
                del running[task]
                finish(task, spec, FutureTimeout(f"no result after {program_timeout:g} s"))

    try:
        for spec in programs:
            done_fps, finished_for = stored_progress(db_path, spec.key)
            missing = per_program - len(done_fps)
            # A program measured before for as many schedules is done even if short: it has no more
            # legal schedules, or its worker failed (recorded as such); measuring it again finds nothing.
            if missing <= 0 or finished_for >= per_program:
                counts["skipped_programs"] += 1
                if progress:
                    progress(1)
                continue
            while len(running) >= workers.slots:
                wait_one()
            running[workers.submit(spec, missing, done_fps, repeat, sampling)] = (spec, time.monotonic())
        while running:
            wait_one()
    finally:
        workers.close()
    return counts


def _inspect(args) -> int:
    """`looper dataset split`, `merge` and `stats`."""
    from costmodel.dataset import merge_databases, split_database, statistics

    if args.action == "merge":  # an existing output file is a ValueError: `guard` reports it
        counts = merge_databases(args.data, args.out)
        print(f"{args.out}: " + "; ".join(f"{n} programs from {source}" for source, n in counts.items()))
        return 0
    if args.action == "split":  # an existing output file is a ValueError: `guard` reports it
        n_train, n_test = split_database(args.data, args.train, args.test, test_fraction=args.test_fraction,
                                         seed=args.seed)
        print(f"{args.train}: {n_train} programs; {args.test}: {n_test} programs")
        return 0
    stats = statistics(args.data)
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        print("\n".join(f"{k}: {v}" for k, v in stats.items()))
    return 0


def _remeasure(args) -> int:
    """`looper dataset remeasure`."""
    import sys

    from costmodel.remeasure import remeasure, remeasure_order
    from looper.progress import Progress

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


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """Stop a hung worker (a timed-out future keeps running otherwise)."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.kill()


def main(argv: list[str] | None, parser_cls: type) -> int:
    """Run `looper dataset`: bad input and internal errors as one line on stderr, never a traceback."""
    from costmodel.cli import guard

    return guard(_main, argv, parser_cls, "dataset")


def parser(parser_cls: type = argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `looper dataset` command line and its subcommands."""
    p: argparse.ArgumentParser = parser_cls(
        prog="looper dataset",
        description="Make and inspect the cost model's measured data sets (SQLite): generate random programs x "
                    "random legal schedules, built and timed; split by program; merge; remeasure; stats.")
    sub = p.add_subparsers(dest="action", required=True)
    g = sub.add_parser("generate", help="generate programs, draw legal schedules, build and time them (resumable)",
                       description="Generate random affine programs (or take PolyBench's kernels), draw random legal "
                                   "schedules of each, build and time them against the original, and append the "
                                   "samples to an SQLite data set. Resumable: run it again to continue.")
    g.add_argument("--out", type=Path, required=True, help="SQLite data set (created or extended)")
    g.add_argument("--suite", choices=("generated", "polybench"), default="generated",
                   help="generated programs or PolyBench's kernels (default: generated)")
    g.add_argument("--programs", type=at_least(1), default=100,
                   help="number of generated programs, one seed each (default: 100)")
    g.add_argument("--first-seed", type=at_least(0), default=0, help="seed of the first program (default: 0)")
    g.add_argument("--kernels", nargs="*", metavar="KERNEL",
                   help="PolyBench kernels, with --suite polybench (default: all 30)")
    g.add_argument("--schedules-per-program", type=at_least(1), default=30,
                   help="schedules measured per program (default: 30)")
    g.add_argument("--repeat", type=at_least(1), default=5,
                   help="timed runs per variant, interleaved with the original's (default: 5)")
    g.add_argument("--beam", type=at_least(0), default=0, metavar="K",
                   help="of each program's schedules, first the K the shipped cost model ranks highest in a beam "
                        "search (exploration data; default: 0, random samples only)")
    g.add_argument("--nest-steps", type=at_least(1), default=1, metavar="K",
                   help="random schedules may take up to K parallel, tile, unroll and vector steps each, one per "
                        "loop nest (the search's Space.nest_steps; default: 1, as data/generated.db)")
    g.add_argument("--outer-parallel", type=probability, default=0.0, metavar="P",
                   help="chance that a random schedule's parallel step takes the outermost legal loop (default: 0, "
                        "any of the outermost three alike, as data/generated.db and generated-nests.db)")
    g.add_argument("--jobs", type=at_least(1), default=1,
                   help="programs measured at once (default: 1, which keeps timings quiet; with --backend ray, "
                        "one per node)")
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
    mg.add_argument("data", type=Path, nargs="+", help="data sets to merge, in order")
    mg.add_argument("--out", type=Path, required=True, help="data set to create")
    rm = sub.add_parser("remeasure", help="measure a data set's schedules again into a new database (resumable)",
                        description="Time a data set's stored schedules again with the generator's own procedure, "
                                    "into a new database of the same schema. Resumable.")
    rm.add_argument("data", type=Path, help="data set whose schedules are measured again")
    rm.add_argument("--out", type=Path, required=True, help="SQLite data set for the new measurements")
    rm.add_argument("--programs", type=at_least(1), help="only this many programs, a seeded sample (default: all)")
    rm.add_argument("--seed", type=int, default=0, help="which programs are drawn, and in which order (default: 0)")
    rm.add_argument("--repeat", type=at_least(1), default=5,
                    help="timed runs per variant, interleaved with the original's (default: 5)")
    rm.add_argument("--quiet", action="store_true", help="no progress bar and no log lines")
    st = sub.add_parser("stats", help="counts of a data set (programs, samples, noise, throughput)",
                        description="Print a data set's counts: programs, samples by status, samples with steady "
                                    "runs, and the hours spent measuring.")
    st.add_argument("data", type=Path, help="data set to describe")
    st.add_argument("--json", action="store_true", help="print the counts as JSON")
    return p


def _main(argv: list[str] | None, parser_cls: type) -> int:
    """Run one `looper dataset` subcommand."""
    import sys

    from looper.progress import Progress

    p = parser(parser_cls)
    args = p.parse_args(argv)
    for data in args.data if args.action == "merge" else [getattr(args, "data", None)]:
        if data is not None and not data.is_file():
            print(f"{data}: error: no such data set", file=sys.stderr)
            return 2
    if args.action in ("split", "stats", "merge"):
        return _inspect(args)
    if args.action == "remeasure":
        return _remeasure(args)
    if args.ray_address and args.backend != "ray":
        p.error("--ray-address needs --backend ray")
    if args.backend == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            p.error("--backend ray needs the 'ray' extra: pip install 'looper[ray]'")
    if args.backend == "local" and not args.quiet and (warning := busy_warning()):
        print(f"looper dataset: warning: {warning}", file=sys.stderr)
    if args.suite == "polybench":
        specs = list(polybench_programs(args.kernels))
    else:
        specs = list(generated_programs(args.first_seed, args.programs))
    log = (lambda msg: None) if args.quiet else (lambda msg: print(f"[looper] {msg}", file=sys.stderr))
    started = time.time()
    with Progress(len(specs), "measuring", enabled=None if not args.quiet else False) as bar:
        counts = run(args.out, iter(specs), len(specs), args.schedules_per_program, repeat=args.repeat,
                     log=log, progress=bar.advance, jobs=args.jobs, backend=args.backend,
                     ray_address=args.ray_address, quiet=args.quiet,
                     sampling=Sampling(args.beam, args.nest_steps, args.outer_parallel))
    hours = (time.time() - started) / 3600
    counts["samples_per_hour"] = int(counts["new_samples"] / hours) if hours > 0 else 0
    print(json.dumps(counts))
    return 0
