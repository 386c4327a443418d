"""Exact dataflow dependences of a Scop (RAW, WAR, WAW, scalars included), computed with isl."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import islpy as isl

from looper.depwalk import DependenceWalk
from looper.ir import Scop


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
    schedule = scop.schedule_map
    reads, writes = scop.reads, scop.writes

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
    # The scheduler's Farkas constraints are the same on a union as on each of its pieces, and far
    # cheaper on the simple pieces dataflow analysis gives than on the polytope coalescing makes of them
    # (a 7-point stencil's pieces merge into one of many faces: 0.6 s instead of 1 ms).
    pieces = raw.union(war).union(waw)
    return Dependences(raw.coalesce(), war.coalesce(), waw.coalesce(), pieces)


def maps_of(umap: isl.UnionMap) -> list[isl.Map]:
    """The maps of a union map, in isl's order."""
    lst = umap.get_map_list()
    return [lst.get_at(i) for i in range(lst.n_map())]
