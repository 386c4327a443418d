"""The measured data set: an SQLite database of programs and timed schedules, read into features.

Schema (shared with the data generator; created here when absent):

- `programs(key, suite, name, seed, source, defines, created)`: one C program with its
  `#pragma scop` region; `defines` is a JSON object of macro definitions used to build it.
- `samples(id, program, fingerprint, schedule, status, speedup, median_s, baseline_s, times, machine,
  compiler, created)`: one schedule (`Schedule.to_json()`) of a program with its measurement;
  `speedup` = the original's time / the candidate's, each the sample's `statistic` of its runs
  (`median_s` holds the candidate's, under its first name), measured on the same worker; `harness,
  statistic, runs, spread` say how (codegen.harness's version and statistic, timed runs, interquartile
  spread); `origin` how the schedule was chosen (costmodel.sampling; empty in older data sets).
- `finished(program, requested, created)`: the generator finished the program when asked for
  `requested` schedules of it. A program with fewer legal schedules than that, or one whose worker
  failed, is done all the same: a resumed run skips it instead of measuring it again.

Only samples with status 'ok', a positive speedup and a steady measurement (the harness's spread of
the timed runs, `codegen.harness.spread`, at most `MAX_SPREAD`) are used: a busy machine makes runs,
and parallel ones most, vary wildly, and such labels teach noise. A sample of fewer than four runs
has no quartiles and counts as steady, as in every harness decision: the policy stops a clearly slow
schedule after two runs, and at LARGE (`--repeat 2`) most schedules get two to four. Splits are by
program: the schedules of one program never fall in two splits.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import pickle
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from codegen.harness import spread
from costmodel.features import FEATURE_VERSION, Featurizer, Sample
from looper.ir import Scop
from looper.progress import Progress
from looper.schedule import Schedule

SCHEMA = """
CREATE TABLE IF NOT EXISTS programs (
    key TEXT PRIMARY KEY,
    suite TEXT,
    name TEXT,
    seed INTEGER,
    source TEXT,
    defines TEXT,
    created REAL
);
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY,
    program TEXT REFERENCES programs(key),
    fingerprint TEXT,
    schedule TEXT,
    status TEXT,
    speedup REAL,
    median_s REAL,
    baseline_s REAL,
    times TEXT,
    machine TEXT,
    compiler TEXT,
    created REAL,
    UNIQUE(program, fingerprint)
);
CREATE INDEX IF NOT EXISTS samples_program ON samples(program);
CREATE TABLE IF NOT EXISTS finished (
    program TEXT PRIMARY KEY REFERENCES programs(key),
    requested INTEGER,
    created REAL
);
"""
# Columns added after the first schema, added to an older data set when it is opened for writing: its
# rows then read as the harness before codegen.harness ("process-1"), how they were timed unknown.
ADDED_COLUMNS = {"harness": "TEXT DEFAULT 'process-1'", "statistic": "TEXT", "runs": "INTEGER", "spread": "REAL",
                 "origin": "TEXT"}
STATUSES = ("ok", "build_error", "run_error", "timeout", "wrong_output")
MAX_SPREAD = 0.2  # see the module docstring
# A longer gap between two stored samples means the job was stopped, not measuring: the slowest
# program seen took about 5 minutes, and a program's samples are stored together.
PAUSE_S = 30 * 60

ScopLoader = Callable[[str, dict], Scop]  # (source text, defines) -> Scop


def open_db(path: str | Path, *, create: bool = True) -> sqlite3.Connection:
    """Open (and, if `create`, initialize) a data set database."""
    path = Path(path)
    if not create and not path.exists():
        raise FileNotFoundError(f"{path}: no such data set")
    conn = sqlite3.connect(str(path), timeout=60)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ValueError(f"{path}: not a data set ({exc})") from None
    if create:
        conn.executescript(SCHEMA)
        have = sample_columns(conn)
        for name, declaration in ADDED_COLUMNS.items():
            if name not in have:
                conn.execute(f"ALTER TABLE samples ADD COLUMN {name} {declaration}")
        conn.commit()
    return conn


def sample_columns(conn: sqlite3.Connection) -> set[str]:
    """The columns of a data set's `samples` table (an older data set lacks some of ADDED_COLUMNS)."""
    return {r[1] for r in conn.execute("PRAGMA main.table_info(samples)")}


