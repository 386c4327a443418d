"""The Pluto-like default (`--search isl`): isl's schedule, tiled, stride-1 point loops, parallel, simd.

Every step is kept only if the result is legal, so the outcome is always a legal schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

from looper import transforms as T
from looper.deps import Dependences
from looper.isl_scheduler import reschedule
from looper.legality import check
from looper.schedule import Schedule, ScheduleError
from looper.search.candidates import bands, loops
from looper.strides import stride_one_order


@dataclass(frozen=True)
class Options:
    """What the heuristic may do (the polycc-like --notile / --noparallel / --novector flags)."""

    tile: bool = True
    tile_size: int = 32
    parallel: bool = True
    vector: bool = True
    wavefront: bool = True  # skew tile loops into a parallel wavefront when nothing else is parallel


def isl_default(schedule: Schedule, deps: Dependences, options: Options = Options()) -> Schedule:
    """Apply the Pluto-like recipe on top of `schedule` (normally the identity) and of isl's schedule
    for it, and keep whichever the analytical estimate prefers (isl's scheduler ignores strides)."""
    from looper.search.evaluators import AnalyticalEvaluator

    starts = [schedule]
    rescheduled = schedule.then(reschedule(schedule.scop, deps))
    if check(rescheduled, deps):
        starts.insert(0, rescheduled)
    results = [_recipe(s, deps, options) for s in starts]
    scores = AnalyticalEvaluator().score(results)
    return results[max(range(len(results)), key=lambda i: (scores[i], -i))]


def _recipe(schedule: Schedule, deps: Dependences, options: Options) -> Schedule:
    """Tile the outermost perfect bands, then parallelize and vectorize, keeping only legal steps."""
    tiled: dict[str, int] = {}  # statement -> depth of its tiled band
    if options.tile:
        for band in sorted(bands(schedule.lowered), key=lambda b: b.depth):
            if band.length < 2 or set(band.members) & set(tiled):
                continue
            for n in range(min(3, band.length), 1, -1):
                order = stride_one_order(schedule, band.stmt, n, band.depth)
                result = _try(schedule, deps, T.Tile(band.stmt, band.depth, (options.tile_size,) * n, order))
                if result is not None:
                    schedule = result
                    tiled.update({m: band.depth for m in band.members})
                    break
    if options.parallel:
        for rep in _nest_representatives(schedule):
            schedule = _parallelize(schedule, deps, rep, tiled.get(rep), options)
    if options.vector:
        for rep, depth, _, innermost in loops(schedule.lowered):
            if innermost:
                schedule = _try(schedule, deps, T.Vectorize(rep, depth)) or schedule
    return schedule


def _parallelize(schedule: Schedule, deps: Dependences, rep: str, tile_depth: int | None,
                 options: Options) -> Schedule:
    """Parallelize the outermost parallel loop of a nest, or a wavefront of its tiles."""
    for d in range(min(3, len(schedule.lowered.loop_dims(rep)))):
        result = _try(schedule, deps, T.Parallelize(rep, d))
        if result is not None:
            return result
    if options.wavefront and tile_depth is not None and tile_depth < 2:
        t = tile_depth
        wave = (T.Skew(rep, t, t + 1), T.Interchange(rep, t, t + 1), T.Parallelize(rep, t + 1))
        return _try(schedule, deps, *wave) or schedule
    return schedule


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
