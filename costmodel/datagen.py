"""Training data: random programs x random legal schedules, built with a real compiler and timed.

`looper dataset generate` appends to an SQLite store (schema in costmodel.dataset) and is safe
to kill at any moment: every sample is committed on its own, a program's schedules are drawn
from a seeded stream, and a restart skips what is already stored (UNIQUE(program, fingerprint)).
Each program is measured in a separate worker process, so a crash or hang in looper, the
compiler or the program is recorded as a failure and never stops the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from codegen.ast_c import generate as generate_code
from codegen.build import BuildError, Compiler, compile_text
from codegen.splice import region_code, splice
from costmodel.dataset import connect
from looper.deps import compute_dependences
from looper.measure import machine_id
from looper.schedule import Schedule
from looper.search.sampler import samples
from looper.verify import harness_sources

COMPILER = Compiler(flags=("-O3", "-march=native"))


@dataclass(frozen=True)
class ProgramSpec:
    """A program to measure: its source and the definitions it is built with."""

    key: str
    suite: str
    name: str
    seed: int
    source: str
    defines: dict[str, str | None] = field(default_factory=dict)


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


def program_key(source: str, defines: dict[str, str | None]) -> str:
    """Identity of a program: its text and definitions."""
    return hashlib.sha256((source + json.dumps(defines, sort_keys=True)).encode()).hexdigest()[:20]


def _trimmed_median(times: list[float]) -> float:
    """Median after dropping runs slower than 1.5x the fastest-half median (outlier rejection)."""
    ordered = sorted(times)
    reference = statistics.median(ordered[: max(1, len(ordered) // 2)])
    kept = [t for t in ordered if t <= 1.5 * reference] or ordered
    return statistics.median(kept)


def _run(binary: Path, timeout: float) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    proc = subprocess.run([str(binary)], capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"exit status {proc.returncode}")
    return float(proc.stdout.split()[-1])


def measure_program(spec: ProgramSpec, count: int, skip: set[str], seed: int, repeat: int = 5,
                    timeout: float = 10.0) -> list[Sample]:
    """Sample up to `count` new legal schedules of a program and measure each (worker side)."""
    from frontend import read_scop

    scop = read_scop(spec.source, defines=spec.defines)
    deps = compute_dependences(scop)
    schedules = [s for s in samples(Schedule(scop), deps, count + len(skip), seed=seed)
                 if s.fingerprint() not in skip][:count]
    extra, dirs = harness_sources(spec.source, [])
    compiler = COMPILER.with_(include_dirs=tuple(dirs), defines={**spec.defines, "POLYBENCH_TIME": None})
    base_binary = compile_text(spec.source, compiler, name="orig", extra_sources=extra)
    results: list[Sample] = []
    built: list[tuple[Schedule, Path | None, str]] = []
    for s in schedules:
        text = json.dumps(s.to_json())
        try:
            code = splice(spec.source, [(scop, region_code(spec.source, scop, generate_code(s)))])
            built.append((s, compile_text(code, compiler, name="variant", extra_sources=extra), text))
        except BuildError:
            results.append(Sample(s.fingerprint(), text, "build_error"))
    baseline: list[float] = []
    for s, binary, text in built:
        try:
            # Interleave baseline and variant runs so that machine drift affects both alike.
            times = []
            for _ in range(repeat):
                baseline.append(_run(base_binary, timeout))
                times.append(_run(binary, timeout))
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


def store(db_path: Path, spec: ProgramSpec, results: list[Sample], compiler: str) -> int:
    """Append samples (ignoring ones already stored); return how many were new."""
    db = connect(db_path)
    machine = machine_id()
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
    db.close()
    return new


def stored_fingerprints(db_path: Path, key: str) -> set[str]:
    db = connect(db_path)
    rows = db.execute("SELECT fingerprint FROM samples WHERE program=?", (key,)).fetchall()
    db.close()
    return {r[0] for r in rows}


def generated_programs(first_seed: int, count: int) -> Iterator[ProgramSpec]:
    """The random-program stream: seed -> program."""
    from costmodel.generator import generate

    for seed in range(first_seed, first_seed + count):
        program = generate(seed)
        yield ProgramSpec(program_key(program.source, {}), "generated", program.name, seed, program.source)


def run(db_path: Path, programs: Iterator[ProgramSpec], total: int, per_program: int, *,
        repeat: int = 5, program_timeout: float = 300.0, log: Callable[[str], None] | None = None,
        progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Measure `per_program` schedules of every program into `db_path`, resuming where it stopped."""
    counts = {"programs": 0, "new_samples": 0, "skipped_programs": 0, "failed_programs": 0}
    compiler = f"{COMPILER.cc} {' '.join(COMPILER.arguments())}"
    pool = ProcessPoolExecutor(max_workers=1)
    try:
        for spec in programs:
            done = stored_fingerprints(db_path, spec.key)
            missing = per_program - len(done)
            if missing <= 0:
                counts["skipped_programs"] += 1
                if progress:
                    progress(1)
                continue
            future = pool.submit(measure_program, spec, missing, done, spec.seed, repeat)
            try:
                results = future.result(timeout=program_timeout)
            except (FutureTimeout, BrokenProcessPool, Exception) as exc:  # the worker's failure is data
                counts["failed_programs"] += 1
                if log:
                    log(f"{spec.name} (seed {spec.seed}): {type(exc).__name__}: {str(exc)[:200]}")
                pool.shutdown(wait=False, cancel_futures=True)
                _kill_workers(pool)
                pool = ProcessPoolExecutor(max_workers=1)
                results = [Sample(f"failed-{spec.key}", "{}", "worker_error")]
            counts["new_samples"] += store(db_path, spec, results, compiler)
            counts["programs"] += 1
            if progress:
                progress(1)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return counts


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """Stop a hung worker (a timed-out future keeps running otherwise)."""
    for proc in list(getattr(pool, "_processes", {}).values()):
        proc.kill()
