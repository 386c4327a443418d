"""Benchmark results in SQLite, one row per (commit, machine, size, kernel, config), written as they finish."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# A row's status: timed, failed verification, could not be built or run, or the in-process BLAS reference.
OK, FAILED, ERROR, REFERENCE = "ok", "failed", "error", "reference"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    commit_id TEXT NOT NULL,
    machine TEXT NOT NULL,
    size TEXT NOT NULL,
    kernel TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    times TEXT NOT NULL,            -- JSON list of seconds, one per repetition
    baseline_times TEXT NOT NULL,   -- the baseline's seconds in the same interleaved run
    message TEXT NOT NULL,
    command TEXT NOT NULL,
    run_id TEXT NOT NULL,
    created REAL NOT NULL,
    load REAL,                      -- other runnable tasks on the machine while timing (mean)
    PRIMARY KEY (commit_id, machine, size, kernel, config)
)
"""
_COLUMNS = ("commit_id, machine, size, kernel, config, status, times, baseline_times, message, command, run_id, "
            "created, load")


@dataclass(frozen=True)
class Key:
    """Which results belong together: the code measured, where, and at which dataset size."""

    commit: str
    machine: str
    size: str


@dataclass
class Row:
    """One configuration's outcome on one kernel."""

    kernel: str
    config: str
    status: str
    times: tuple[float, ...] = ()
    baseline_times: tuple[float, ...] = ()
    message: str = ""
    command: str = ""
    run_id: str = ""
    created: float = field(default_factory=time.time)
    load: float | None = None


class Store:
    """The results database; every write is its own committed transaction, so a killed run loses
    at most the kernel it was measuring."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(_SCHEMA)
        if "load" not in [c[1] for c in self.db.execute("PRAGMA table_info(results)")]:  # older databases
            self.db.execute("ALTER TABLE results ADD COLUMN load REAL")
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def statuses(self, key: Key, kernel: str) -> dict[str, str]:
        """config -> status of the rows stored for one kernel."""
        cur = self.db.execute(
            "SELECT config, status FROM results WHERE commit_id=? AND machine=? AND size=? AND kernel=?",
            (key.commit, key.machine, key.size, kernel),
        )
        return dict(cur.fetchall())

    def loads(self, key: Key, kernel: str) -> dict[str, float]:
        """config -> the machine's load while it was timed, for the timed rows of one kernel."""
        cur = self.db.execute(
            "SELECT config, load FROM results WHERE commit_id=? AND machine=? AND size=? AND kernel=? "
            "AND load IS NOT NULL", (key.commit, key.machine, key.size, kernel),
        )
        return dict(cur.fetchall())

    def save(self, key: Key, rows: Iterable[Row]) -> None:
        """Store rows in one transaction (replacing rows of the same configuration)."""
        with self.db:
            self.db.executemany(
                f"INSERT OR REPLACE INTO results ({_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                [(key.commit, key.machine, key.size, r.kernel, r.config, r.status, json.dumps(list(r.times)),
                  json.dumps(list(r.baseline_times)), r.message, r.command, r.run_id, r.created, r.load)
                 for r in rows],
            )

    def rows(self, key: Key) -> list[Row]:
        """Every row stored under a key, in insertion order."""
        cur = self.db.execute(
            "SELECT kernel, config, status, times, baseline_times, message, command, run_id, created, load "
            "FROM results "
            "WHERE commit_id=? AND machine=? AND size=? ORDER BY rowid",
            (key.commit, key.machine, key.size),
        )
        return [Row(k, c, s, tuple(json.loads(t)), tuple(json.loads(b)), m, cmd, run, created, load)
                for k, c, s, t, b, m, cmd, run, created, load in cur.fetchall()]

    def sizes(self, commit: str, machine: str) -> list[str]:
        """The dataset sizes with results for a commit on a machine."""
        cur = self.db.execute("SELECT DISTINCT size FROM results WHERE commit_id=? AND machine=?", (commit, machine))
        return [s for (s,) in cur.fetchall()]

    def count(self) -> int:
        """How many rows the database holds."""
        return self.db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