@dataclass(frozen=True)
class ProgramRow:
    """One row of `programs`."""

    key: str
    suite: str | None
    name: str | None
    seed: int | None
    source: str
    defines: dict


@dataclass(frozen=True)
class SampleRow:
    """One measured schedule (a row of `samples` with status 'ok')."""

    id: int
    program: str
    fingerprint: str
    schedule: dict
    speedup: float
    origin: str = ""  # how the schedule was chosen (costmodel.sampling); "" in older data sets

    @property
    def parallel(self) -> bool:
        """Whether the schedule runs a loop in parallel (its OpenMP timing is the noisy kind)."""
        return any(step["kind"] == "parallelize" for step in self.schedule.get("steps", []))


def program_keys(conn: sqlite3.Connection) -> list[str]:
    """The key of every program of a data set."""
    return [r[0] for r in conn.execute("SELECT key FROM programs")]


def programs(conn: sqlite3.Connection) -> dict[str, ProgramRow]:
    """Every program, by key."""
    out = {}
    for r in conn.execute("SELECT key, suite, name, seed, source, defines FROM programs"):
        out[r["key"]] = ProgramRow(r["key"], r["suite"], r["name"], r["seed"], r["source"] or "",
                                   json.loads(r["defines"] or "{}"))
    return out


def ok_samples(conn: sqlite3.Connection, max_spread: float | None = MAX_SPREAD) -> dict[str, list[SampleRow]]:
    """The usable samples (status 'ok', positive speedup, steady runs), grouped by program key, in id order."""
    grouped: dict[str, list[SampleRow]] = {}
    origin = "origin" if "origin" in sample_columns(conn) else "''"
    query = (f"SELECT id, program, fingerprint, schedule, speedup, times, {origin} AS origin FROM samples "
             "WHERE status = 'ok' AND speedup > 0 ORDER BY program, id")
    for r in conn.execute(query):
        if max_spread is not None and spread(json.loads(r["times"] or "[]")) > max_spread:
            continue
        grouped.setdefault(r["program"], []).append(SampleRow(
            r["id"], r["program"], r["fingerprint"], json.loads(r["schedule"]), float(r["speedup"]), r["origin"] or ""))
    return grouped


def add_program(conn: sqlite3.Connection, key: str, source: str, *, suite: str = "", name: str = "",
                seed: int | None = None, defines: dict | None = None, created: float = 0.0) -> None:
    """Insert a program (ignored if the key exists)."""
    conn.execute("INSERT OR IGNORE INTO programs VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (key, suite, name, seed, source, json.dumps(defines or {}), created))


def add_sample(conn: sqlite3.Connection, program: str, schedule: Schedule, status: str, speedup: float | None, *,
               median_s: float | None = None, baseline_s: float | None = None, times: Iterable[float] = (),
               machine: str = "", compiler: str = "", created: float = 0.0) -> None:
    """Insert (or replace) one measured schedule."""
    if status not in STATUSES:
        raise ValueError(f"status {status!r} not in {STATUSES}")
    conn.execute(
        "INSERT OR REPLACE INTO samples (program, fingerprint, schedule, status, speedup, median_s, baseline_s, "
        "times, machine, compiler, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (program, schedule.fingerprint(), json.dumps(schedule.to_json()), status, speedup, median_s, baseline_s,
         json.dumps(list(times)), machine, compiler, created))


