"""A Pluto-class scheduler: tiling hyperplanes found one by one on isl (Bondhugula et al., PLDI 2008).

Each statement S gets affine hyperplanes phi_S(i) = c_S . i + c_S0. A hyperplane is valid if
phi_T(t) - phi_S(s) >= 0 on every dependence S[s] -> T[t] not yet strictly satisfied when its band
began: then every hyperplane of a band is, and the band is permutable (tileable). Among valid
hyperplanes the one minimising a bound u.N + w on the dependence distances is chosen (isl's exact
lexmin on the Farkas-dual constraints), linearly independent of the statement's earlier ones. When
none exists, the band ends; when a band cannot even start, the dependence graph's strongly connected
components are cut apart by a scalar dimension (loop distribution). The result is a per-statement
2d+1 schedule, a `Reschedule` step that later steps (tiling, parallelization, ...) build on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import islpy as isl
import numpy as np

from looper.counting import L2_BYTES, array_bytes
from looper.deps import Dependences
from looper.errors import LooperError
from looper.ilp import Rows, farkas, lexmin
from looper.ir import Scop
from looper.linalg import orthogonal, rank
from looper.transforms import Reschedule

FUSIONS = ("smart", "max", "none")  # Pluto's --smartfuse (default), --maxfuse, --nofuse: the search's seeds
# The plain path's policy: smart fusion that also keeps apart statements sharing no array larger than a
# core's L2; fused, they would share the loop and no data worth keeping in cache (gesummv's two
# matrix-vector products).
POLICIES = (*FUSIONS, "reuse")
# An iterator's coefficient in a hyperplane is at most this (isl's scheduler bounds them too): with
# constant loop bounds, a hyperplane such as 100*i + j has small dependence distances yet only
# linearizes the loops, and its coefficients grow geometrically band after band.
MAX_COEFFICIENT = 4
# The Farkas dual of a dependence polyhedron grows with its dimension (a 10-deep nest's 20-dimensional
# dependences take 15 s each): deeper statements get no Pluto-class schedule.
MAX_DEPTH = 7


@dataclass(frozen=True)
class Level:
    """One dimension of the result: a loop (a hyperplane per statement) or a scalar (a constant per statement)."""

    loop: bool
    rows: dict[str, tuple[int, ...]]  # statement -> (c_1..c_m, c_0); for a scalar level, (value,)
    band: int  # loop levels of one band share this number; -1 for a scalar level


@dataclass
class PlutoSchedule:
    """Pluto's result: levels outermost first, and the 2d+1 maps they give."""

    scop: Scop
    levels: list[Level]
    fusion: str
    coords: dict[str, isl.Map]  # statement -> its original loop coordinates, S[i] -> S[l] (see `_coordinates`)

    def bands(self) -> list[list[int]]:
        """Indices of the loop levels of each permutable band, outermost band first."""
        found: dict[int, list[int]] = {}
        for k, level in enumerate(self.levels):
            if level.loop:
                found.setdefault(level.band, []).append(k)
        return list(found.values())

    def maps(self) -> dict[str, isl.Map]:
        """Per-statement 2d+1 maps: loop levels at odd dimensions, scalar levels at even ones."""
        layout: list[tuple[str, int]] = []  # ("const", level or -1 for 0) / ("loop", level), alternating
        for k, level in enumerate(self.levels):
            if level.loop:
                if len(layout) % 2 == 0:
                    layout.append(("const", -1))
                layout.append(("loop", k))
            else:
                if len(layout) % 2 == 1:
                    layout.append(("loop", -1))  # padding: a constant loop dimension, no loop
                layout.append(("const", k))
        if len(layout) % 2 == 0:
            layout.append(("const", -1))
        result = {}
        params = f"[{', '.join(self.scop.params)}] -> " if self.scop.params else ""
        for s in self.scop.statements:
            names = tuple(f"l{k}" for k in range(s.depth))
            exprs = []
            for _, k in layout:
                if k < 0:
                    exprs.append("0")
                else:
                    exprs.append(_affine_text(self.levels[k].rows[s.name], names, self.levels[k].loop))
            text = f"{params}{{ {s.name}[{', '.join(names)}] -> [{', '.join(exprs)}] }}"
            on_coords = isl.Map(text, context=s.domain.get_ctx())
            result[s.name] = self.coords[s.name].apply_range(on_coords)
        return result

    def reschedule(self) -> Reschedule:
        """The schedule as a transformation step."""
        maps = self.maps()
        return Reschedule(tuple((s.name, str(maps[s.name])) for s in self.scop.statements))

    def band_of_dim(self) -> dict[int, int]:
        """The band number of each loop dimension of the 2d+1 maps (odd dimensions)."""
        result, dim = {}, 0
        for level in self.levels:
            if level.loop:
                if dim % 2 == 0:
                    dim += 1
                result[dim] = level.band
                dim += 1
            else:
                if dim % 2 == 1:
                    dim += 1
                dim += 1
        return result


