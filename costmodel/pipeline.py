"""The loop of `looper dataset generate` and `remeasure`: prepare on every core, time alone, store.

Locally, programs go in groups: each program of a group is prepared in a worker process of its
own (schedules chosen, code generated, one library built: `labels.prepare`), all cores busy; then
the machine is left to the measurement harness, which times the group's libraries one after the
other. A crash or hang while preparing (looper, the compiler) loses only that program, recorded as
a `worker_error` sample; a crash or hang of a variant loses only that variant (codegen.harness).
With `--backend ray` each program is one Ray task that prepares and times it on its node
(`labels.measure_program`). This process alone writes the database, as each program finishes.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Protocol, TypeVar

from codegen.harness import Harness, Policy
from costmodel import labels
from costmodel.labels import RUN_TIMEOUT, Prepared, Sample, compiler_record
from costmodel.programs import ProgramSpec
from costmodel.samplestore import store, stored_progress
from costmodel.sampling import Sampling

PROGRAM_TIMEOUT = 600.0  # seconds a worker may take to prepare one program

H = TypeVar("H", bound=Hashable)  # a backend's task handle (a Future, a Ray ObjectRef)


class Backend(Protocol[H]):
    """Where tasks run: `slots` at once."""

    slots: int

    def submit(self, *args: Any) -> H:
        """Start a task; return its handle."""

    def wait(self, tasks: list[H], timeout: float) -> set[H]:
        """The tasks that finished (successfully or not) within `timeout` seconds."""

    def result(self, task: H) -> tuple[Any, str | None]:
        """A finished task's value and the machine that computed it (None: this one); raises its error."""

    def cancel(self, task: H) -> None:
        """Stop a failed or hung task and free its slot."""

    def close(self) -> None:
        """Stop whatever is still running."""


PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def _die_with(parent: int) -> None:
    """A worker's first act: be killed when its command dies, even by SIGKILL, instead of living on as an
    orphan that holds a core and gigabytes (Linux; elsewhere only a command stopped cleanly stops it)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the command died before the call above
        os._exit(1)


def _pool() -> ProcessPoolExecutor:
    """One worker's pool. Its worker is forked at the first submit, by the thread that submits: the main
    thread here (a death signal follows the thread that forked, not the process)."""
    return ProcessPoolExecutor(max_workers=1, initializer=_die_with, initargs=(os.getpid(),))


class ProcessBackend:
    """Worker processes on this machine: one single-worker pool per slot, so a failure kills only its own.
    A task is a function of `costmodel.labels` and its arguments."""

    def __init__(self, jobs: int) -> None:
        self.pools = [_pool() for _ in range(max(1, jobs))]
        self.slots = len(self.pools)
        self._slot: dict[Future, int] = {}  # running or failed task -> index of its pool

    def submit(self, function: Callable[..., Any], *args: Any) -> Future:
        """Start a task in a free pool."""
        busy = set(self._slot.values())
        index = next(i for i in range(len(self.pools)) if i not in busy)
        future = self.pools[index].submit(function, *args)
        self._slot[future] = index
        return future

    def wait(self, tasks: list[Future], timeout: float) -> set[Future]:
        """The finished tasks."""
        return wait(tasks, timeout=timeout, return_when=FIRST_COMPLETED)[0]

    def result(self, task: Future) -> tuple[Any, str | None]:
        """A finished task's value, computed here."""
        value = task.result()  # raises first: a failed task keeps its slot until cancel() replaces the pool
        del self._slot[task]
        return value, None

    def cancel(self, task: Future) -> None:
        """Kill the task's worker and give its slot a fresh pool."""
        index = self._slot.pop(task)
        self._stop(index)
        self.pools[index] = _pool()

    def close(self) -> None:
        """Stop every worker now, busy or not: on an interrupt the command ends at once instead of at
        exit, where Python waits for each worker to finish the program it prepares (minutes)."""
        for index in range(len(self.pools)):
            self._stop(index)

    def _stop(self, index: int) -> None:
        """Kill pool `index`'s worker and shut the pool down."""
        pool = self.pools[index]
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.kill()  # first: shutdown() forgets the pool's processes, and a hung one keeps running
        pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True)
class Task:
    """One program to measure: the arguments of its backend's `submit`, and how many schedules it was asked for."""

    spec: ProgramSpec
    args: tuple
    requested: int