def split_programs(keys: Iterable[str], val_fraction: float = 0.15, test_fraction: float = 0.0,
                   seed: int = 0, salt: str = "") -> tuple[list[str], list[str], list[str]]:
    """Split program keys into (train, validation, test) by a seeded hash: stable as the data grows,
    and never one program in two splits. Splits made one after the other (held-out set, then
    validation set) need different salts: with the same hash the second would find nothing."""
    train, val, test = [], [], []
    for key in sorted(set(keys)):
        u = int.from_bytes(hashlib.sha256(f"{salt}{seed}:{key}".encode()).digest()[:8], "big") / 2**64
        if u < test_fraction:
            test.append(key)
        elif u < test_fraction + val_fraction:
            val.append(key)
        else:
            train.append(key)
    if not train and (val or test):  # tiny data sets: keep something to train on
        train.append((val or test).pop())
    return train, val, test


def frontend_loader(source: str, defines: dict) -> Scop:
    """Read the (first) SCoP of a program's source with the frontend.

    PolyBench-style programs bound their loops by `_PB_N`, which polybench.h makes the run-time
    argument `n` unless POLYBENCH_USE_SCALAR_LB is defined; with it (and polybench/utilities on the
    include path) the frontend knows each parameter's value, which the features need."""
    from frontend import read_scop  # imported late: the cost model's core does not need the frontend

    try:
        from polybench.manifest import UTILITIES

        include_dirs = [UTILITIES]
    except ImportError:
        include_dirs = []
    return read_scop(source, include_dirs=include_dirs, defines={"POLYBENCH_USE_SCALAR_LB": None, **defines})


@dataclass
class Example:
    """One featurized training example."""

    id: int
    program: str
    speedup: float
    sample: Sample


@dataclass
class Dataset:
    """Featurized examples grouped by program, and what could not be read."""

    examples: list[Example]
    skipped_programs: dict[str, str] = field(default_factory=dict)  # key -> reason
    skipped_samples: int = 0

    def by_program(self) -> dict[str, list[Example]]:
        out: dict[str, list[Example]] = {}
        for e in self.examples:
            out.setdefault(e.program, []).append(e)
        return out

    def subset(self, keys: Iterable[str]) -> Dataset:
        wanted = set(keys)
        return Dataset([e for e in self.examples if e.program in wanted])


def _cache_path(db: Path) -> Path:
    return db.with_name(f"{db.name}.features-v{FEATURE_VERSION}.pkl")


