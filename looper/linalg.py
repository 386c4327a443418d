"""Exact linear algebra on integer rows: rank and an integer basis of the null space; isl values as
exact fractions."""

from __future__ import annotations

from fractions import Fraction
from math import lcm
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import islpy as isl


def rank(rows: list[tuple[int, ...]]) -> int:
    """The rank of integer rows, exactly."""
    return len(_echelon([list(map(Fraction, r)) for r in rows]))


def _echelon(rows: list[list[Fraction]]) -> list[list[Fraction]]:
    """Row echelon form (nonzero rows only)."""
    rows = [r[:] for r in rows if any(r)]
    result = []
    col = 0
    width = len(rows[0]) if rows else 0
    while rows and col < width:
        pivot = next((r for r in rows if r[col] != 0), None)
        if pivot is None:
            col += 1
            continue
        rows.remove(pivot)
        rows = [[x - r[col] / pivot[col] * y for x, y in zip(r, pivot, strict=True)] for r in rows]
        rows = [r for r in rows if any(r)]
        result.append(pivot)
        col += 1
    return result


def orthogonal(rows: list[tuple[int, ...]], m: int) -> list[list[int]]:
    """An integer basis of the vectors orthogonal to every row (the null space), each with a positive
    first non-zero entry."""
    if not rows:
        return [_unit(m, i) for i in range(m)]
    echelon = _echelon([list(map(Fraction, r)) for r in rows])
    pivots: list[int] = []
    reduced: list[list[Fraction]] = []
    for r in echelon:  # reduce to reduced row echelon form
        col = next(i for i, x in enumerate(r) if x != 0)
        r = [x / r[col] for x in r]
        reduced = [[x - q[col] * y for x, y in zip(q, r, strict=True)] for q in reduced]
        reduced.append(r)
        pivots.append(col)
    basis = []
    for free in (i for i in range(m) if i not in pivots):
        v = [Fraction(0)] * m
        v[free] = Fraction(1)
        for r, col in zip(reduced, pivots, strict=True):
            v[col] = -r[free]
        ints = integer_multiple(v)
        first = next(x for x in ints if x)
        basis.append([x if first > 0 else -x for x in ints])
    return basis


def integer_multiple(values: list[Fraction]) -> list[int]:
    """The values scaled by the least common multiple of their denominators: integers in the same ratios."""
    scale = lcm(*(x.denominator for x in values))
    return [int(x * scale) for x in values]


def fraction(v: isl.Val) -> Fraction:
    """A rational isl value, exactly (its text, "p/q" or "p": no 64-bit limit on p or q)."""
    if not v.is_rat():
        raise ValueError(f"not a rational number: {v}")
    return Fraction(str(v))


def _unit(n: int, i: int) -> list[int]:
    """The i-th unit vector of length n."""
    v = [0] * n
    v[i] = 1
    return v
