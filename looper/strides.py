"""Memory strides of accesses under a schedule: which loop moves the last subscript."""

from __future__ import annotations

from collections.abc import Sequence

import islpy as isl
import numpy as np

from looper.counting import array_bytes
from looper.schedule import Lowered, Schedule


def stride_one_order(schedule: Schedule, stmt: str, n: int, depth: int = 0) -> tuple[int, ...]:
    """Intra-tile order of the `n` loops from `depth` around `stmt` that puts innermost the loop along
    which most accesses of the band's statements are stride-1 (the last subscript moves)."""
    return point_orders(schedule, stmt, n, depth)[0][0]


def point_orders(schedule: Schedule, stmt: str, n: int, depth: int = 0, members: Sequence[str] = ()
                 ) -> list[tuple[tuple[int, ...], bool]]:
    """The `n` intra-tile orders with each loop innermost in turn, the best stride-1 choice first (most
    accesses of the band's statements, or of `members` of them, stride-1 along the innermost loop, few
    with a large stride), each with whether its innermost loop makes at least as many accesses stride-1
    as large-strided."""
    low = schedule.lowered
    dims = low.loop_dims(stmt)[depth : depth + n]
    members = members or low.members(stmt, dims[0])
    score, unit, large = [0] * n, [0] * n, [0] * n
    for s in members:
        statement = schedule.scop.statement(s)
        steps = directions(low, s, dims, statement.depth)
        for access in statement.accesses:
            subs = subscript_coefficients(access.relation, statement.depth)
            if not subs:
                continue
            for k, step in enumerate(steps):
                moves = [bool(np.dot(sub, step)) for sub in subs]
                if moves[-1] and not any(moves[:-1]):
                    score[k] += 2
                    unit[k] += 1
                elif moves[-1]:
                    score[k] += 1  # a diagonal: better than a column, still a large stride
                    large[k] += 1
                elif any(moves[:-1]):
                    score[k] -= 2  # a large stride
                    large[k] += 1
    inners = sorted(range(n), key=lambda k: (score[k], k), reverse=True)
    return [(tuple([k for k in range(n) if k != inner] + [inner]), unit[inner] >= large[inner]) for inner in inners]


def rows_crossed(schedule: Schedule, min_bytes: float) -> int:
    """Accesses to arrays of at least `min_bytes` that the innermost loop of an untiled statement walks
    across rows (a subscript other than the last moves): past the caches, each iteration loads a new
    cache line, and past a page a new TLB entry (trisolv's column order at LARGE: 0.58x)."""
    low = schedule.lowered
    scop = schedule.scop
    sizes = array_bytes(scop)
    if sizes is None:
        return 0
    crossed = 0
    for name, statement in ((s.name, s) for s in scop.statements):
        loops = low.loop_dims(name)
        if not loops or name in low.tiled:
            continue
        step = directions(low, name, loops[-1:], statement.depth)[0]
        for access in statement.accesses:
            subs = subscript_coefficients(access.relation, statement.depth)
            if len(subs) > 1 and any(np.dot(sub, step) for sub in subs[:-1]) \
                    and sizes[access.array] >= min_bytes:
                crossed += 1
    return crossed


def directions(low: Lowered, stmt: str, dims: list[int], depth: int) -> list[np.ndarray]:
    """How the original iterators of `stmt` move when one of the loops `dims` steps and the other loops
    stay: the columns of the inverse of its loop rows (a skewed loop walks a diagonal), scaled to
    integers; the rows themselves where the loops are not one unimodular-like square matrix (tiles)."""
    full = low.loop_dims(stmt)
    rows = np.array([coefficients(low.rows[stmt][d], depth) for d in full], dtype=float).reshape(len(full), depth)
    det = abs(np.linalg.det(rows)) if rows.shape[0] == rows.shape[1] else 0.0
    if det > 1e-9 and all(d in full for d in dims):
        adjugate = np.linalg.inv(rows) * det
        return [np.rint(adjugate[:, full.index(d)]).astype(int) for d in dims]
    return [np.array(coefficients(low.rows[stmt][d], depth), dtype=int) for d in dims]


def coefficients(aff: isl.Aff, depth: int) -> list[int]:
    return [aff.get_coefficient_val(isl.dim_type.in_, i).to_python() for i in range(depth)]


# Per access relation (held by the entry, so that its id stays unique): the search asks for the
# same accesses at every tiling candidate, and a relation with `%` subscripts costs milliseconds.
_SUBSCRIPTS: dict[tuple[int, int], tuple[isl.Map, list[list[int]]]] = {}
_SUBSCRIPTS_LIMIT = 1 << 14


def subscript_coefficients(relation: isl.Map, depth: int) -> list[list[int]]:
    """Iterator coefficients of each subscript of an access (empty if not a single affine function)."""
    entry = _SUBSCRIPTS.get((id(relation), depth))
    if entry is None:
        if len(_SUBSCRIPTS) >= _SUBSCRIPTS_LIMIT:
            _SUBSCRIPTS.clear()
        entry = _SUBSCRIPTS[(id(relation), depth)] = (relation, _subscript_coefficients(relation, depth))
    return [list(row) for row in entry[1]]


def _subscript_coefficients(relation: isl.Map, depth: int) -> list[list[int]]:
    try:
        pma = isl.PwMultiAff.from_map(relation)
        if pma.n_piece() != 1:
            return []
        ma = pma.as_multi_aff()
    except isl.Error:
        return []
    return [coefficients(ma.get_at(i), depth) for i in range(ma.dim(isl.dim_type.out))]
