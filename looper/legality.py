"""Legality: a Schedule must respect every dependence; parallel and vector loops must carry none.

Every question is answered by walking each dependence relation through the schedule's rows
(`looper.depwalk`): exact isl emptiness tests on the dependence pairs, cached per pair of rows for
all the schedules of a search, so that a candidate costs isl work only where its last step changed
a row. The reason given for a rejection is built only when it is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import islpy as isl

from looper.deps import Dependences, maps_of
from looper.schedule import Lowered, Schedule, ScheduleError


@dataclass(frozen=True)
class Verdict:
    """Whether a schedule is legal, and if not, why (naming a violated dependence)."""

    legal: bool
    why: str | Callable[[], str] = field(default="", repr=False, compare=False)

    @property
    def reason(self) -> str:
        return self.why() if callable(self.why) else self.why

    def __bool__(self) -> bool:
        return self.legal


LEGAL = Verdict(True)


def check(schedule: Schedule, deps: Dependences) -> Verdict:
    """Check a schedule against the dependences: order first, then every parallel and vector loop."""
    try:
        low = schedule.lowered
    except ScheduleError as exc:
        return Verdict(False, str(exc))
    walk = deps.walk
    answers = walk.answers
    text = {s: low.text(s) for s in low.rows}
    for index, (src, dst) in enumerate(deps.ends):
        key = (index, text[src], text[dst])
        ok = answers.get(key)
        if ok is None:
            ok = answers[key] = walk.respects(index, low.rows[src], low.rows[dst], low.texts(src), low.texts(dst))
        if not ok:
            kind, m = deps.relations[index]
            return Verdict(False, cache(lambda kind=kind, m=m: f"violates {kind} dependence {_violation(schedule, m)}"))
    for what, marks in (("parallel", low.parallel), ("vector", low.vector)):
        for dim in sorted({d for _, d in marks}):
            stmts = sorted(s for s, d in marks if d == dim)
            found = _carried(schedule, deps, stmts, dim)
            if found is not None:
                depth = low.depth_of(stmts[0], dim)
                return Verdict(False, cache(lambda what=what, depth=depth, stmts=stmts, dim=dim, found=found: (
                    f"{what} loop at depth {depth} around {stmts[0]} carries dependence "
                    f"{_carried_text(schedule, stmts, dim, *found)}")))
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


def _violation(schedule: Schedule, m: isl.Map) -> str:
    """The pairs of `m` the schedule does not order, printed with an example."""
    maps = schedule.statement_maps
    times = _times(m, maps)
    n = times.dim(isl.dim_type.in_)
    later = isl.Map.lex_lt(isl.Space.set_alloc(m.get_ctx(), 0, n))
    return _example(isl.UnionMap.from_map(_restrict(m, maps, times.subtract(later))))


def carried_at(schedule: Schedule, deps: Dependences, stmts: list[str], dim: int) -> str | None:
    """A dependence carried by schedule dimension `dim` (the loop of `stmts`), printed, or None if there is none.

    Every dependence inside that loop counts, not only those among `stmts`: a statement whose row at
    `dim` is a constant in the loop's range shares the loop in the generated code (isl guards it,
    `if (c1 == 0)`), so it runs in parallel too. "Inside" means: the source's time has the prefix
    (dimensions before `dim`) of some instance of `stmts`; other loops at the same depth differ there."""
    found = _carried(schedule, deps, stmts, dim)
    return None if found is None else _carried_text(schedule, stmts, dim, *found)


def _carried(schedule: Schedule, deps: Dependences, stmts: list[str], dim: int) -> tuple[str, isl.Map] | None:
    """The first dependence (kind and relation) with pairs inside the loop that differ at `dim`."""
    low = schedule.lowered
    key = ("carried", low.rows_key(), tuple(stmts), dim)
    answers = deps.walk.answers
    if key not in answers:
        answers[key] = _first_carried(schedule, deps, stmts, dim)
    return answers[key]


def _first_carried(schedule: Schedule, deps: Dependences, stmts: list[str], dim: int) -> tuple[str, isl.Map] | None:
    low = schedule.lowered
    walk = deps.walk
    sources = _may_be_inside(low, stmts, dim)
    for index, ((kind, m), (src, dst)) in enumerate(zip(deps.relations, deps.ends, strict=True)):
        if src not in sources:
            continue
        node = walk.descend(index, low.rows[src], low.rows[dst], dim)
        if node is None:
            continue
        if src in stmts:  # every source instance is inside (its own time has its own prefix)
            child = walk.step(node, low.rows[src][dim], low.rows[dst][dim])
            if walk.later(child) or walk.earlier(child):
                return kind, m
            continue
        inner = walk.pairs(node).intersect_domain(_inside_sources(schedule, src, stmts, dim))
        a, b = isl.PwAff.from_aff(low.rows[src][dim]), isl.PwAff.from_aff(low.rows[dst][dim])
        if not (inner.intersect(a.lt_map(b)).is_empty() and inner.intersect(a.gt_map(b)).is_empty()):
            return kind, m
    return None


def _carried_text(schedule: Schedule, stmts: list[str], dim: int, kind: str, m: isl.Map) -> str:
    """A carried dependence printed as before: its pairs inside the loop that differ at `dim`."""
    maps = schedule.statement_maps
    t = _times(m, maps).intersect_domain(_prefixes(maps, stmts, dim))
    same_prefix = isl.Map.universe(t.get_space())
    for d in range(dim):
        same_prefix = same_prefix.equate(isl.dim_type.in_, d, isl.dim_type.out, d)
    inner = t.intersect(same_prefix)
    same_here = same_prefix.equate(isl.dim_type.in_, dim, isl.dim_type.out, dim)
    return f"{kind} {_example(isl.UnionMap.from_map(_restrict(m, maps, inner.subtract(same_here))))}"


def skew_may_help(schedule: Schedule, deps: Dependences, stmts: list[str], dims: list[int], *,
                  is_permutable: bool | None = None) -> bool:
    """Whether skewing inside the perfect band of `stmts` at schedule dimensions `dims` can gain anything:
    the band is not permutable (a dependence it carries has a negative component, so it cannot be
    tiled) or none of its loops is parallel (a wavefront could make one so). Otherwise a skew only
    adds index arithmetic, as Pluto, which skews only when it must, would not. `is_permutable`:
    the band's `permutable` result, when the caller has it already."""
    if all(_carried(schedule, deps, stmts, d) is not None for d in dims):
        return True
    if is_permutable is None:
        is_permutable = permutable(schedule, deps, stmts, dims)
    return not is_permutable


