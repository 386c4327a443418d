"""`looper dataset generate --backend ray`: the same measurement tasks, run as Ray tasks on a cluster.

Every task asks Ray for one CPU, so Ray may place several on one node; they then time their
programs next to each other, which makes timings noisy (README, "Cost-model data"). For quiet
timings run one task per node: `--jobs` equal to the number of nodes (tasks are spread over the
nodes, but Ray only tries: it does not promise one per node). A task prepares and times one program
on its node (costmodel.labels.measure_program); the driver stays the only writer of the database
(costmodel.pipeline.run stores each task's samples as it finishes).
Each node imports looper itself: it must have the same version installed, and gcc.
"""

from __future__ import annotations

import logging
from typing import Any

import ray

from codegen.harness import machine_id
from costmodel.labels import Sample, measure_program
from costmodel.programs import ProgramSpec
from costmodel.sampling import Sampling


# max_retries=0: a task whose worker died (a segfault, a cancel) is recorded as a failure, never re-run.
# SPREAD: Ray's default packs tasks onto one node first; spread, `--jobs` = nodes mostly means one per node.
@ray.remote(num_cpus=1, max_retries=0, scheduling_strategy="SPREAD")
def _measure(spec: ProgramSpec, count: int, skip: set[str], repeat: int, sampling: Sampling,
             run_timeout: float) -> tuple[list[Sample], str]:
    """Measure a program on whichever node runs the task; return its samples and that node's machine."""
    return measure_program(spec, count, skip, spec.seed, repeat, run_timeout, sampling), machine_id()


class RayBackend:
    """Ray tasks, `jobs` of them in flight, on the cluster at `address` (costmodel.pipeline.Backend)."""

    def __init__(self, jobs: int, address: str | None = None, quiet: bool = False) -> None:
        # Without an address ray.init() joins RAY_ADDRESS if set, else the cluster `ray start` started on
        # this machine, else starts a local instance (Ray's own convention).
        # A caller (a test, a notebook) that already connected keeps its connection, and owns it.
        self._owner = not ray.is_initialized()
        if self._owner:
            # Quiet: only errors from Ray itself and no worker output relayed, as with the local backend.
            options: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False} if quiet else {}
            ray.init(address=address, **options)
        self.slots = max(1, jobs)
        self._running: set[ray.ObjectRef] = set()

    def submit(self, spec: ProgramSpec, count: int, skip: set[str], repeat: int, sampling: Sampling,
               run_timeout: float) -> ray.ObjectRef:
        """Start measuring a program on the cluster."""
        ref = _measure.remote(spec, count, skip, repeat, sampling, run_timeout)
        self._running.add(ref)
        return ref

    def wait(self, tasks: list[ray.ObjectRef], timeout: float) -> set[ray.ObjectRef]:
        """The finished tasks (at least one, unless `timeout` seconds pass first)."""
        ready, _ = ray.wait(tasks, num_returns=1, timeout=timeout)
        return set(ready)

    def result(self, task: ray.ObjectRef) -> tuple[list[Sample], str | None]:
        """A finished task's samples and the machine of the node that measured them."""
        try:
            samples, machine = ray.get(task)  # raises the task's error (RayTaskError, WorkerCrashedError, ...)
        finally:
            self._running.discard(task)  # finished, with a value or an error: nothing left to kill
        return samples, machine

    def cancel(self, task: ray.ObjectRef) -> None:
        """Kill the task's worker process (force: a hung compiler or program never checks for a cancel)."""
        # Only a task still running: Ray 2.60 aborts the driver (a failed CHECK in its task manager)
        # when a task that has just finished with an error is force-cancelled. A task that timed out
        # may have finished since the last wait: ask Ray once more (this narrows the race; only Ray
        # could close it).
        if task not in self._running:
            return
        self._running.discard(task)
        finished, _ = ray.wait([task], num_returns=1, timeout=0)
        if not finished:
            ray.cancel(task, force=True)

    def close(self) -> None:
        """Cancel what is still running, and stop Ray if this backend started or joined it."""
        for ref in list(self._running):
            self.cancel(ref)
        if self._owner:
            ray.shutdown()