def drive(backend: Backend[H], tasks: Iterable[Task], timeout: float) -> Iterator[tuple[Task, Any, str | None]]:
    """Run tasks, `backend.slots` at a time, yielding (task, value or the exception, machine) as each ends;
    a task running over `timeout` seconds is cancelled and yields a TimeoutError."""
    running: dict[H, tuple[Task, float]] = {}

    def finished() -> Iterator[tuple[Task, Any, str | None]]:
        # Poll at least as often as the timeout, so that a hung task is stopped about on time.
        done = backend.wait(list(running), min(5.0, timeout))
        now = time.monotonic()
        for handle in list(running):
            task, start = running[handle]
            if handle in done:
                del running[handle]
                try:
                    value, machine = backend.result(handle)
                except Exception as exc:
                    backend.cancel(handle)
                    value, machine = exc, None
                yield task, value, machine
            elif now - start > timeout:
                del running[handle]
                backend.cancel(handle)
                yield task, FutureTimeout(f"no result after {timeout:g} s"), None

    for task in tasks:
        while len(running) >= backend.slots:
            yield from finished()
        running[backend.submit(*task.args)] = (task, time.monotonic())
    while running:
        yield from finished()


def counts() -> dict[str, int]:
    """What a run did, as `looper dataset generate` prints it (filled by `recorder` and `run`)."""
    return dict.fromkeys(("programs", "new_samples", "skipped_programs", "failed_programs"), 0)


def run(db_path: Path, programs: Iterator[ProgramSpec], total: int, per_program: int, *,
        repeat: int = 5, program_timeout: float = PROGRAM_TIMEOUT, jobs: int = 1,
        log: Callable[[str], None] | None = None, progress: Callable[[int], None] | None = None,
        backend: str = "local", ray_address: str | None = None, sampling: Sampling | None = None,
        quiet: bool = False, run_timeout: float = RUN_TIMEOUT) -> dict[str, int]:
    """Measure `per_program` schedules of every program into `db_path`, resuming where it stopped.

    Locally `jobs` programs are prepared at once; with `backend="ray"`, `jobs` Ray tasks run at once
    on the cluster at `ray_address`."""
    tally = counts()
    sampling = sampling or Sampling()

    def todo() -> Iterator[Task]:
        for spec in programs:
            done, finished_for = stored_progress(db_path, spec.key)
            missing = per_program - len(done)
            # A program measured before for as many schedules is done even if short: it has no more
            # legal schedules, or its worker failed (recorded as such); measuring it again finds nothing.
            if missing <= 0 or finished_for >= per_program:
                tally["skipped_programs"] += 1
                if progress:
                    progress(1)
                continue
            if backend == "ray":
                yield Task(spec, (spec, missing, done, repeat, sampling, run_timeout), per_program)
            else:
                yield Task(spec, (labels.prepare_new, spec, missing, done, sampling), per_program)

    record = recorder(db_path, tally, log, progress)
    if backend == "ray":
        from costmodel.ray_backend import RayBackend  # ray is an optional extra

        cluster = RayBackend(jobs, ray_address, quiet)
        try:
            for task, value, machine in drive(cluster, todo(), program_timeout):
                record(task, value, machine)
        finally:
            cluster.close()
    else:
        measure_locally(todo(), jobs, Policy.from_repeat(repeat), record, program_timeout, run_timeout)
    return tally


def measure_locally(tasks: Iterator[Task], jobs: int, policy: Policy, record: Callable[..., None],
                    program_timeout: float = PROGRAM_TIMEOUT, run_timeout: float = RUN_TIMEOUT) -> None:
    """Prepare tasks (`labels.prepare_*` calls) in groups on `jobs` workers, then time each group alone."""
    preparers = ProcessBackend(jobs)
    try:
        with Harness(policy, timeout=run_timeout) as harness:
            # Four programs a worker: the last one to finish leaves the other cores idle for a shorter share.
            while group := list(islice(tasks, 4 * preparers.slots)):
                for task, value, _ in list(drive(preparers, group, program_timeout)):
                    if isinstance(value, Prepared):
                        try:
                            value = labels.label(value, harness)
                        except Exception as exc:  # looper's own failure while timing: this program only
                            value = exc
                    record(task, value, None)
    finally:
        preparers.close()


def recorder(db_path: Path, tally: dict[str, int], log: Callable[[str], None] | None,
              progress: Callable[[int], None] | None) -> Callable[[Task, Any, str | None], None]:
    """Store one finished task's samples (or its failure, as one `worker_error` sample)."""
    compiler = compiler_record()

    def record(task: Task, value: Any, machine: str | None) -> None:
        spec = task.spec
        if isinstance(value, BaseException):
            tally["failed_programs"] += 1
            if log:
                log(f"{spec.name} (seed {spec.seed}): {type(value).__name__}: {str(value)[:200]}")
            value = [Sample(f"failed-{spec.key}", "{}", "worker_error")]
        tally["new_samples"] += store(db_path, spec, value, compiler, machine, requested=task.requested)
        tally["programs"] += 1
        if progress:
            progress(1)

    return record
