"""Drive a fuzzing run: worker processes with a per-case time limit, reduction of every failure,
reproducers on disk, and a resumable SQLite state (finished program indices are skipped)."""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import sqlite3
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.context import ForkContext, ForkServerContext, SpawnContext
from pathlib import Path
from typing import Any, Literal

from codegen.harness.worker import describe_exit
from looper.fuzz.cases import (
    FAILURE_KINDS,
    RUN_TIMEOUT,
    Case,
    Outcome,
    WorkerLost,
    program_seed,
)
from looper.fuzz.reduce import Reducer, Reduction, count_statements, describe, standalone
from polybench.dump import RTOL

CHEAP_SEARCHES = ("pluto", "isl", "none")  # run on every program; the others take turns (see Options.all_searches)
StartMethod = Literal["spawn", "fork", "forkserver"]  # multiprocessing's start methods
Context = SpawnContext | ForkContext | ForkServerContext


@dataclass(frozen=True)
class Options:
    """Everything a fuzzing run is parameterized by."""

    programs: int = 100  # program indices first .. first + programs - 1
    first: int = 0
    schedules: int = 15  # random legal schedules per program
    seed: int = 0  # the run's seed: program i is generate(program_seed(seed, i))
    jobs: int = 2
    time_limit: float = 300.0  # seconds per case (a worker still busy after that is killed: a hang)
    searches: tuple[str, ...] = ("pluto", "isl", "model", "random", "none")
    all_searches: bool = False  # every search on every program (else the slow ones take turns)
    beam_width: int = 2
    max_nests: int = 4
    max_depth: int = 5
    runs: int = 3  # runs of a parallel transformed program (a race may show in one of them only)
    reduce: bool = True
    reduce_budget: float = 300.0  # seconds per failure
    max_reductions: int = 3  # per failure signature (kind and detail); later ones are saved unreduced
    start_method: StartMethod = "spawn"  # of the worker processes ("fork" lets tests inject bugs by monkeypatching)
    quiet: bool = False


def _context(method: StartMethod) -> Context:
    """multiprocessing's context for a start method (typeshed gives get_context of a str as a BaseContext,
    which has no Process)."""
    context = multiprocessing.get_context(method)
    assert isinstance(context, Context)
    return context


class Worker:
    """A process running functions of looper.fuzz.cases, in a process group of its own so that a
    hung call is killed together with the compiler or program it started."""

    def __init__(self, root: Path, name: str, method: StartMethod = "spawn") -> None:
        self.root, self.name = root, name
        self.ctx = _context(method)
        self.case: Case | None = None
        self.started = 0.0
        self.closed = False
        self._start()

    def _start(self) -> None:
        self.cache = self.root / self.name
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_serve, args=(child, str(self.cache)), daemon=True,
                                     name=f"looper-fuzz-{self.name}")
        self.proc.start()
        child.close()
        self.conn = parent

    @property
    def busy(self) -> bool:
        return self.case is not None

    def submit(self, case: Case, name: str, *args: Any, **kwargs: Any) -> None:
        self.conn.send((name, args, kwargs))
        self.case, self.started = case, time.monotonic()

    def ready(self) -> bool:
        return self.conn.poll()

    def receive(self) -> Any:
        """The result of the call submitted last; WorkerLost if the worker died on it."""
        self.case = None
        try:
            status, value = self.conn.recv()
        except (EOFError, OSError):
            self.proc.join(5)
            code = self.proc.exitcode if self.proc.exitcode is not None else -signal.SIGKILL
            self.restart()
            what = describe_exit(code)
            raise WorkerLost(Outcome("crash", f"the worker process died ({what})", f"worker {what}")) from None
        if status == "error":
            raise WorkerLost(Outcome("crash", value[-800:], "worker error"))
        return value

    def call(self, name: str, *args: Any, timeout: float, **kwargs: Any) -> Any:
        """Run one function and wait for it; WorkerLost on a hang (after `timeout` s) or a death."""
        if self.closed:
            raise RuntimeError("the worker is closed")
        self.submit(Case("", (), "call"), name, *args, **kwargs)
        try:
            ready = self.conn.poll(timeout)
        except OSError:  # closed while waiting: the run is stopping
            raise RuntimeError("the worker is closed") from None
        if not ready:
            self.restart()
            raise WorkerLost(Outcome("hang", f"no result within the time limit of {timeout:g} s", "killed"))
        return self.receive()

    def timed_out(self, limit: float) -> bool:
        return self.busy and time.monotonic() - self.started > limit

    def kill(self) -> None:
        """Kill the worker and everything it started (its process group), by id."""
        self.case = None
        assert self.proc.pid is not None  # started by _start
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            if self.proc.is_alive():
                self.proc.kill()
        self.proc.join(10)
        self.conn.close()
        shutil.rmtree(self.cache, ignore_errors=True)

    def restart(self) -> None:
        self.kill()
        if not self.closed:
            self._start()

    def close(self) -> None:
        self.closed = True
        if self.proc.is_alive() and not self.busy:
            try:
                self.conn.send(None)
                self.proc.join(10)
            except (OSError, BrokenPipeError):
                pass
        self.kill()


