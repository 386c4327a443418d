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
    """Check a schedule against the dependences: order first, then every parallel and vector loop.

    Works one dependence relation (one pair of statements) at a time: much cheaper than
    comparing whole union maps, whose lexicographic order relates every pair of statements."""
    try:
        maps = schedule.statement_maps
        low = schedule.lowered
    except ScheduleError as exc:
        return Verdict(False, str(exc))
    n = low.n_dims
    later = isl.Map.lex_lt(isl.Space.set_alloc(next(iter(maps.values())).get_ctx(), 0, n))
    for kind, dep in deps.by_kind().items():
        for m in _maps(dep):
            times = _times(m, maps)
            if not times.is_subset(later):
                broken = _restrict(m, maps, times.subtract(later))
                return Verdict(False, f"violates {kind} dependence {_example(isl.UnionMap.from_map(broken))}")
    for what, marks in (("parallel", low.parallel), ("vector", low.vector)):
        for dim in sorted({d for _, d in marks}):
            stmts = sorted(s for s, d in marks if d == dim)
            carried = carried_at(schedule, deps, stmts, dim)
            if carried is not None:
                depth = low.depth_of(stmts[0], dim)
                return Verdict(False, f"{what} loop at depth {depth} around {stmts[0]} carries dependence {carried}")
    return LEGAL


def _src(m: isl.Map) -> str:
    return m.get_tuple_name(isl.dim_type.in_)


def _dst(m: isl.Map) -> str:
    return m.get_tuple_name(isl.dim_type.out)


def _times(m: isl.Map, maps: dict[str, isl.Map]) -> isl.Map:
    """A dependence relation as pairs of schedule times (source time -> sink time)."""
    return m.apply_domain(maps[_src(m)]).apply_range(maps[_dst(m)])


def _restrict(m: isl.Map, maps: dict[str, isl.Map], times: isl.Map) -> isl.Map:
    """The instances of dependence `m` whose times lie in `times`."""
    pairs = times.apply_domain(maps[_src(m)].reverse()).apply_range(maps[_dst(m)].reverse())
    return m.intersect(pairs)


def carried_at(schedule: Schedule, deps: Dependences, stmts: list[str], dim: int) -> str | None:
    """A dependence carried by schedule dimension `dim` (the loop of `stmts`), printed, or None if there is none.

    Every dependence inside that loop counts, not only those among `stmts`: a statement whose row at
    `dim` is a constant in the loop's range shares the loop in the generated code (isl guards it,
    `if (c1 == 0)`), so it runs in parallel too. "Inside" means: the source's time has the prefix
    (dimensions before `dim`) of some instance of `stmts`; other loops at the same depth differ there."""
    maps = schedule.statement_maps
    inside = _prefixes(maps, stmts, dim)
    for kind, dep in deps.by_kind().items():
        for m in _maps(dep):
            t = _times(m, maps).intersect_domain(inside)
            if t.is_empty():
                continue
            same_prefix = isl.Map.universe(t.get_space())
            for d in range(dim):
                same_prefix = same_prefix.equate(isl.dim_type.in_, d, isl.dim_type.out, d)
            inner = t.intersect(same_prefix)
            same_here = same_prefix.equate(isl.dim_type.in_, dim, isl.dim_type.out, dim)
            if not inner.is_subset(same_here):
                return f"{kind} {_example(isl.UnionMap.from_map(_restrict(m, maps, inner.subtract(same_here))))}"
    return None


def skew_may_help(schedule: Schedule, deps: Dependences, stmts: list[str], dims: list[int], *,
                  is_permutable: bool | None = None) -> bool:
    """Whether skewing inside the perfect band of `stmts` at schedule dimensions `dims` can gain anything:
    the band is not permutable (a dependence it carries has a negative component, so it cannot be
    tiled) or none of its loops is parallel (a wavefront could make one so). Otherwise a skew only
    adds index arithmetic, as Pluto, which skews only when it must, would not. `is_permutable`:
    the band's `permutable` result, when the caller has it already."""
    if all(carried_at(schedule, deps, stmts, d) is not None for d in dims):
        return True
    if is_permutable is None:
        is_permutable = permutable(schedule, deps, stmts, dims)
    return not is_permutable


def permutable(schedule: Schedule, deps: Dependences, stmts: list[str], dims: list[int]) -> bool:
    """Whether no dependence inside the band (not carried by an outer loop) has a negative component
    at one of its dimensions: then any order of its loops, and tiling, is legal."""
    maps = schedule.statement_maps
    inside = _prefixes(maps, stmts, dims[0])
    for dep in deps.by_kind().values():
        for m in _maps(dep):
            t = _times(m, maps).intersect_domain(inside)
            for d in range(dims[0]):  # not carried by an outer loop (nor ordered by an outer sequence)
                t = t.equate(isl.dim_type.in_, d, isl.dim_type.out, d)
            if t.is_empty():
                continue
            for d in dims:
                forward = isl.Map.universe(t.get_space()).order_le(isl.dim_type.in_, d, isl.dim_type.out, d)
                if not t.is_subset(forward):
                    return False
    return True


def _prefixes(maps: dict[str, isl.Map], stmts: list[str], dim: int) -> isl.Set:
    """Time points whose first `dim` dimensions equal those of some instance of `stmts`."""
    result: isl.Set | None = None
    for s in stmts:
        times = maps[s].range()
        n = times.dim(isl.dim_type.set)
        prefix = times.project_out(isl.dim_type.set, dim, n - dim).add_dims(isl.dim_type.set, n - dim)
        result = prefix if result is None else result.union(prefix)
    assert result is not None, "a loop holds at least one statement"
    return result


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
