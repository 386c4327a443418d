"""How many integer points an iteration domain holds, without enumerating them.

`instance_count` sums, loop by loop from the innermost, the trip count of each loop as a polynomial
in the enclosing loops' iterators (Faulhaber's formulas for sums of powers), over the pieces where
isl's parametric minimum and maximum of that loop are each one affine function. That is exact for
the domains loops with affine bounds make (boxes, triangles, min/max bounds, guards). A quasi-affine
bound floor(e/d) counts as its average value and a stride as no stride, which keeps the count close;
where the pieces multiply beyond a budget it gives the product of the loops' extents (an upper bound).
Its cost grows with the number of loops and pieces, never with the number of iterations.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from fractions import Fraction
from math import comb
from typing import TYPE_CHECKING, TypeVar

import islpy as isl

from looper.linalg import fraction

if TYPE_CHECKING:
    from looper.ir import Scop

IslObject = TypeVar("IslObject", isl.Set, isl.Map)

Poly = dict[tuple[int, ...], Fraction]  # exponents of x0..x{m-1} -> coefficient

L2_BYTES = 1024 * 1024  # a core's L2 (1 MiB on Zen 4, 2 MiB on the Xeons here): data that fits is reused from it
MAX_PIECES = 256  # convex pieces summed over, in all, before the box bound is used instead
MAX_TERMS = 4096  # terms of one polynomial, likewise


class _TooComplex(Exception):
    """The sum would need more pieces or terms than the budget allows."""


def fix_params(domain: IslObject, values: Mapping[str, int], default: int) -> IslObject:
    """`domain` (a set or a map) with every parameter set to its value (or `default`) and then projected out."""
    d = domain
    ctx = d.get_ctx()
    for i in range(d.dim(isl.dim_type.param)):
        value = values.get(d.get_dim_name(isl.dim_type.param, i) or "", default)
        d = d.fix_val(isl.dim_type.param, i, isl.Val.int_from_si(ctx, int(value)))
    return d.project_out(isl.dim_type.param, 0, d.dim(isl.dim_type.param))


def instance_count(domain: isl.Set, values: Mapping[str, int], default: int) -> float:
    """The number of points of `domain` with its parameters at `values` (or `default`): exact where
    the bounds are affine, close where they are quasi-affine (module docstring)."""
    fixed = fix_params(domain, values, default)
    if fixed.is_empty():
        return 0.0
    n = fixed.dim(isl.dim_type.set)
    if n == 0:
        return 1.0
    try:
        budget = [MAX_PIECES]
        # Every iterator but the innermost becomes a parameter: sums run from the innermost outwards.
        inner = fixed.move_dims(isl.dim_type.param, 0, isl.dim_type.set, 0, n - 1)
        return max(0.0, float(_sum_set(inner, {(0,) * n: Fraction(1)}, budget)))
    except (_TooComplex, isl.Error):
        return box_count(fixed, default)


def touched_bytes(scop: Scop, instances: Mapping[str, isl.Set]) -> dict[str, float]:
    """Per array, the bytes of its elements that the given instances of statements (statement name ->
    its instances) read or write, with the parameters at the scop's values."""
    touched: dict[str, isl.Set] = {}
    for name, points in instances.items():
        for access in scop.statement(name).accesses:
            elements = access.relation.intersect_domain(points).range()
            touched[access.array] = elements if access.array not in touched else touched[access.array].union(elements)
    return {array: (4 if scop.arrays[array].resolved_type == "float" else 8)
            * instance_count(elements.coalesce(), scop.param_values, 1) for array, elements in touched.items()}


def array_bytes(scop: Scop) -> dict[str, float] | None:
    """Per array, the bytes of its elements the whole region touches (None where the sizes are unknown)."""
    return touched_bytes(scop, {s.name: s.domain for s in scop.statements}) if scop.sized else None


def box_count(fixed: isl.Set, default: int) -> float:
    """The product of each dimension's extent (dim_max - dim_min + 1) of a parameter-free set; an
    unbounded dimension counts as `default` iterations."""
    total = 1.0
    for k in range(fixed.dim(isl.dim_type.set)):
        lo, hi = fixed.dim_min_val(k), fixed.dim_max_val(k)
        if lo.is_int() and hi.is_int():
            total *= max(0, hi.to_python() - lo.to_python() + 1)
        else:
            total *= default
    return total


def _sum_set(s: isl.Set, p: Poly, budget: list[int]) -> Fraction:
    """Sum of p(outer, x) over the points of `s` = [outer params] -> { [x] }, summed over x and then
    over the outer iterators (which are s's parameters, outermost first)."""
    m = s.dim(isl.dim_type.param)
    total = Fraction(0)
    for piece in _convex(s, budget):
        lower, upper = _pieces(piece.dim_min(0)), _pieces(piece.dim_max(0))
        for lo_dom, lo in lower:
            for hi_dom, hi in upper:
                cell = lo_dom.intersect(hi_dom)
                if cell.is_empty():
                    continue
                q = _sum_over_last(p, m + 1, lo, hi)
                if m == 0:
                    total += q.get((), Fraction(0))
                else:
                    # The next loop out: its iterator, the last parameter, becomes the set dimension.
                    total += _sum_set(cell.move_dims(isl.dim_type.set, 0, isl.dim_type.param, m - 1, 1), q, budget)
    return total


