"""Legality: a Schedule must respect every dependence; parallel and vector loops must carry none."""

from __future__ import annotations

from dataclasses import dataclass

import islpy as isl

from looper.deps import Dependences
from looper.schedule import Schedule, ScheduleError


@dataclass(frozen=True)
class Verdict:
    """Whether a schedule is legal, and if not, why (naming a violated dependence)."""

    legal: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.legal


LEGAL = Verdict(True)


def check(schedule: Schedule, deps: Dependences) -> Verdict:
    """Check a schedule against the dependences: order first, then every parallel and vector loop."""
    try:
        sched = schedule.union_map
        low = schedule.lowered
    except ScheduleError as exc:
        return Verdict(False, str(exc))
    before = sched.lex_lt_union_map(sched)
    for kind, dep in deps.by_kind().items():
        broken = dep.subtract(before)
        if not broken.is_empty():
            return Verdict(False, f"violates {kind} dependence {_example(broken)}")
    for what, marks in (("parallel", low.parallel), ("vector", low.vector)):
        for dim in sorted({d for _, d in marks}):
            stmts = sorted(s for s, d in marks if d == dim)
            carried = carried_at(schedule, deps, stmts, dim)
            if carried is not None:
                depth = low.depth_of(stmts[0], dim)
                return Verdict(False, f"{what} loop at depth {depth} around {stmts[0]} carries dependence {carried}")
    return LEGAL


def carried_at(schedule: Schedule, deps: Dependences, stmts: list[str], dim: int) -> str | None:
    """A dependence among `stmts` carried by schedule dimension `dim`, printed, or None if there is none."""
    sched = schedule.union_map
    names = set(stmts)
    for kind, dep in deps.by_kind().items():
        for m in _maps(dep):
            if m.get_tuple_name(isl.dim_type.in_) not in names or m.get_tuple_name(isl.dim_type.out) not in names:
                continue
            um = isl.UnionMap.from_map(m)
            times = um.apply_domain(sched).apply_range(sched)
            if times.is_empty():
                continue
            t = isl.Map.from_union_map(times)
            same_prefix = isl.Map.universe(t.get_space())
            for d in range(dim):
                same_prefix = same_prefix.equate(isl.dim_type.in_, d, isl.dim_type.out, d)
            inner = t.intersect(same_prefix)
            if not inner.is_subset(same_prefix.equate(isl.dim_type.in_, dim, isl.dim_type.out, dim)):
                return f"{kind} {_example(um)}"
    return None


def _maps(umap: isl.UnionMap) -> list[isl.Map]:
    lst = umap.get_map_list()
    return [lst.get_at(i) for i in range(lst.n_map())]


def _example(umap: isl.UnionMap) -> str:
    """A readable instance of a (union) map of dependences: one concrete pair when isl finds one."""
    first = _maps(umap)[0]
    try:
        point = first.sample()  # a single pair, with the parameters fixed too
        return f"{first.coalesce()} (e.g. {point})"
    except isl.Error:
        return str(first.coalesce())
