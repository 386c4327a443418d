"""Time the variants of built libraries in a worker process, under the timing policy.

A `Harness` keeps one worker for a whole session (a data-generation run, a search) and loads each
library in turn. When the worker dies or hangs during a variant's run, that variant is retried
alone in a fresh worker: if it fails again it is recorded as a crash (`run_error`) or a `timeout`;
if it runs, the variants that ran before it in the lost worker are tried alone (a crash can come
late, from memory another variant broke). Every other variant keeps its runs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from codegen.harness.library import Library
from codegen.harness.policy import BUILD_ERROR, RUN_ERROR, TIMEOUT, Policy, RunFailed, Timed, measure
from codegen.harness.worker import Worker, WorkerLost

LOAD_TIMEOUT = 120.0  # seconds to load a library and run the original once (untimed)


class Harness:
    """A measurement session: one worker at a time, the policy, a time limit per run."""

    def __init__(self, policy: Policy | None = None, *, timeout: float = 10.0, threads: int = 2,
                 wait_policy: str | None = "passive") -> None:
        self.policy = policy or Policy()
        self.timeout = timeout
        self.threads = threads
        self.wait_policy = wait_policy
        self._worker: Worker | None = None
        self._ran: set[int] = set()  # versions run by the current worker since it loaded its library

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def _start(self, path: Path) -> Worker:
        """A worker with the library loaded and its original run once, untimed (pages, caches, threads)."""
        if self._worker is None or self._worker.proc.poll() is not None:
            self.close()
            self._worker = Worker(self.threads, self.wait_policy)
        try:
            self._worker.load(path, LOAD_TIMEOUT)
            self._ran = set()
            self._once(0, LOAD_TIMEOUT)
        except WorkerLost as lost:
            self.close()
            raise RunFailed(TIMEOUT if lost.timed_out else RUN_ERROR, f"the original: {lost}") from None
        except RuntimeError as exc:
            self.close()
            raise RunFailed(RUN_ERROR, str(exc)) from None
        return self._worker

    def _once(self, version: int, timeout: float) -> float:
        """One run in the current worker: its region seconds. RunFailed if the program ends with a non-zero
        status (main() returns it or calls exit())."""
        assert self._worker is not None
        self._ran.add(version)
        reply = self._worker.call({"op": "run", "variant": version}, timeout)
        if reply["status"] != 0:
            raise RunFailed(RUN_ERROR, f"exit status {reply['status']}")
        return float(reply["seconds"])

    def _alone(self, path: Path, version: int) -> RunFailed | None:
        """Run one version once in a fresh worker: the failure it gives alone, if any."""
        self.close()
        try:
            self._start(path)
            self._once(version, self.timeout)
        except WorkerLost as lost:
            return RunFailed(TIMEOUT if lost.timed_out else RUN_ERROR, str(lost))
        except RunFailed as failed:
            return failed
        finally:
            self.close()
        return None

    def timers(self, library: Library) -> tuple[list[Callable[[], float] | None], dict[int, RunFailed]]:
        """Timers for `policy.measure` of a library's original (0) and its batch's variants (1..n; None for
        one not built), run in this session's worker, which loads the library now (RunFailed if the
        original does not run). The dict fills with variants found late to crash (see the docstring)."""
        assert library.path is not None
        path = library.path
        versions = [0, *(-1 if s is None else s for s in library.slots)]
        failed: dict[int, RunFailed] = {}
        self._start(path)

        def timer(i: int) -> float:
            if i in failed:
                raise failed[i]
            try:
                if self._worker is None or self._worker.loaded != path:
                    self._start(path)
                return self._once(versions[i], self.timeout)
            except WorkerLost:
                suspects = self._ran - {versions[i]}
                failure = self._alone(path, versions[i])
                if failure is not None:
                    raise failure from None
                for j, v in enumerate(versions):
                    if v in suspects and j not in failed and (late := self._alone(path, v)) is not None:
                        failed[j] = late
                self._start(path)
                return self._once(versions[i], self.timeout)

        return [partial(timer, i) if v >= 0 else None for i, v in enumerate(versions)], failed

    def time(self, library: Library, done: Callable[[int], None] | None = None) -> list[Timed]:
        """Time a library's original (result 0) and each variant of its batch (results 1..n)."""
        n = len(library.batch.variants)
        statistic = self.policy.statistic
        if library.path is None:
            return [Timed(BUILD_ERROR, message=library.message, statistic=statistic) for _ in range(n + 1)]
        try:
            timers, failed = self.timers(library)
        except RunFailed as exc:
            return [Timed(exc.status, message=exc.message, statistic=statistic) for _ in range(n + 1)]
        live = [i for i, t in enumerate(timers) if t is not None]
        timed = measure([timers[i] for i in live], self.policy, baselines=(0,),  # type: ignore[misc]
                        done=(lambda k: done(live[k] - 1)) if done else None)
        results = [Timed(BUILD_ERROR, message=library.errors.get(i - 1, "not built"), statistic=statistic)
                   for i in range(n + 1)]
        for i, t in zip(live, timed, strict=True):
            results[i] = t
        return settle(results, failed)

    def output(self, library: Library, version: int, capture: Path) -> str:
        """What one run of a version prints (stdout and stderr, as the program writes them)."""
        assert library.path is not None
        worker = self._start(library.path)
        reply = worker.call({"op": "capture", "variant": version, "path": str(capture)}, self.timeout)
        if reply["status"] != 0:
            raise RunFailed(RUN_ERROR, f"exit status {reply['status']}")
        return capture.read_text(errors="replace")


def settle(results: list[Timed], failed: dict[int, RunFailed]) -> list[Timed]:
    """Results with the variants found late to crash (a `timers` dict) marked as failed."""
    for i, failure in failed.items():
        results[i] = Timed(failure.status, message=failure.message, statistic=results[i].statistic)
    return results