def permutable(schedule: Schedule, deps: Dependences, stmts: list[str], dims: list[int]) -> bool:
    """Whether no dependence inside the band (not carried by an outer loop) has a negative component
    at one of its dimensions: then any order of its loops, and tiling, is legal."""
    low = schedule.lowered
    key = ("permutable", low.rows_key(), tuple(stmts), tuple(dims))
    answers = deps.walk.answers
    found = answers.get(key)
    if found is None:
        found = answers[key] = _permutable(schedule, deps, stmts, dims)
    return found


def _permutable(schedule: Schedule, deps: Dependences, stmts: list[str], dims: list[int]) -> bool:
    low = schedule.lowered
    walk = deps.walk
    sources = _may_be_inside(low, stmts, dims[0])
    for index, (src, dst) in enumerate(deps.ends):
        if src not in sources:
            continue
        node = walk.descend(index, low.rows[src], low.rows[dst], dims[0])
        if node is None:
            continue
        if src in stmts:
            if any(walk.later(walk.step(node, low.rows[src][d], low.rows[dst][d])) for d in dims):
                return False
            continue
        inner = walk.pairs(node).intersect_domain(_inside_sources(schedule, src, stmts, dims[0]))
        for d in dims:
            a, b = isl.PwAff.from_aff(low.rows[src][d]), isl.PwAff.from_aff(low.rows[dst][d])
            if not inner.intersect(a.gt_map(b)).is_empty():
                return False
    return True


def _may_be_inside(low: Lowered, stmts: list[str], dim: int) -> set[str]:
    """The statements some of whose times may have the prefix (dimensions before `dim`) of an instance
    of `stmts`: not those that, against each of them, hold a different constant in a sequence dimension."""
    theirs = {low.constants(s)[:dim] for s in stmts}  # a loop's statements share most of their prefix
    found = set(stmts)
    for src in low.rows:
        if src in found:
            continue
        mine = low.constants(src)[:dim]
        if mine in theirs or any(
            not any(a is not None and b is not None and a != b for a, b in zip(mine, other, strict=True))
            for other in theirs
        ):
            found.add(src)
    return found


def _inside_sources(schedule: Schedule, src: str, stmts: list[str], dim: int) -> isl.Set:
    """The instances of `src` whose time has the prefix (dimensions before `dim`) of an instance of `stmts`."""
    maps = schedule.statement_maps
    return maps[src].intersect_range(_prefixes(maps, stmts, dim)).domain()


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
    return maps_of(umap)


def _example(umap: isl.UnionMap) -> str:
    """A readable instance of a (union) map of dependences: one concrete pair when isl finds one."""
    first = _maps(umap)[0]
    try:
        point = first.sample()  # a single pair, with the parameters fixed too
        return f"{first.coalesce()} (e.g. {point})"
    except isl.Error:
        return str(first.coalesce())