def _affine_text(row: tuple[int, ...], iterators: tuple[str, ...], loop: bool) -> str:
    if not loop:
        return str(row[0])
    terms = [f"{c}*{it}" for c, it in zip(row[:-1], iterators, strict=True) if c]
    if row[-1] or not terms:
        terms.append(str(row[-1]))
    return " + ".join(terms)


class PlutoError(LooperError):
    """No Pluto schedule: a band that cannot start and no cut that helps (e.g. a dependence that needs a
    negative coefficient)."""


@dataclass
class _Dep:
    """One dependence relation between two statements and its instances not yet strictly satisfied."""

    src: str
    dst: str
    relation: isl.Map
    remaining: isl.Map  # instances whose every level so far has distance 0
    band_start: isl.Map  # `remaining` when the current band began (the band's constraints apply to it)
    farkas: Rows | None = None  # Farkas constraints of band_start, computed on demand


@dataclass
class _Problem:
    """The variables of one of Pluto's ILPs: u (one per parameter), w, then per statement c_m..c_1, c_0."""

    scop: Scop
    statements: list[str]
    offsets: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        k = len(self.scop.params) + 1
        for name in self.statements:
            self.offsets[name] = k
            k += self.scop.statement(name).depth + 1
        self.size = k

    def coefficient(self, stmt: str, index: int) -> int:
        """The variable of c_index (1-based iterator index; 0 = the constant)."""
        depth = self.scop.statement(stmt).depth
        base = self.offsets[stmt]
        return base + depth if index == 0 else base + depth - index