def _serve(conn, cache: str) -> None:
    """Worker main loop: receive (function, args, kwargs), send back ("ok", result) or ("error", traceback)."""
    os.setpgrp()
    os.environ["LOOPER_CACHE"] = cache
    from looper.fuzz.cases import FUNCTIONS

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        name, args, kwargs = message
        try:
            reply = ("ok", FUNCTIONS[name](*args, **kwargs))
        except Exception:
            reply = ("error", traceback.format_exc())
        conn.send(reply)


class State:
    """What a run has finished, in `DIR/state.sqlite`: programs by (seed, index), and failures."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, timeout=30)
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS programs (fuzz_seed INTEGER, idx INTEGER, program_seed INTEGER, "
                "cases INTEGER, failures INTEGER, invalid INTEGER, note TEXT, seconds REAL, finished REAL, "
                "PRIMARY KEY (fuzz_seed, idx))")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS failures (id TEXT PRIMARY KEY, fuzz_seed INTEGER, idx INTEGER, "
                "kind TEXT, detail TEXT, mode TEXT, message TEXT, path TEXT, created REAL)")

    def finished(self, seed: int) -> set[int]:
        return {r[0] for r in self.db.execute("SELECT idx FROM programs WHERE fuzz_seed=?", (seed,))}

    def finish(self, seed: int, index: int, pseed: int, cases: int, failures: int, invalid: int, note: str,
               seconds: float) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO programs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (seed, index, pseed, cases, failures, invalid, note, seconds, time.time()))

    def add_failure(self, fid: str, seed: int, index: int, outcome: Outcome, mode: str, path: Path) -> bool:
        """Record a failure; False if it was recorded before (a resumed program fails again)."""
        with self.db:
            cur = self.db.execute("INSERT OR IGNORE INTO failures VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                  (fid, seed, index, outcome.status, outcome.detail, mode, outcome.message,
                                   str(path), time.time()))
        return cur.rowcount == 1

    def totals(self, seed: int) -> dict[str, int]:
        row = self.db.execute("SELECT COUNT(*), COALESCE(SUM(cases), 0), COALESCE(SUM(failures), 0) "
                              "FROM programs WHERE fuzz_seed=?", (seed,)).fetchone()
        return {"programs": row[0], "cases": row[1], "failures": row[2]}

    def close(self) -> None:
        self.db.close()


@dataclass
class _Program:
    index: int
    seed: int
    rtol: float
    pending: int = 1  # the sampling task
    cases: int = 0
    failures: int = 0
    invalid: int = 0
    note: str = ""
    started: float = field(default_factory=time.monotonic)


def searches_for(index: int, options: Options) -> list[str]:
    """The search modes run on program `index`: the cheap ones always, the slow ones in turn."""
    if options.all_searches:
        return list(options.searches)
    slow = [s for s in options.searches if s not in CHEAP_SEARCHES]
    chosen = [s for s in options.searches if s in CHEAP_SEARCHES]
    if slow:
        chosen.append(slow[index % len(slow)])
    return chosen


def run(out: Path, options: Options, *, log: Callable[[str], None] | None = None,
        progress: Callable[..., None] | None = None) -> dict[str, Any]:
    """Fuzz the programs of `options` not finished before in `out`; return the JSON summary."""
    from costmodel.generator import generate

    out.mkdir(parents=True, exist_ok=True)
    (out / "reproducers").mkdir(exist_ok=True)
    log = log or (lambda msg: None)
    state = State(out / "state.sqlite")
    done_before = state.finished(options.seed)
    todo = deque(i for i in range(options.first, options.first + options.programs) if i not in done_before)
    skipped = options.programs - len(todo)
    if progress and skipped:
        progress(skipped, label=f"fuzz: {skipped} programs finished before")
    started = time.monotonic()
    counts: Counter[str] = Counter()
    by_mode: Counter[str] = Counter()
    time_by_mode: defaultdict[str, float] = defaultdict(float)  # worker seconds
    failures: Counter[str] = Counter()
    reduced_signatures: Counter[tuple] = Counter()
    retried: set[tuple] = set()
    stopping = threading.Event()
    queue: deque[Case] = deque()
    active: dict[int, _Program] = {}
    root = Path(tempfile.mkdtemp(prefix="looper-fuzz-"))
    workers = [Worker(root, f"w{i}", options.start_method) for i in range(max(1, options.jobs))]
    reducer_worker: Worker | None = None
    reductions = ThreadPoolExecutor(max_workers=1)
    reducing: dict[Future, tuple[_Program, Case, Outcome]] = {}
    run_timeout = min(RUN_TIMEOUT, options.time_limit / 3)

    def next_case() -> Case | None:
        if queue:
            return queue.popleft()
        while todo:
            index = todo.popleft()
            pseed = program_seed(options.seed, index)
            try:
                program = generate(pseed, max_nests=options.max_nests, max_depth=options.max_depth)
            except Exception as exc:  # the generator is not under test: note it and go on
                state.finish(options.seed, index, pseed, 0, 0, 0, f"generator: {exc}", 0.0)
                counts["generator_errors"] += 1
                continue
            rtol = RTOL["float"] if program.dtype == "float" else RTOL["double"]
            active[index] = _Program(index, pseed, rtol)
            defines = tuple(sorted(program.small_defines().items()))
            return Case(program.source, defines, "sample", seed=pseed, count=options.schedules,
                        beam_width=options.beam_width, rtol=rtol, program=index)
        return None

    def finish_program(p: _Program) -> None:
        del active[p.index]
        state.finish(options.seed, p.index, p.seed, p.cases, p.failures, p.invalid, p.note,
                     time.monotonic() - p.started)
        counts["programs"] += 1
        if progress:
            progress(1, label=f"fuzz: {counts['cases']} cases, {sum(failures.values())} failures")

    def done_with(p: _Program) -> None:
        p.pending -= 1
        if p.pending == 0:
            finish_program(p)

    def reduce_one(case: Case, outcome: Outcome) -> Reduction:
        nonlocal reducer_worker
        if reducer_worker is None:
            reducer_worker = Worker(root, "reducer", options.start_method)
        worker = reducer_worker
        reducer = Reducer(lambda name, *a, **k: worker.call(name, *a, timeout=options.time_limit, **k),
                          budget=options.reduce_budget, stop=stopping.is_set)
        return reducer.reduce(case, outcome)

    def failed(p: _Program, case: Case, outcome: Outcome) -> None:
        p.failures += 1
        failures[outcome.status] += 1
        log(f"{outcome.status} in program {p.index} (seed {p.seed}), case {case.number} ({case.mode}): "
            f"{outcome.message[:300]}")
        signature = outcome.signature
        if options.reduce and reduced_signatures[signature] < options.max_reductions:
            reduced_signatures[signature] += 1
            p.pending += 1
            reducing[reductions.submit(reduce_one, case, outcome)] = (p, case, outcome)
        else:
            path = save_failure(out, state, options.seed, p, case, outcome, None)
            log(f"  saved (unreduced) {path}")

    def handle(case: Case, outcome: Outcome, seconds: float) -> None:
        p = active[case.program]
        time_by_mode[case.mode] += seconds
        key = (case.program, case.number, case.mode)
        if outcome.detail.startswith("worker ") and key not in retried:
            # a dead worker may have been killed from outside (out of memory, an operator): run the
            # case once more on a fresh worker; a second death is looper's
            retried.add(key)
            counts["retried"] += 1
            queue.appendleft(case)
            return
        if case.mode == "sample":
            if outcome.status == "ok":
                extra = [case.with_(mode="schedule", schedule=s, number=k) for k, s in enumerate(outcome.schedules)]
                extra += [case.with_(mode=m, number=len(extra) + k) for k, m in enumerate(searches_for(p.index,
                                                                                                      options))]
                p.pending += len(extra)
                queue.extendleft(reversed(extra))  # finish started programs first
            elif outcome.status == "invalid":
                p.note = outcome.message[:300]
                counts["invalid_programs"] += 1
            else:
                counts["cases"] += 1
                p.cases += 1
                failed(p, case, outcome)
        else:
            counts["cases"] += 1
            by_mode[case.mode if case.mode != "schedule" else "schedule"] += 1
            p.cases += 1
            if outcome.status == "invalid":
                p.invalid += 1
                counts["invalid_cases"] += 1
            elif outcome.failed:
                failed(p, case, outcome)
        done_with(p)

    interrupted = False
    try:
        while True:
            for w in workers:
                if not w.busy:
                    case = next_case()
                    if case is None:
                        break
                    w.submit(case, "evaluate", case, timeout=run_timeout, runs=options.runs)
            busy = [w for w in workers if w.busy]
            if not busy and not reducing:
                break
            if busy:
                multiprocessing.connection.wait([w.conn for w in busy], timeout=1.0)
            else:
                time.sleep(0.2)
            for w in busy:
                case, elapsed = w.case, time.monotonic() - w.started
                assert case is not None
                if w.ready():
                    try:
                        outcome = w.receive()
                    except WorkerLost as exc:
                        outcome = exc.outcome
                    handle(case, outcome, elapsed)
                elif w.timed_out(options.time_limit):
                    w.restart()
                    handle(case, Outcome("hang", f"no result within the time limit of {options.time_limit:g} s "
                                         f"(worker killed)", "killed"), elapsed)
            for future in [f for f in reducing if f.done()]:
                p, case, outcome = reducing.pop(future)
                try:
                    reduction = future.result()
                except Exception as exc:  # a reducer problem must not lose the failure
                    log(f"  reduction failed: {type(exc).__name__}: {exc}")
                    reduction = None
                path = save_failure(out, state, options.seed, p, case, outcome, reduction)
                log(f"  reproducer: {path}")
                done_with(p)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        stopping.set()  # a reduction in progress stops at its next attempt
        for w in workers:
            w.close()
        if reducer_worker is not None:
            reducer_worker.close()  # kills the attempt in progress
        reductions.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(root, ignore_errors=True)
    seconds = time.monotonic() - started
    summary = {
        "fuzz_seed": options.seed,
        "programs": {"requested": options.programs, "run": counts["programs"], "finished_before": skipped,
            "invalid": counts["invalid_programs"], "generator_errors": counts["generator_errors"]},
        "cases": counts["cases"],
        "cases_by_mode": dict(sorted(by_mode.items())),
        "worker_seconds_by_mode": {k: round(v, 1) for k, v in sorted(time_by_mode.items())},
        "invalid_cases": counts["invalid_cases"],
        "retried_after_worker_death": counts["retried"],
        "failures": sum(failures.values()),
        "failures_by_kind": {k: failures[k] for k in FAILURE_KINDS if failures[k]},
        "seconds": round(seconds, 1),
        "cases_per_second": round(counts["cases"] / seconds, 3) if seconds > 0 else 0.0,
        "interrupted": interrupted,
        "out": str(out),
        "totals": state.totals(options.seed),
    }
    state.close()
    return summary


def save_failure(out: Path, state: State, seed: int, p: _Program, case: Case, outcome: Outcome,
                 reduction: Reduction | None) -> Path:
    """Write the reproducer (C file, schedule JSON, transformed C) and append to failures.txt."""
    fid = f"{outcome.status}-s{seed}-p{p.index}-c{case.number}"
    final_case, final = (reduction.case, reduction.outcome) if reduction else (case, outcome)
    base = out / "reproducers" / fid
    base.with_suffix(".c").write_text(standalone(final_case))
    if final.transformed:
        base.with_suffix(".out.c").write_text(final.transformed)
    data = {
        "id": fid,
        "kind": final.status,
        "detail": final.detail,
        "message": final.message,
        **describe(final_case),
        "fuzz_seed": seed,
        "program_seed": p.seed,
        "found": {"mode": case.mode, "schedule": outcome.schedule or case.schedule, "message": outcome.message,
                  "statements": count_statements(case.source), "defines": dict(case.defines)},
        "reduction": None if reduction is None else {
            "attempts": reduction.attempts, "seconds": round(reduction.seconds, 1),
            "steps": [reduction.steps_before, reduction.steps_after],
            "statements": [reduction.statements_before, reduction.statements_after]},
    }
    base.with_suffix(".json").write_text(json.dumps(data, indent=2) + "\n")
    if state.add_failure(fid, seed, p.index, final, case.mode, base.with_suffix(".c")):
        steps = len((final_case.schedule or {}).get("steps", [])) if final_case.mode == "schedule" else "-"
        line = (f"{fid} kind={final.status} mode={final_case.mode} steps={steps} "
                f"statements={count_statements(final_case.source)} {base.with_suffix('.c')} "
                f":: {final.message.splitlines()[0][:200] if final.message else ''}")
        with open(out / "failures.txt", "a") as f:
            f.write(line + "\n")
    return base.with_suffix(".c")
