"""The Pluto-like default (`--search isl`): isl's schedule, tiled, stride-1 point loops, parallel, simd.

Every step is kept only if the result is legal, so the outcome is always a legal schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

import islpy as isl

from looper import transforms as T
from looper.deps import Dependences
from looper.isl_scheduler import reschedule
from looper.legality import check
from looper.schedule import Schedule, ScheduleError


@dataclass(frozen=True)
class Options:
    """What the heuristic may do (the polycc-like --notile / --noparallel / --novector flags)."""

    tile: bool = True
    tile_size: int = 32
    parallel: bool = True
    vector: bool = True
    wavefront: bool = True  # skew tile loops into a parallel wavefront when nothing else is parallel


def isl_default(schedule: Schedule, deps: Dependences, options: Options = Options()) -> Schedule:
    """Apply the Pluto-like recipe on top of `schedule` (normally the identity)."""
    best = schedule.then(reschedule(schedule.scop, deps))
    if not check(best, deps):
        best = schedule
    for rep in _nest_representatives(best):
        best = _optimize_nest(best, deps, rep, options)
    return best


def _nest_representatives(schedule: Schedule) -> list[str]:
    """One statement per outermost loop nest."""
    low = schedule.lowered
    reps, seen = [], set()
    for s in low.rows:
        dims = low.loop_dims(s)
        if not dims or s in seen:
            continue
        members = low.members(s, dims[0])
        seen |= set(members)
        reps.append(s)
    return reps


def _try(schedule: Schedule, deps: Dependences, *steps: T.Transformation) -> Schedule | None:
    candidate = schedule.then(*steps)
    try:
        return candidate if check(candidate, deps) else None
    except ScheduleError:
        return None


def _band_depth(schedule: Schedule, stmt: str) -> int:
    """How many loops from the outermost around `stmt` are perfectly nested (at most 3)."""
    low = schedule.lowered
    dims = low.loop_dims(stmt)
    if not dims:
        return 0
    members = low.members(stmt, dims[0])
    n = 1
    while n < min(3, len(dims)) and low.members(stmt, dims[n]) == members:
        n += 1
    return n


def _optimize_nest(schedule: Schedule, deps: Dependences, rep: str, options: Options) -> Schedule:
    depth = _band_depth(schedule, rep)
    tiled = 0
    if options.tile:
        for n in range(depth, 1, -1):
            order = stride_one_order(schedule, rep, n)
            result = _try(schedule, deps, T.Tile(rep, 0, (options.tile_size,) * n, order))
            if result is not None:
                schedule, tiled = result, n
                break
    if options.parallel:
        for d in range(min(3, len(schedule.lowered.loop_dims(rep)))):
            result = _try(schedule, deps, T.Parallelize(rep, d))
            if result is not None:
                schedule = result
                break
        else:
            if options.wavefront and tiled >= 2:
                wave = (T.Skew(rep, 0, 1), T.Interchange(rep, 0, 1), T.Parallelize(rep, 1))
                schedule = _try(schedule, deps, *wave) or schedule
    if options.vector:
        low = schedule.lowered
        for s in low.members(rep, low.loop_dims(rep)[0]):
            d = len(low.loop_dims(s)) - 1
            schedule = _try(schedule, deps, T.Vectorize(s, d)) or schedule
            low = schedule.lowered
    return schedule


def stride_one_order(schedule: Schedule, stmt: str, n: int, depth: int = 0) -> tuple[int, ...]:
    """Intra-tile order of the `n` loops from `depth` around `stmt` that puts innermost the loop along
    which most accesses of the band's statements are stride-1 (the last subscript moves)."""
    low = schedule.lowered
    dims = low.loop_dims(stmt)[depth : depth + n]
    members = low.members(stmt, dims[0])
    score = [0] * n
    for s in members:
        statement = schedule.scop.statement(s)
        rows = [_coefficients(low.rows[s][d], statement.depth) for d in dims]
        for access in statement.accesses:
            subs = _subscript_coefficients(access.relation, statement.depth)
            if not subs:
                continue
            for k, row in enumerate(rows):
                moves = [any(c and r for c, r in zip(sub, row, strict=True)) for sub in subs]
                if moves[-1]:
                    score[k] += 2 if not any(moves[:-1]) else 1
                elif any(moves[:-1]):
                    score[k] -= 2  # a large stride
    inner = max(range(n), key=lambda k: (score[k], k))
    return tuple([k for k in range(n) if k != inner] + [inner])


def _coefficients(aff: isl.Aff, depth: int) -> list[int]:
    return [aff.get_coefficient_val(isl.dim_type.in_, i).to_python() for i in range(depth)]


def _subscript_coefficients(relation: isl.Map, depth: int) -> list[list[int]]:
    """Iterator coefficients of each subscript of an access (empty if not a single affine function)."""
    try:
        pma = isl.PwMultiAff.from_map(relation)
        if pma.n_piece() != 1:
            return []
        ma = pma.as_multi_aff()
    except isl.Error:
        return []
    return [_coefficients(ma.get_at(i), depth) for i in range(ma.dim(isl.dim_type.out))]