def schedule(scop: Scop, deps: Dependences, fusion: str = "smart") -> PlutoSchedule:
    """Pluto's affine transformation of `scop` under fusion policy `fusion` (one of POLICIES)."""
    if fusion not in POLICIES:
        raise ValueError(f"fusion policy {fusion!r}: one of {', '.join(POLICIES)}")
    if any(s.depth > MAX_DEPTH for s in scop.statements):
        raise PlutoError(f"a statement nested deeper than {MAX_DEPTH} loops")
    coords = _coordinates(scop)
    depdata = []
    relations = deps.pieces if deps.pieces is not None else deps.all
    for piece in _maps(relations.intersect_params(scop.context)):
        src, dst = _name(piece, isl.dim_type.in_), _name(piece, isl.dim_type.out)
        for basic in piece.get_basic_maps():  # simple pieces: cheap Farkas duals (Dependences.pieces)
            m = isl.Map.from_basic_map(basic).apply_domain(coords[src]).apply_range(coords[dst])
            depdata.append(_Dep(src, dst, m, m, m))
    depdata = [d for d in depdata if not d.relation.is_empty()]
    hyper: dict[str, list[tuple[int, ...]]] = {s.name: [] for s in scop.statements}
    levels: list[Level] = []
    band, band_size = 0, 0
    # Pluto's policies: no fusion separates every strongly connected component at once; smart fusion
    # those of different depth; maximal fusion cuts only where no hyperplane is left.
    if fusion == "none":
        _cut(scop, depdata, levels, lambda a, b: True, force=True)
    elif fusion in ("smart", "reuse"):
        dims = {s.name: s.depth for s in scop.statements}
        large = _large_arrays(scop) if fusion == "reuse" else None

        def apart(a: list[str], b: list[str]) -> bool:
            if max(dims[s] for s in a) != max(dims[s] for s in b):
                return True
            return large is not None and not set().union(*(large[s] for s in a)) & set().union(*(large[s] for s in b))

        _cut(scop, depdata, levels, apart, force=True)
    limit = 4 * sum(s.depth for s in scop.statements) + 2 * len(scop.statements) + 4
    while not all(rank(hyper[s.name]) == s.depth for s in scop.statements):
        if len(levels) > limit:
            raise PlutoError("no progress")
        rows = _hyperplane(scop, depdata, hyper)
        if rows is not None:
            for s in scop.statements:
                hyper[s.name].append(rows[s.name][:-1])
            levels.append(Level(True, rows, band))
            band_size += 1
            for d in depdata:
                d.remaining = d.remaining.intersect(_distance_zero(d, rows))
            continue
        if band_size:  # end the band: the next one need not respect what this one satisfied
            band, band_size = band + 1, 0
            for d in depdata:
                d.band_start, d.farkas = d.remaining, None
            continue
        if not _cut(scop, depdata, levels, lambda a, b: True):
            raise PlutoError("no hyperplane and no cut between strongly connected components")
        band += 1
    # Statements that share every loop may still need ordering among themselves (dependences of distance
    # 0 at every level): a cut between their components does it.
    unsatisfied = lambda: any(not d.remaining.is_empty() for d in depdata)
    if unsatisfied() and (not _cut(scop, depdata, levels, lambda a, b: True) or unsatisfied()):
        raise PlutoError("dependences left unsatisfied")
    # The rest run in textual order in their loop body. Left unordered, isl's code generator may put a
    # later statement first, and a dependence that points forward in the body would point backward:
    # gcc then cannot vectorize the loop (jacobi-2d's fused, shifted pair of statements).
    if len(scop.statements) > 1:
        levels.append(Level(False, {s.name: (k,) for k, s in enumerate(scop.statements)}, -1))
    return PlutoSchedule(scop, levels, fusion, coords)


def reschedule(scop: Scop, deps: Dependences, fusion: str = "smart") -> Reschedule:
    """Pluto's schedule as a transformation step (raises PlutoError if there is none)."""
    return schedule(scop, deps, fusion).reschedule()


def _coordinates(scop: Scop) -> dict[str, isl.Map]:
    """Each statement's original loops as coordinates, S[i] -> S[l]: hyperplanes are sought over them, so
    that the non-negative orthant of Pluto's coefficients means "no loop runs against its original
    direction" (a loop written `j--` has coordinate -j) and lexmin prefers the original loop order."""
    result = {}
    for s in scop.statements:
        ma = isl.PwMultiAff.from_map(s.schedule).as_multi_aff()
        rows = [ma.get_at(i) for i in range(ma.dim(isl.dim_type.out))]
        loops = [r for r in rows if not r.is_cst()]
        if len(loops) != s.depth:
            raise PlutoError(f"{s.name}: its original schedule has {len(loops)} loops for {s.depth} iterators")
        if not s.depth:
            result[s.name] = isl.Map(f"{{ {s.name}[] -> {s.name}[] }}", context=s.domain.get_ctx())
            continue
        space = s.domain.get_space().from_domain().add_dims(isl.dim_type.out, s.depth)
        lst = isl.AffList.alloc(s.domain.get_ctx(), s.depth)
        for r in loops:
            lst = lst.add(r)
        m = isl.Map.from_multi_aff(isl.MultiAff.from_aff_list(space, lst))
        result[s.name] = m.set_tuple_name(isl.dim_type.out, s.name)
    return result


# --- the ILP ---------------------------------------------------------------------------------------

def _hyperplane(scop: Scop, deps: list[_Dep], hyper: dict[str, list[tuple[int, ...]]]
                ) -> dict[str, tuple[int, ...]] | None:
    """The next hyperplane of every statement (c_1..c_m, c_0), or None if no valid independent one exists.

    Statements that no dependence of the band connects are solved apart, each group with its own bound
    (u, w): the same hyperplanes, from ILPs a fraction of the size (deriche: 42 statements)."""
    active = [d for d in deps if not d.band_start.is_empty()]
    result: dict[str, tuple[int, ...]] = {}
    for group in _connected(scop, active):
        rows = _group_hyperplane(_Problem(scop, group), [d for d in active if d.src in group], hyper)
        if rows is None:
            return None
        result.update(rows)
    return result


