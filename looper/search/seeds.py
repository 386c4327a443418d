"""Seeds of the search: rescheduled bases the beam starts from besides the original program, and the plain
Pluto-class paths (`--search pluto`, `--search isl`) that finish a base with Pluto's post-processing."""

from __future__ import annotations

from dataclasses import dataclass

import islpy as isl

from looper import isl_scheduler, pluto
from looper import transforms as T
from looper.deps import Dependences
from looper.legality import check
from looper.recipe import Options, apply_recipe
from looper.schedule import Schedule, ScheduleError

SCHEDULERS = ("pluto", "isl")


@dataclass(frozen=True)
class Seed:
    """A rescheduled base and where it came from (`pluto-smart`, `pluto-max`, `pluto-none`, `isl`)."""

    origin: str
    schedule: Schedule


def pluto_base(start: Schedule, deps: Dependences, fusion: str = "smart") -> Schedule | None:
    """`start` rescheduled by the Pluto-class scheduler with a fusion policy, or None if it finds none."""
    try:
        base = start.then(pluto.reschedule(start.scop, deps, fusion))
    except pluto.PlutoError:
        return None
    return base if _legal(base, deps) else None


def isl_base(start: Schedule, deps: Dependences) -> Schedule | None:
    """`start` rescheduled by isl's own scheduler, or None if it gives no usable (single-piece) schedule."""
    try:
        base = start.then(isl_scheduler.reschedule(start.scop, deps))
    except (ValueError, isl.Error):
        return None
    return base if _legal(base, deps) else None


def seeds(start: Schedule, deps: Dependences) -> list[Seed]:
    """Every distinct rescheduled base: Pluto-class under each fusion policy, then isl's scheduler."""
    found: list[Seed] = []
    fingerprints = {start.fingerprint()}
    candidates = [(f"pluto-{f}", pluto_base(start, deps, f)) for f in pluto.FUSIONS]
    candidates.append(("isl", isl_base(start, deps)))
    for origin, base in candidates:
        if base is not None and base.fingerprint() not in fingerprints:
            fingerprints.add(base.fingerprint())
            found.append(Seed(origin, base))
    return found


def plain(start: Schedule, deps: Dependences, scheduler: str = "pluto", options: Options = Options()) -> Schedule:
    """The plain path: the scheduler's base (Pluto's smart fusion keeping apart statements that share no
    array larger than L2, or isl's) finished by the recipe.

    A reschedule pays through the tiles and the parallel loops it allows; where the recipe finds neither
    worth making on it (a small time-iterated stencil in cache: jacobi-1d), the fused, skewed loops only
    cost vectorization, and the original program, finished by the recipe, is taken instead."""
    if scheduler not in SCHEDULERS:
        raise ValueError(f"scheduler {scheduler!r}: one of {', '.join(SCHEDULERS)}")
    base = pluto_base(start, deps, "reuse") if scheduler == "pluto" else isl_base(start, deps)
    if base is not None:
        result = apply_recipe(base, deps, options)
        if any(isinstance(t, T.Tile | T.Parallelize) for t in result.steps):
            return result
    return apply_recipe(start, deps, options)


def _legal(schedule: Schedule, deps: Dependences) -> bool:
    try:
        return bool(check(schedule, deps))
    except ScheduleError:
        return False


def search_starts(start: Schedule, deps: Dependences, options: Options = Options()) -> list[tuple[str, Schedule]]:
    """The beam's extra starts, named by origin: each rescheduled base, and each base (the original
    program too) finished by the recipe, which the beam's step-by-step levels cannot reach (a wavefront
    needs a skew of tile loops, after tiling)."""
    found = [(seed.origin, seed.schedule) for seed in seeds(start, deps)]
    finished = [(origin, apply_recipe(base, deps, options)) for origin, base in [("original", start), *found]]
    return found + finished
