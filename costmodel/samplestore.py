"""Writing measured samples into a data set, and what a resumed run can skip (schema: costmodel.dataset)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from codegen.harness import machine_id
from costmodel.dataset import open_db
from costmodel.labels import Sample
from costmodel.programs import ProgramSpec


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
                "baseline_s, times, machine, compiler, created, harness, statistic, runs, spread, origin) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (spec.key, r.fingerprint, r.schedule, r.status, r.speedup, r.median_s, r.baseline_s,
                 json.dumps(r.times), machine, compiler, time.time(), r.harness, r.statistic, r.runs, r.spread,
                 r.origin or None))
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