def _group_hyperplane(problem: _Problem, deps: list[_Dep], hyper: dict[str, list[tuple[int, ...]]]
                      ) -> dict[str, tuple[int, ...]] | None:
    """`_hyperplane` for one connected group of statements."""
    scop = problem.scop
    n = problem.size
    # Every variable >= 0 (Pluto's non-negative orthant); iterator coefficients <= MAX_COEFFICIENT.
    base = [Rows(np.eye(n, dtype=np.int64), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool))]
    bounded = [problem.coefficient(name, i) for name in problem.statements
               for i in range(1, scop.statement(name).depth + 1)]
    base.append(Rows(-np.eye(n, dtype=np.int64)[bounded], np.full(len(bounded), MAX_COEFFICIENT, dtype=np.int64),
                     np.zeros(len(bounded), dtype=bool)))
    for d in deps:
        if d.farkas is None:
            d.farkas = farkas(d.band_start)
        base.append(_dependence_rows(problem, d))
    # Linear independence, Pluto-style: the new row has a non-negative component along each basis vector
    # of the orthogonal complement of the statement's rows, and a positive one along some. The basis
    # vectors' signs are a choice: if no hyperplane exists with them, the opposite signs are tried.
    statements = [scop.statement(name) for name in problem.statements]
    choices = [(s, orthogonal(hyper[s.name], s.depth)) for s in statements if rank(hyper[s.name]) < s.depth]
    patterns = [1, -1] if choices else [1]
    for pattern in patterns:
        extra_a, extra_b = [], []
        for s, basis in choices:
            total = np.zeros(n, dtype=np.int64)
            for r in basis:
                row = np.zeros(n, dtype=np.int64)
                for i, c in enumerate(r):
                    row[problem.coefficient(s.name, i + 1)] = pattern * c
                extra_a.append(row)
                extra_b.append(0)
                total += row
            extra_a.append(total)
            extra_b.append(-1)
        rows = base + ([Rows(np.array(extra_a), np.array(extra_b, dtype=np.int64), np.zeros(len(extra_b), dtype=bool))]
                       if extra_a else [])
        point = lexmin(Rows.stack(rows), n)
        if point is not None:
            return {s.name: tuple(point[problem.coefficient(s.name, i)] for i in (*range(1, s.depth + 1), 0))
                    for s in statements}
    return None


def _connected(scop: Scop, deps: list[_Dep]) -> list[list[str]]:
    """Groups of statements connected by the dependences (either direction), in textual order."""
    group = {s.name: k for k, s in enumerate(scop.statements)}
    for d in deps:
        a, b = group[d.src], group[d.dst]
        if a != b:
            group = {name: (a if g == b else g) for name, g in group.items()}
    found: dict[int, list[str]] = {}
    for s in scop.statements:
        found.setdefault(group[s.name], []).append(s.name)
    return list(found.values())


def _dependence_rows(problem: _Problem, d: _Dep) -> Rows:
    """Validity (delta >= 0) and bounding (u.N + w - delta >= 0) constraints of one dependence, over the
    ILP's variables: the Farkas constraints with the affine form's coefficients substituted."""
    scop = problem.scop
    n, p = problem.size, len(scop.params)
    ms, mt = scop.statement(d.src).depth, scop.statement(d.dst).depth
    # delta as linear forms over the variables, one per Farkas coordinate (c_cst, c_params, c_src, c_dst)
    delta = np.zeros((1 + p + ms + mt, n), dtype=np.int64)
    delta[0, problem.coefficient(d.dst, 0)] += 1
    delta[0, problem.coefficient(d.src, 0)] -= 1
    for i in range(ms):
        delta[1 + p + i, problem.coefficient(d.src, i + 1)] = -1
    for i in range(mt):
        delta[1 + p + ms + i, problem.coefficient(d.dst, i + 1)] = 1
    bound = -delta
    bound[0, p] += 1  # + w
    for j in range(p):
        bound[1 + j, j] += 1  # + u_j N_j
    assert d.farkas is not None
    f = d.farkas
    return Rows(np.vstack([f.a @ delta, f.a @ bound]), np.concatenate([f.b, f.b]), np.concatenate([f.eq, f.eq]))


