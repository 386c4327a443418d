"""The measuring evaluator: build each candidate with a real compiler and time it.

Builds run in parallel, runs one at a time (so they do not disturb each other), each candidate
is timed `repeat` times and its median taken; results are cached in SQLite keyed by program,
schedule, machine and compiler, so a repeated search does not measure again.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from codegen.build import BuildError, Compiler, cache_dir, compile_text, timing_env
from looper.schedule import Schedule
from looper.verify import harness_sources

FAILED = 0.0  # the score of a candidate that does not build or run


def cpu_model() -> str:
    """The CPU's model name as the kernel reports it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_id() -> str:
    """CPU model and core count: measurements are only comparable on the same kind of machine."""
    return f"{cpu_model()} x{os.cpu_count()}"


class MeasureCache:
    """SQLite store of measured times: (program, schedule, machine, compiler) -> seconds."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_dir().parent / "measurements.db"
        self.db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS times (program TEXT, schedule TEXT, machine TEXT, compiler TEXT,"
            " median REAL, times TEXT, created REAL, PRIMARY KEY (program, schedule, machine, compiler))"
        )
        self.db.commit()

    def get(self, key: tuple[str, str, str, str]) -> float | None:
        row = self.db.execute(
            "SELECT median FROM times WHERE program=? AND schedule=? AND machine=? AND compiler=?", key
        ).fetchone()
        return row[0] if row else None

    def put(self, key: tuple[str, str, str, str], times: list[float]) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO times VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*key, statistics.median(times), json.dumps(times), time.time()),
            )


@dataclass(frozen=True)
class Program:
    """A whole C program and how to build it: what a candidate schedule's code is spliced into."""

    source: str
    directory: Path
    render: Callable[[Schedule], str]  # the program text with a schedule's region code in place
    compiler: Compiler = Compiler()

    @property
    def key(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()[:20]


def time_program(binary: Path, *, polybench: bool, timeout: float, threads: int = 2) -> float:
    """Seconds of one run: the harness's own kernel time if it prints one, else wall-clock."""
    env = {**os.environ, **timing_env(threads)}
    start = time.perf_counter()
    proc = subprocess.run([str(binary)], capture_output=True, text=True, timeout=timeout, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"exit status {proc.returncode}: {proc.stderr.strip()[-300:]}")
    if polybench:
        numbers = re.findall(r"^\s*([0-9.]+(?:e-?\d+)?)\s*$", proc.stdout, re.M)
        if numbers:
            return float(numbers[-1])
    return wall


class MeasureEvaluator:
    """Scores schedules by measured speedup over the original program (same evaluator, same run)."""

    def __init__(self, program: Program, *, repeat: int = 5, jobs: int = 2, timeout: float = 60.0,
                 cache: MeasureCache | None = None, progress: Callable[[int], None] | None = None) -> None:
        self.program = program
        self.repeat = repeat
        self.jobs = max(1, jobs)
        self.timeout = timeout
        self.cache = cache
        self.progress = progress
        extra, dirs = harness_sources(program.source, [program.directory, *program.compiler.include_dirs])
        defines = dict(program.compiler.defines)
        self.polybench = bool(extra or dirs)
        if self.polybench:
            defines["POLYBENCH_TIME"] = None
        self.extra = extra
        self.compiler = program.compiler.with_(
            include_dirs=(program.directory, *program.compiler.include_dirs, *dirs), defines=defines
        )
        # The run environment is part of the key: times taken under another OpenMP wait policy or
        # thread count are not comparable (spinning threads made 2-thread runs vary up to 3x).
        run_env = " ".join(f"{k}={v}" for k, v in sorted(timing_env().items()))
        self.compiler_key = f"{self.compiler.cc} {' '.join(self.compiler.arguments())} | {run_env}"
        self.machine = machine_id()
        self._baseline: float | None = None
        self.last_times: dict[str, float] = {}  # fingerprint -> median seconds

    def baseline(self) -> float:
        """Median seconds of the original program."""
        if self._baseline is None:
            binary = compile_text(self.program.source, self.compiler, name="original", extra_sources=self.extra)
            self._baseline = self._time(binary)
        return self._baseline

    def _time(self, binary: Path) -> float:
        return statistics.median(
            time_program(binary, polybench=self.polybench, timeout=self.timeout) for _ in range(self.repeat)
        )

    def seconds(self, schedules: Sequence[Schedule]) -> list[float | None]:
        """Median seconds of each schedule's program (None if it failed to build or run)."""
        keys = [(self.program.key, s.fingerprint(), self.machine, self.compiler_key) for s in schedules]
        results: list[float | None] = [self.cache.get(k) if self.cache else None for k in keys]
        todo = [i for i, r in enumerate(results) if r is None]

        def build(i: int) -> Path | None:
            try:
                text = self.program.render(schedules[i])
                return compile_text(text, self.compiler, name="candidate", extra_sources=self.extra)
            except (BuildError, ValueError):
                return None

        with ThreadPoolExecutor(self.jobs) as pool:
            binaries = list(pool.map(build, todo))
        for i, binary in zip(todo, binaries, strict=True):
            if binary is not None:
                try:
                    times = [time_program(binary, polybench=self.polybench, timeout=self.timeout)
                             for _ in range(self.repeat)]
                    results[i] = statistics.median(times)
                    if self.cache:
                        self.cache.put(keys[i], times)
                except (RuntimeError, subprocess.TimeoutExpired):
                    results[i] = None
            if self.progress:
                self.progress(1)
        for s, r in zip(schedules, results, strict=True):
            if r is not None:
                self.last_times[s.fingerprint()] = r
        return results

    def score(self, schedules: Sequence[Schedule]) -> list[float]:
        base = self.baseline()
        return [FAILED if t is None or t <= 0 else base / t for t in self.seconds(schedules)]
