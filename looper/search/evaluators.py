"""Evaluators that need no compiler and no model: random scores, and an analytical stand-in
for the learned cost model (memory strides, parallelism, vectorization, tiling reuse)."""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Callable, Sequence
from typing import TypeVar

import islpy as isl
import numpy as np

from looper.counting import instance_count
from looper.ir import Scop, Statement
from looper.schedule import Lowered, Schedule
from looper.strides import coefficients, subscript_coefficients

_TILE_SIZE = re.compile(r"floor\(\(.*?\)/(\d+)\)")
T = TypeVar("T")


class RandomEvaluator:
    """Uniform random scores, reproducible: a schedule's score depends only on it and the seed."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def score(self, schedules: Sequence[Schedule]) -> list[float]:
        return [
            int.from_bytes(hashlib.sha256(f"{self.seed}:{s.fingerprint()}".encode()).digest()[:8], "big") / 2**64
            for s in schedules
        ]


def _per_scop(cache: dict[int, tuple[weakref.ref, T]], scop: Scop, make: Callable[[], T]) -> T:
    """cache's value for this very Scop, made by `make` if absent. Keyed by id(), with a weak reference
    beside the value: a freed Scop's id may be reused by the next program, which must not get its figures."""
    entry = cache.get(id(scop))
    if entry is None or entry[0]() is not scop:
        entry = cache[id(scop)] = (weakref.ref(scop), make())
    return entry[1]


class AnalyticalEvaluator:
    """A hand-written estimate of speedup over the original schedule. It stands in for the learned
    cost model where none is available; it knows only a few first-order effects."""

    PARALLEL_GAIN = 1.8  # two cores, minus OpenMP overhead
    INNER_PARALLEL_COST = 1.5  # a thread team started at every iteration of a sequential outer loop
    MIN_PARALLEL_WORK = 200_000  # statement instances below which threads cost more than they give
    VECTOR_GAIN = 1.3  # explicit simd on stride-1 code
    TILE_GAIN = 1.5  # reuse captured in cache
    UNROLL_GAIN = 1.03
    SHORT_TILE = 8.0  # a tile of T iterations costs (1 + SHORT_TILE / T) times an untiled loop
    LARGE_STRIDE = 8.0  # cost of an access jumping a row per iteration, relative to stride-1

    def __init__(self, default_param: int = 32) -> None:
        self.default_param = default_param
        self._baseline: dict[int, tuple[weakref.ref, float]] = {}
        self._weights: dict[int, tuple[weakref.ref, dict[str, float]]] = {}

    def score(self, schedules: Sequence[Schedule]) -> list[float]:
        return [self._baseline_time(s.scop) / self.time(s) for s in schedules]

    def time(self, schedule: Schedule) -> float:
        """Estimated run time (arbitrary units)."""
        low = schedule.lowered
        weights = self._instance_weights(schedule.scop)
        return sum(weights[s.name] * self._statement_cost(s, low, weights[s.name])
                   for s in schedule.scop.statements)

    def _baseline_time(self, scop: Scop) -> float:
        return _per_scop(self._baseline, scop, lambda: self.time(Schedule(scop)))

    def _instance_weights(self, scop: Scop) -> dict[str, float]:
        return _per_scop(self._weights, scop, lambda: {s.name: float(max(1, _count(s.domain, scop, self.default_param)))
                                                       for s in scop.statements})

    def _statement_cost(self, stmt: Statement, low: Lowered, instances: float) -> float:
        rows = low.rows[stmt.name]
        dims = low.loop_dims(stmt.name)
        if not dims or not stmt.depth:
            return 1.0
        point = [d for d in dims if rows[d].dim(isl.dim_type.div) == 0]
        tiled = len(point) < len(dims)
        direction = _innermost_direction([coefficients(rows[d], stmt.depth) for d in point])
        mem = 0.0
        for access in stmt.accesses:
            subs = subscript_coefficients(access.relation, stmt.depth)
            if direction is None or not subs:
                mem += 2.0
                continue
            moves = [abs(float(np.dot(sub, direction))) > 1e-9 for sub in subs]
            if any(moves[:-1]):
                mem += self.LARGE_STRIDE / (4.0 if tiled else 1.0)
            else:
                mem += 1.0
        cost = mem / max(1, len(stmt.accesses))
        parallel = [d for d in dims if (stmt.name, d) in low.parallel]
        if parallel and (parallel[0] != dims[0] or instances < self.MIN_PARALLEL_WORK):
            cost *= self.INNER_PARALLEL_COST
        elif parallel:
            cost /= self.PARALLEL_GAIN
        if (stmt.name, dims[-1]) in low.vector:
            cost /= self.VECTOR_GAIN
        if tiled:
            # Short point loops leave little for the vectorizer and pay loop overhead per tile.
            sizes = [int(m) for d in dims for m in _TILE_SIZE.findall(str(rows[d]))]
            cost *= 1.0 + self.SHORT_TILE / min(sizes) if sizes else 1.0
            cost /= self.TILE_GAIN
        if (stmt.name, dims[-1]) in low.unroll:
            cost /= self.UNROLL_GAIN
        return cost


def _count(domain: isl.Set, scop: Scop, default: int) -> float:
    """Number of instances with every parameter at its known value (or `default`), by closed form
    (looper.counting): never by enumeration, which a deep or long nest makes endless."""
    return instance_count(domain, scop.param_values, default)


def _innermost_direction(rows: Sequence[Sequence[float]]) -> np.ndarray | None:
    """How the statement's iterators move when the innermost loop advances by one, others fixed."""
    m = np.array(rows, dtype=float)
    if m.ndim != 2 or m.shape[0] == 0:
        return None
    target = np.zeros(m.shape[0])
    target[-1] = 1.0
    direction, *_ = np.linalg.lstsq(m, target, rcond=None)
    return direction