# --- satisfaction and cuts -------------------------------------------------------------------------

def _distance_zero(d: _Dep, rows: dict[str, tuple[int, ...]]) -> isl.Map:
    """The instances of a dependence on which the hyperplane's distance phi_T(t) - phi_S(s) is 0."""
    space = d.relation.get_space()
    c = isl.Constraint.equality_alloc(isl.LocalSpace.from_space(space))
    src, dst = rows[d.src], rows[d.dst]
    for i, v in enumerate(src[:-1]):
        c = c.set_coefficient_val(isl.dim_type.in_, i, isl.Val.int_from_si(space.get_ctx(), -v))
    for i, v in enumerate(dst[:-1]):
        old = c.get_coefficient_val(isl.dim_type.out, i).to_python()
        c = c.set_coefficient_val(isl.dim_type.out, i, isl.Val.int_from_si(space.get_ctx(), old + v))
    c = c.set_constant_val(isl.Val.int_from_si(space.get_ctx(), dst[-1] - src[-1]))
    return isl.Map.universe(space).add_constraint(c)


def _large_arrays(scop: Scop) -> dict[str, set[str]]:
    """Per statement, the arrays it touches that are larger than a core's L2 (none where the parameters'
    values are unknown: then the reuse policy is smart fusion)."""
    sizes = array_bytes(scop)
    if sizes is None:
        return {s.name: set() for s in scop.statements}
    return {s.name: {a.array for a in s.accesses if sizes[a.array] > L2_BYTES} for s in scop.statements}


def _cut(scop: Scop, deps: list[_Dep], levels: list[Level], between: Callable[[list[str], list[str]], bool],
         *, force: bool = False) -> bool:
    """Add a scalar level ordering the strongly connected components of the remaining dependences
    (topologically, textual order among independent ones), split only where `between(a, b)` says so
    for consecutive components a, b. Returns whether a level was added: unless `force`, only if it
    satisfies a dependence (separating independent statements alone does not help a hyperplane)."""
    names = [s.name for s in scop.statements]
    edges: dict[str, set[str]] = {n: set() for n in names}
    for d in deps:
        if not d.remaining.is_empty() and d.src != d.dst:
            edges[d.src].add(d.dst)
    sccs = _components(names, edges)
    values, value = {}, 0
    for k, comp in enumerate(sccs):
        if k and between(sccs[k - 1], comp):
            value += 1
        for s in comp:
            values[s] = value
    if value == 0 or not (force or any(values[d.src] != values[d.dst] and not d.remaining.is_empty() for d in deps)):
        return False
    levels.append(Level(False, {s: (values[s],) for s in names}, -1))
    for d in deps:
        if values[d.src] != values[d.dst]:
            empty = isl.Map.empty(d.relation.get_space())
            d.remaining = d.band_start = empty
            d.farkas = None
    return True


def _components(names: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components in a topological order that keeps textual order where free."""
    reach = {n: set(edges[n]) for n in names}
    for k in names:  # transitive closure (Warshall): a handful of statements
        for a in names:
            if k in reach[a]:
                reach[a] |= reach[k]
    comps: list[list[str]] = []
    for a in names:
        if not any(a in c for c in comps):
            comps.append([b for b in names if b == a or (a in reach[b] and b in reach[a])])
    ordered: list[list[str]] = []
    while comps:  # the first component (textually) that no other remaining one reaches
        comp = next(c for c in comps
                    if not any(c[0] in reach[x] for other in comps if other is not c for x in other))
        ordered.append(comp)
        comps.remove(comp)
    return ordered


def _name(m: isl.Map, kind: isl.dim_type) -> str:
    return m.get_tuple_name(kind)


def _maps(umap: isl.UnionMap) -> list[isl.Map]:
    lst = umap.get_map_list()
    return [lst.get_at(i) for i in range(lst.n_map())]