def load_dataset(db: str | Path, *, loader: ScopLoader = frontend_loader, cache: bool = True,
                 progress: bool | None = None, max_spread: float | None = MAX_SPREAD) -> Dataset:
    """Read and featurize every usable sample of a database. Featurized samples are cached next to
    the database (`<db>.features-v<N>.pkl`), so only samples added since the last call cost work."""
    db = Path(db)
    conn = open_db(db, create=False)
    try:
        progs = programs(conn)
        grouped = ok_samples(conn, max_spread)
    finally:
        conn.close()
    cached: dict[int, Example] = {}
    cache_file = _cache_path(db)
    if cache and cache_file.exists():
        try:
            with cache_file.open("rb") as stored:
                cached = pickle.load(stored)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ModuleNotFoundError):
            # A cache of another code version (a class moved or gone): featurize again.
            cached = {}
    examples: list[Example] = []
    skipped: dict[str, str] = {}
    bad = 0

    def usable(r: SampleRow) -> bool:
        # Samples cached before they were linked to their origin (Sample.origin) are featurized again;
        # so is an id whose program or label changed (the database was replaced by another one).
        e = cached.get(r.id)
        return (e is not None and e.program == r.program and e.speedup == r.speedup
                and (e.sample.origin is not None or not r.schedule.get("steps")))

    todo = sum(len(rows) for rows in grouped.values() if not all(usable(r) for r in rows))
    featurizer = Featurizer()
    fresh = 0
    with Progress(todo, f"featurizing {db.name}", enabled=progress) as bar:
        for key, rows in grouped.items():
            if all(usable(r) for r in rows):
                examples += [cached[r.id] for r in rows]
                continue
            program = progs.get(key)
            scop = None
            try:
                if program is None:
                    raise ValueError("no such program")
                scop = loader(program.source, program.defines)
            except Exception as exc:  # a program the frontend cannot read: skip it, say why
                skipped[key] = f"{type(exc).__name__}: {exc}"
            for r in rows:
                if usable(r):
                    examples.append(cached[r.id])
                    continue
                bar.advance()
                if scop is None:
                    bad += 1
                    continue
                try:
                    schedule = Schedule.from_json(scop, r.schedule)
                    example = Example(r.id, key, r.speedup, featurizer.schedule(schedule))
                except Exception:  # a schedule this version cannot rebuild
                    bad += 1
                    continue
                cached[r.id] = example
                examples.append(example)
                fresh += 1
    if cache and fresh:
        tmp = cache_file.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(cached, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(cache_file)
    if skipped and progress is not False:
        print(f"[looper] {len(skipped)} program(s) skipped (unreadable), e.g. "
              f"{next(iter(skipped))}: {next(iter(skipped.values()))}", file=sys.stderr)
    return Dataset(examples, skipped, bad)


def iter_program_batches(dataset: Dataset, batch_size: int, *, per_program: int = 32,
                         rng=None) -> Iterator[list[Example]]:
    """Batches of about `batch_size` examples made of chunks of up to `per_program` schedules of one
    program (so a ranking loss has pairs, and features of one program sit together)."""
    import random

    rng = rng or random.Random(0)
    chunks: list[list[Example]] = []
    for rows in dataset.by_program().values():
        rows = rows[:]
        rng.shuffle(rows)
        chunks += [rows[i : i + per_program] for i in range(0, len(rows), per_program)]
    rng.shuffle(chunks)
    batch: list[Example] = []
    for chunk in chunks:
        batch += chunk
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert_programs(conn: sqlite3.Connection, dst: Path, wanted: Iterable[str], *, keep_ids: bool) -> None:
    """Insert the programs `wanted` of the data set open in `conn`, and their samples, into `dst`."""
    conn.execute("ATTACH DATABASE ? AS dst", (str(dst),))
    conn.execute("CREATE TEMP TABLE wanted (key TEXT PRIMARY KEY)")
    conn.executemany("INSERT INTO wanted VALUES (?)", [(k,) for k in wanted])
    # The columns from the schema itself, so that one added there is copied too; an older source lacks some.
    have = sample_columns(conn)
    columns = ", ".join(r[1] for r in conn.execute("PRAGMA dst.table_info(samples)")
                        if (keep_ids or r[1] != "id") and r[1] in have)
    conn.execute("INSERT INTO dst.programs SELECT * FROM programs WHERE key IN (SELECT key FROM wanted)")
    conn.execute(f"INSERT INTO dst.samples ({columns}) SELECT {columns} FROM samples "
                 "WHERE program IN (SELECT key FROM wanted)")
    conn.commit()
    conn.execute("DROP TABLE wanted")
    conn.execute("DETACH DATABASE dst")


def _refuse_existing(*outs: str | Path) -> None:
    """A data set is never overwritten: a ValueError (reported by the CLI) if any of `outs` exists."""
    for out in outs:
        if Path(out).exists():
            raise ValueError(f"{out}: already exists")


def _new_db(out: str | Path) -> Path:
    """An empty data set under a temporary name next to `out` (renamed to `out` once complete)."""
    tmp = Path(f"{out}.tmp")
    tmp.unlink(missing_ok=True)
    open_db(tmp).close()
    return tmp


def copy_programs(conn: sqlite3.Connection, out: str | Path, wanted: Iterable[str]) -> None:
    """Copy the programs `wanted` of the data set open in `conn`, and their samples, into a new data
    set `out`; written under a temporary name, so only a complete copy gets the final one."""
    tmp = _new_db(out)
    _insert_programs(conn, tmp, wanted, keep_ids=True)
    tmp.replace(out)


def merge_databases(sources: Sequence[str | Path], out: str | Path) -> dict[str, int]:
    """A new data set `out` holding every program of `sources`; a program found in several takes all
    its samples from the last of them, so that one program's labels come from one measurement
    session (`generated.db remeasured.db`: quiet labels where there are any, else stored ones).
    A source ending in `.xz` (a part as the repository stores it, data/README.md) is read unpacked.
    Returns the number of programs taken from each source. An existing `out` is refused."""
    _refuse_existing(out)
    names = list(dict.fromkeys(map(str, sources)))
    with tempfile.TemporaryDirectory(dir=Path(out).resolve().parent) as unpacked:
        readable = {source: _unpacked(source, Path(unpacked) / f"{i}.db") for i, source in enumerate(names)}
        owner: dict[str, str] = {}
        for source in names:
            with closing(open_db(readable[source], create=False)) as conn:
                owner.update(dict.fromkeys(program_keys(conn), source))
        tmp = _new_db(out)
        counts = {}
        for source in names:
            wanted = [k for k, s in owner.items() if s == source]
            with closing(open_db(readable[source], create=False)) as conn:
                _insert_programs(conn, tmp, wanted, keep_ids=False)  # ids of two sources would collide
            counts[source] = len(wanted)
    tmp.replace(out)
    return counts


def _unpacked(source: str, target: Path) -> Path:
    """`source` itself, or for an xz-compressed data set its contents written to `target`."""
    if not source.endswith(".xz"):
        return Path(source)
    if not Path(source).exists():
        raise FileNotFoundError(f"{source}: no such data set")
    try:
        with lzma.open(source) as packed, target.open("wb") as unpacked:
            shutil.copyfileobj(packed, unpacked)
    except lzma.LZMAError as exc:
        raise ValueError(f"{source}: not an xz-compressed data set ({exc})") from None
    return target


def split_database(source: str | Path, train_out: str | Path, test_out: str | Path, *, test_fraction: float = 0.2,
                   seed: int = 0) -> tuple[int, int]:
    """Copy a data set into a training and a held-out database, split by program (seeded hash);
    return the number of programs in each. Existing output files are refused, not overwritten."""
    _refuse_existing(train_out, test_out)
    conn = open_db(source, create=False)
    try:
        keys = program_keys(conn)
        train_keys, _, test_keys = split_programs(keys, 0.0, test_fraction, seed, salt="held-out:")
        for out, wanted in ((train_out, train_keys), (test_out, test_keys)):
            copy_programs(conn, out, wanted)
    finally:
        conn.close()
    return len(train_keys), len(test_keys)


def active_seconds(created: Sequence[float], pause: float = PAUSE_S) -> float:
    """Time spent measuring, from sorted sample timestamps: the gaps between them, pauses left out."""
    gaps = (later - earlier for earlier, later in pairwise(created))
    return float(sum(gap for gap in gaps if gap <= pause))


def statistics(path: str | Path, max_spread: float | None = MAX_SPREAD) -> dict:
    """Counts of a data set (or of an xz-compressed part): programs, samples by status, usable samples,
    timing noise, throughput."""
    with tempfile.TemporaryDirectory() as unpacked:
        return _statistics(_unpacked(str(path), Path(unpacked) / "data.db"), max_spread)


def _statistics(path: Path, max_spread: float | None) -> dict:
    """statistics() of an unpacked data set."""
    conn = open_db(path, create=False)
    try:
        by_status = dict(conn.execute("SELECT status, COUNT(*) FROM samples GROUP BY status").fetchall())
        n_programs = conn.execute("SELECT COUNT(*) FROM programs").fetchone()[0]
        spreads = sorted(spread(json.loads(t or "[]"))
                         for (t,) in conn.execute("SELECT times FROM samples WHERE status = 'ok'"))
        created = [t for (t,) in conn.execute("SELECT created FROM samples WHERE created IS NOT NULL ORDER BY created")]
        usable = sum(len(rows) for rows in ok_samples(conn, max_spread).values())
    finally:
        conn.close()
    total = sum(by_status.values())
    hours = active_seconds(created) / 3600
    return {"programs": n_programs, "samples": total, "by_status": by_status, "usable_samples": usable,
            "max_spread": max_spread, "median_spread": spreads[len(spreads) // 2] if spreads else None,
            "hours": round(hours, 2), "samples_per_hour": int(total / hours) if hours else None}
