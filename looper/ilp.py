"""Integer linear constraint systems, solved exactly on isl: the Farkas duals of dependence relations
and the lexicographic minimum of Pluto's ILPs."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import islpy as isl
import numpy as np

from looper.linalg import fraction, integer_multiple


@dataclass(frozen=True)
class Rows:
    """Linear constraints a . v + b >= 0 (== 0 where `eq`), one per row."""

    a: np.ndarray  # int64, rows x variables
    b: np.ndarray  # int64
    eq: np.ndarray  # bool

    @staticmethod
    def stack(parts: list[Rows]) -> Rows:
        """All the parts' rows, in order."""
        return Rows(np.vstack([p.a for p in parts]), np.concatenate([p.b for p in parts]),
                    np.concatenate([p.eq for p in parts]))


def farkas(relation: isl.Map) -> Rows:
    """The constraints on the coefficients of the affine forms >= 0 on the relation, over (constant,
    parameters, input dimensions, output dimensions): Pluto's (c_cst, c_params, c_src, c_dst)."""
    return _farkas_of(str(relation))


@functools.lru_cache(maxsize=4096)
def _farkas_of(text: str) -> Rows:
    """`farkas` by the relation's text: the fusion policies, the plain path and the search's seeds ask
    for the same relations, and a stencil's (a coalesced polytope of many faces) cost up to a second."""
    # isl's Farkas dual takes no existentially quantified variables (a `%` subscript or a strided loop
    # makes them): they are dropped, which enlarges the relation, so the constraints only get stronger.
    coeffs = isl.Map(text).remove_divs().wrap().coefficients()
    nd = coeffs.dim(isl.dim_type.set)
    a, b, eq = [], [], []
    for c in coeffs.get_constraints():
        vals = [fraction(c.get_coefficient_val(isl.dim_type.set, i)) for i in range(nd)]
        vals.append(fraction(c.get_constant_val()))
        ints = integer_multiple(vals)
        a.append(ints[:-1])
        b.append(ints[-1])
        eq.append(c.is_equality())
    return Rows(np.array(a, dtype=np.int64).reshape(len(a), nd), np.array(b, dtype=np.int64),
                np.array(eq, dtype=bool))


def lexmin(rows: Rows, n: int) -> tuple[int, ...] | None:
    """The lexicographically smallest integer point of the constraints, or None if there is none."""
    # Farkas duals repeat many constraints: each is divided by the gcd of its coefficients (rounding the
    # constant down, exact for integer points) and kept once, the tightest of those alike.
    g = np.gcd.reduce(np.abs(rows.a), axis=1)
    empty = g == 0
    if np.any(empty & rows.eq & (rows.b != 0)) or np.any(empty & ~rows.eq & (rows.b < 0)):
        return None
    keep = ~empty
    a, b, eq, g = rows.a[keep], rows.b[keep], rows.eq[keep], g[keep]
    if np.any(eq & (b % g != 0)):
        return None
    a, b = a // g[:, None], np.floor_divide(b, g)
    inequalities: dict[tuple[int, ...], int] = {}
    for coefficients, constant in zip(map(tuple, a[~eq].tolist()), b[~eq].tolist(), strict=True):
        inequalities[coefficients] = min(inequalities.get(coefficients, constant), constant)
    equalities = {(*coefficients, constant) for coefficients, constant
                  in zip(map(tuple, a[eq].tolist()), b[eq].tolist(), strict=True)}
    return _solve(tuple(sorted(inequalities.items())), tuple(sorted(equalities)), n)


@functools.lru_cache(maxsize=4096)
def _solve(inequalities: tuple, equalities: tuple, n: int) -> tuple[int, ...] | None:
    """`lexmin` of deduplicated constraints; the fusion policies and the seeds pose many alike."""
    feasible = _basic_set(inequalities, equalities, n)
    # isl's lexmin works on every constraint it is given; most of the Farkas rows are redundant, and
    # dropping them first takes it from seconds to milliseconds on a periodic stencil's ILP.
    point = feasible.remove_redundancies().lexmin().sample_point()
    if point.is_void():
        return None
    return tuple(point.get_coordinate_val(isl.dim_type.set, i).to_python() for i in range(n))


def _basic_set(inequalities: tuple, equalities: tuple, n: int) -> isl.BasicSet:
    """The set of `_solve`'s constraints over n variables, built by constraint objects.

    Neither isl's text parser nor adding the constraints one by one is used: both simplify the whole
    set once per constraint, quadratic in their number (deriche's 800-row ILPs: 0.2 s each to build).
    Intersecting them pairwise, as a balanced tree, simplifies each constraint log n times."""
    ctx = isl.DEFAULT_CONTEXT
    space = isl.Space.set_alloc(ctx, 0, n)
    local = isl.LocalSpace.from_space(space)
    parts = []
    for alloc, coefficients, constant in [*((isl.Constraint.inequality_alloc, a, a0) for a, a0 in inequalities),
                                          *((isl.Constraint.equality_alloc, e[:-1], e[-1]) for e in equalities)]:
        c = alloc(local)
        for i, v in enumerate(coefficients):
            if v:
                c = c.set_coefficient_val(isl.dim_type.set, i, isl.Val.int_from_si(ctx, v))
        if constant:
            c = c.set_constant_val(isl.Val.int_from_si(ctx, constant))
        parts.append(isl.BasicSet.from_constraint(c))
    if not parts:
        return isl.BasicSet.universe(space)
    while len(parts) > 1:
        parts = [parts[i].intersect(parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    return parts[0]