def _convex(s: isl.Set, budget: list[int]) -> list[isl.Set]:
    """Disjoint convex pieces of s; existential variables (strides) are dropped, which overcounts them,
    so that every slice of a piece is an interval."""
    out = []
    for b in s.make_disjoint().get_basic_sets():
        if b.dim(isl.dim_type.div):
            b = b.remove_divs()
        budget[0] -= 1
        if budget[0] < 0:
            raise _TooComplex
        out.append(isl.Set.from_basic_set(b))
    return out


def _pieces(pa: isl.PwAff) -> list[tuple[isl.Set, tuple[Fraction, ...]]]:
    """(domain, affine function of the parameters as coefficients then constant) per piece."""
    return [(dom, _affine(aff)) for dom, aff in pa.get_pieces()]


def _affine(aff: isl.Aff) -> tuple[Fraction, ...]:
    """Coefficients of the parameters, then the constant; a floor division floor(e/d) counts as
    e/d - (d-1)/(2d), its value on average (the count is then close, not exact)."""
    out = [fraction(aff.get_coefficient_val(isl.dim_type.param, i)) for i in range(aff.dim(isl.dim_type.param))]
    out.append(fraction(aff.get_constant_val()))
    for k in range(aff.dim(isl.dim_type.div)):
        weight = fraction(aff.get_coefficient_val(isl.dim_type.div, k))
        if weight:
            inner = aff.get_div(k)
            d = fraction(inner.get_denominator_val())
            out = [a + weight * b for a, b in zip(out, _affine(inner), strict=True)]
            out[-1] -= weight * (d - 1) / (2 * d)
    return tuple(out)


def _sum_over_last(p: Poly, m: int, lo: tuple[Fraction, ...], hi: tuple[Fraction, ...]) -> Poly:
    """sum_{x=lo}^{hi} p(y, x) as a polynomial in y, for p in m variables (x the last) and lo, hi
    affine in y; lo <= hi + 1 holds on the cell, where the formula counts exactly."""
    by_power: dict[int, Poly] = {}
    for e, c in p.items():
        by_power.setdefault(e[-1], {})[e[:-1]] = c
    below = (*lo[:-1], lo[-1] - 1)  # lo - 1
    out: Poly = {}
    for j, q in by_power.items():
        # sum_{x=lo}^{hi} x^j = F_j(hi) - F_j(lo - 1), F_j(n) = sum_{x=1}^{n} x^j
        diff = _add(_compose(_faulhaber(j), hi), _compose(_faulhaber(j), below), -1)
        _accumulate(out, _mul(q, diff))
    return out


@functools.lru_cache(maxsize=64)
def _faulhaber(j: int) -> tuple[Fraction, ...]:
    """Coefficients (of n^0, n^1, ...) of F_j(n) = sum_{x=1}^{n} x^j, from
    (n+1)^(j+1) - 1 = sum_{i<=j} C(j+1, i) F_i(n)."""
    rhs = [Fraction(comb(j + 1, k)) for k in range(j + 2)]  # (n+1)^(j+1)
    rhs[0] -= 1
    for i in range(j):
        for k, c in enumerate(_faulhaber(i)):
            rhs[k] -= comb(j + 1, i) * c
    return tuple(c / (j + 1) for c in rhs)


def _compose(f: tuple[Fraction, ...], a: tuple[Fraction, ...]) -> Poly:
    """f(a(y)) for a univariate polynomial f and an affine a (coefficients then constant)."""
    n = len(a) - 1
    base: Poly = {}
    for i, c in enumerate(a[:-1]):
        if c:
            base[tuple(1 if k == i else 0 for k in range(n))] = c
    if a[-1]:
        base[(0,) * n] = a[-1]
    out: Poly = {}
    power: Poly = {(0,) * n: Fraction(1)}
    for k, c in enumerate(f):
        if k:
            power = _mul(power, base)
        if c:
            _accumulate(out, {e: c * v for e, v in power.items()})
    return out


def _mul(a: Poly, b: Poly) -> Poly:
    out: Poly = {}
    for ea, ca in a.items():
        for eb, cb in b.items():
            e = tuple(x + y for x, y in zip(ea, eb, strict=True))
            out[e] = out.get(e, Fraction(0)) + ca * cb
    if len(out) > MAX_TERMS:
        raise _TooComplex
    return {e: c for e, c in out.items() if c}


def _add(a: Poly, b: Poly, sign: int = 1) -> Poly:
    out = dict(a)
    for e, c in b.items():
        out[e] = out.get(e, Fraction(0)) + sign * c
    return {e: c for e, c in out.items() if c}


def _accumulate(into: Poly, p: Poly) -> None:
    for e, c in p.items():
        into[e] = into.get(e, Fraction(0)) + c
        if not into[e]:
            del into[e]
