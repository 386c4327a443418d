"""The polyhedral IR: a Scop is parameters, arrays and statements with isl domains and accesses."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import islpy as isl

from looper.expr import Assign


@dataclass(frozen=True)
class Region:
    """Where a `#pragma scop` region sits in its source file."""

    path: Path | None  # None for a region read from a string
    start: int  # character offset of the first character of the `#pragma scop` line
    end: int  # character offset just past the `#pragma endscop` line (including its newline)
    line: int  # 1-based line of `#pragma scop`
    function: str | None  # name of the enclosing C function, if any

    def where(self) -> str:
        """`file:line` for messages."""
        return f"{self.path or '<string>'}:{self.line}"


@dataclass(frozen=True)
class Array:
    """An array (or a scalar, with no sizes) read or written in a Scop."""

    name: str
    element_type: str  # the C type as written, e.g. "DATA_TYPE" or "double"
    sizes: tuple[str, ...]  # declared extents as C text, outermost first; () for a scalar
    resolved_type: str | None = None  # the type after macro expansion ("double"), when known

    @property
    def is_scalar(self) -> bool:
        return not self.sizes


@dataclass(frozen=True)
class Access:
    """One read or write: a map from a statement's domain to the array elements it touches."""

    array: str
    relation: isl.Map  # e.g. [N] -> { S1[i, k, j] -> A[i, k] }
    is_write: bool


@dataclass(frozen=True)
class Statement:
    """One assignment of the Scop with its iteration domain, accesses and original schedule."""

    name: str  # isl tuple name, "S0", "S1", ... in textual order
    iterators: tuple[str, ...]  # enclosing loop iterators, outermost first
    domain: isl.Set  # [params] -> { S1[i, k, j] : ... }
    schedule: isl.Map  # original 2d+1 schedule, e.g. { S1[i, k, j] -> [0, i, 1, k, 0, j, 0] }
    body: Assign  # the assignment, printable with new iterator expressions
    accesses: tuple[Access, ...]  # writes and reads, in source order, scalars included
    line: int  # 1-based source line of the assignment
    column: int = 1
    span: tuple[int, int] | None = None  # character offsets of the assignment text in the file, `;` excluded

    @property
    def depth(self) -> int:
        return len(self.iterators)

    @property
    def reads(self) -> tuple[Access, ...]:
        return tuple(a for a in self.accesses if not a.is_write)

    @property
    def writes(self) -> tuple[Access, ...]:
        return tuple(a for a in self.accesses if a.is_write)


@dataclass(frozen=True)
class Scop:
    """A static control part: the unit looper analyses and transforms."""

    params: tuple[str, ...]  # symbolic sizes in the order isl spaces use them
    context: isl.Set  # constraints on the parameters, e.g. [N] -> { : N >= 1 }
    arrays: dict[str, Array]
    statements: tuple[Statement, ...]
    region: Region | None = None
    locals: dict[str, str] = field(default_factory=dict)  # scalars declared inside the region: name -> C type
    param_values: dict[str, int] = field(default_factory=dict)  # parameters whose value the macros fix

    @property
    def name(self) -> str:
        """A readable name: the enclosing function, or the region's place."""
        if self.region and self.region.function:
            return self.region.function
        return self.region.where() if self.region else "scop"

    @property
    def sized(self) -> bool:
        """Whether the macros fix every parameter's value, so that instances and footprints can be counted."""
        return all(p in self.param_values for p in self.params)

    def statement(self, name: str) -> Statement:
        """Look a statement up by its isl name."""
        for s in self.statements:
            if s.name == name:
                return s
        raise KeyError(name)

    @cached_property
    def domain(self) -> isl.UnionSet:
        """All statement instances."""
        return _union_set([s.domain for s in self.statements])

    @cached_property
    def reads(self) -> isl.UnionMap:
        """Every read access, domain-restricted."""
        return union_of_maps([a.relation.intersect_domain(s.domain) for s in self.statements for a in s.reads])

    @cached_property
    def writes(self) -> isl.UnionMap:
        """Every write access, domain-restricted."""
        return union_of_maps([a.relation.intersect_domain(s.domain) for s in self.statements for a in s.writes])

    @cached_property
    def schedule_map(self) -> isl.UnionMap:
        """The original (2d+1) schedule of all statements."""
        return union_of_maps([s.schedule.intersect_domain(s.domain) for s in self.statements])


def _union_set(sets: list[isl.Set]) -> isl.UnionSet:
    result: isl.UnionSet | None = None
    for s in sets:
        u = isl.UnionSet.from_set(s)
        result = u if result is None else result.union(u)
    return result if result is not None else isl.UnionSet.empty(isl.Space.params_alloc(isl.DEFAULT_CONTEXT, 0))


def union_of_maps(maps: list[isl.Map]) -> isl.UnionMap:
    """The union of maps (empty, in the default context, for none)."""
    result: isl.UnionMap | None = None
    for m in maps:
        u = isl.UnionMap.from_map(m)
        result = u if result is None else result.union(u)
    return result if result is not None else isl.UnionMap.empty(isl.Space.params_alloc(isl.DEFAULT_CONTEXT, 0))
