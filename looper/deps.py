"""Exact dataflow dependences of a Scop (RAW, WAR, WAW, scalars included), computed with isl."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import islpy as isl

from looper.depwalk import DependenceWalk
from looper.ir import Scop, union_of_maps


@dataclass(frozen=True)
class Dependences:
    """Direct dependences between statement instances: flow (RAW), anti (WAR), output (WAW)."""

    raw: isl.UnionMap
    war: isl.UnionMap
    waw: isl.UnionMap
    pieces: isl.UnionMap | None = None  # every dependence as dataflow analysis found it, not coalesced

    @cached_property
    def all(self) -> isl.UnionMap:
        """Every dependence, as one union map source -> sink."""
        return self.raw.union(self.war).union(self.waw).coalesce()

    def by_kind(self) -> dict[str, isl.UnionMap]:
        return {"RAW": self.raw, "WAR": self.war, "WAW": self.waw}

    @cached_property
    def relations(self) -> list[tuple[str, isl.Map]]:
        """Every dependence relation (one pair of statements each) with its kind, RAW first."""
        return [(kind, m) for kind, dep in self.by_kind().items() for m in maps_of(dep)]

    @cached_property
    def ends(self) -> list[tuple[str, str]]:
        """The source and sink statement of each relation."""
        return [(m.get_tuple_name(isl.dim_type.in_), m.get_tuple_name(isl.dim_type.out)) for _, m in self.relations]

    @cached_property
    def walk(self) -> DependenceWalk:
        """The relations' walk through schedule dimensions, shared by every schedule checked against them."""
        return DependenceWalk([m for _, m in self.relations])

    def __str__(self) -> str:
        return "\n".join(f"{k}: {v}" for k, v in self.by_kind().items())


def compute_dependences(scop: Scop) -> Dependences:
    """Last-writer (value-based) dependences: enough for legality, as every chain is preserved transitively."""
    if by_reference(scop):
        reads, writes, schedule = _tagged(scop)
    else:
        reads, writes, schedule = scop.reads, scop.writes, scop.schedule_map

    def flow(sink: isl.UnionMap, *, must: isl.UnionMap | None = None, may: isl.UnionMap | None = None,
             kill: isl.UnionMap | None = None) -> isl.UnionFlow:
        info = isl.UnionAccessInfo.from_sink(sink)
        if must is not None:
            info = info.set_must_source(must)
        if may is not None:
            info = info.set_may_source(may)
        if kill is not None:
            info = info.set_kill(kill)
        return info.set_schedule_map(schedule).compute_flow()

    raw = flow(reads, must=writes).get_must_dependence()
    war = flow(writes, may=reads, kill=writes).get_may_dependence()
    waw = flow(writes, must=writes).get_must_dependence()
    if reads is not scop.reads:  # drop the references: pairs of statement instances
        raw, war, waw = (d.domain_factor_domain().range_factor_domain() for d in (raw, war, waw))
    # The scheduler's Farkas constraints are the same on a union as on each of its pieces, and far
    # cheaper on the simple pieces dataflow analysis gives than on the polytope coalescing makes of them
    # (a 7-point stencil's pieces merge into one of many faces: 0.6 s instead of 1 ms).
    pieces = raw.union(war).union(waw)
    return Dependences(raw.coalesce(), war.coalesce(), waw.coalesce(), pieces)


def by_reference(scop: Scop) -> bool:
    """Whether to analyse each array reference apart: when an access relation is not one convex
    polyhedron without existential variables (a subscript with `%`, `/` or `?:`).

    Dataflow analysis takes all the accesses of a statement to an array as one relation; a stencil
    whose 27 neighbours wrap around (`A[(i + 1) % N]`, `A[i == 0 ? N - 1 : i - 1]`) makes it a union
    of hundreds of pieces with divisions, and the last-writer search on it takes minutes. Tagged with
    its reference, each access stays a few pieces, and the analysis takes seconds. The result is the
    same relation (the union over references of each reference's dependences); so is it without the
    schedule dimensions that hold one constant for every statement (half the time again). Affine
    accesses keep the untagged analysis, whose pieces the schedulers were tuned on."""
    for statement in scop.statements:
        for access in statement.accesses:
            relation = access.relation.intersect_domain(statement.domain)
            if relation.n_basic_map() > 1 or any(b.dim(isl.dim_type.div) for b in relation.get_basic_maps()):
                return True
    return False


def _tagged(scop: Scop) -> tuple[isl.UnionMap, isl.UnionMap, isl.UnionMap]:
    """Reads, writes and the schedule on instances tagged with their reference: `[S[i] -> S_ref2[]] -> A[...]`."""
    reads: list[isl.Map] = []
    writes: list[isl.Map] = []
    schedules: list[isl.Map] = []
    padding = _same_constant_dims([s.schedule for s in scop.statements])
    for statement in scop.statements:
        domain = statement.domain
        schedule = statement.schedule.intersect_domain(domain)
        for d in reversed(padding):  # the same for every instance: no part in the order, but in the cost
            schedule = schedule.project_out(isl.dim_type.out, d, 1)
        for k, access in enumerate(statement.accesses):
            ref = isl.Set.universe(isl.Space.set_alloc(domain.get_ctx(), 0, 0))
            ref = ref.set_tuple_name(f"{statement.name}_ref{k}")
            untag = isl.Map.from_domain_and_range(domain, ref).wrap().unwrap().domain_map()  # [S -> ref] -> S
            (writes if access.is_write else reads).append(untag.apply_range(access.relation.intersect_domain(domain)))
            schedules.append(untag.apply_range(schedule))
    return union_of_maps(reads), union_of_maps(writes), union_of_maps(schedules)


def _same_constant_dims(schedules: list[isl.Map]) -> list[int]:
    """The schedule dimensions that hold one constant, the same in every statement's schedule."""
    found = []
    for d in range(schedules[0].dim(isl.dim_type.out) if schedules else 0):
        values = {str(m.plain_get_val_if_fixed(isl.dim_type.out, d)) for m in schedules}
        if len(values) == 1 and values != {"NaN"}:
            found.append(d)
    return found


def maps_of(umap: isl.UnionMap) -> list[isl.Map]:
    """The maps of a union map, in isl's order."""
    lst = umap.get_map_list()
    return [lst.get_at(i) for i in range(lst.n_map())]
