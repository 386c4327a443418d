"""The measuring evaluator: time candidate schedules with the measurement harness (codegen.harness).

Each `score` call is one batch: the candidates' programs are built with the original into one
library and timed in one session under the harness's policy (the original in every round); a
candidate's speedup is the original's time in that batch over its own. Speedups are cached in
SQLite keyed by program, schedule, machine, compiler and harness, so a repeated search does not
measure again and, scoring alike, makes the same decisions.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from codegen.build import Compiler, cache_dir, timing_env
from codegen.harness import BUILD_ERROR, HARNESS_VERSION, Batch, Harness, Policy, Timed, build, machine_id
from looper.schedule import Schedule

FAILED = 0.0  # the score of a candidate that does not build or run


class MeasureCache:
    """SQLite store of measured speedups: (program, schedule, machine, compiler) -> the candidate's
    seconds (column `median`), its runs and the original's seconds in the same batch (`times`, JSON)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_dir().parent / "measurements.db"
        self.db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS times (program TEXT, schedule TEXT, machine TEXT, compiler TEXT,"
            " median REAL, times TEXT, created REAL, PRIMARY KEY (program, schedule, machine, compiler))"
        )
        self.db.commit()

    def get(self, key: tuple[str, str, str, str]) -> float | None:
        """The speedup stored for a key, as it was measured (against the original of its own batch)."""
        row = self.db.execute(
            "SELECT median, times FROM times WHERE program=? AND schedule=? AND machine=? AND compiler=?", key
        ).fetchone()
        if row is None:
            return None
        baseline = json.loads(row[1]).get("baseline") if row[1].startswith("{") else None
        return baseline / row[0] if baseline and row[0] else None

    def put(self, key: tuple[str, str, str, str], timed: Timed, baseline: float) -> None:
        """Store a candidate's statistic and runs, with the original's statistic in the same batch."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO times VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (*key, timed.seconds, json.dumps({"runs": timed.times, "baseline": baseline}),
                             time.time()))


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


class MeasureEvaluator:
    """Scores schedules by measured speedup over the original program (same batch, same session)."""

    def __init__(self, program: Program, *, repeat: int = 5, jobs: int = 2, timeout: float = 60.0,
                 cache: MeasureCache | None = None, progress: Callable[[int], None] | None = None) -> None:
        self.program = program
        self.policy = Policy.from_repeat(repeat)
        self.jobs = max(1, jobs)  # compilers at once when a batch must be split to find what does not build
        self.timeout = timeout
        self.cache = cache
        self.progress = progress
        # The run environment and the harness are part of the key: times taken under another OpenMP
        # wait policy, thread count or harness are not comparable.
        run_env = " ".join(f"{k}={v}" for k, v in sorted(timing_env().items()))
        flags = " ".join(program.compiler.arguments())
        self.compiler_key = f"{program.compiler.cc} {flags} | {run_env} | {HARNESS_VERSION} {self.policy.statistic}"
        self.machine = machine_id()

    def _batch(self, schedules: Sequence[Schedule]) -> tuple[Timed, list[Timed]]:
        """Build the schedules' programs with the original into one library and time them."""
        texts = []
        for s in schedules:
            try:
                texts.append(self.program.render(s))
            except ValueError:  # no code for this schedule: a candidate that does not build
                texts.append("")
        batch = Batch(self.program.source, tuple(texts), self.program.compiler, self.program.directory)
        progress = self.progress
        done = (lambda i: progress(1)) if progress else None
        with Harness(self.policy, timeout=self.timeout) as harness:
            base, *timed = harness.time(build(batch, jobs=self.jobs), done=done)
        return base, timed

    def score(self, schedules: Sequence[Schedule]) -> list[float]:
        """Measured speedups over the original (FAILED for a candidate that does not build or run)."""
        keys = [(self.program.key, s.fingerprint(), self.machine, self.compiler_key) for s in schedules]
        results: list[float | None] = [self.cache.get(k) if self.cache else None for k in keys]
        todo = [i for i, r in enumerate(results) if r is None]
        if self.progress:
            self.progress(len(schedules) - len(todo))
        if todo:
            base, timed = self._batch([schedules[i] for i in todo])
            for i, t in zip(todo, timed, strict=True):
                if t.seconds and base.seconds:
                    results[i] = base.seconds / t.seconds
                    if self.cache:
                        self.cache.put(keys[i], t, base.seconds)
                if self.progress and t.status == BUILD_ERROR:  # never timed: `done` did not count it
                    self.progress(1)
        return [FAILED if r is None else r for r in results]
