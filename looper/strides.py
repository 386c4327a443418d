"""Memory strides of accesses under a schedule: which loop moves the last subscript."""

from __future__ import annotations

import islpy as isl

from looper.schedule import Schedule


def stride_one_order(schedule: Schedule, stmt: str, n: int, depth: int = 0) -> tuple[int, ...]:
    """Intra-tile order of the `n` loops from `depth` around `stmt` that puts innermost the loop along
    which most accesses of the band's statements are stride-1 (the last subscript moves)."""
    return point_orders(schedule, stmt, n, depth)[0]


def point_orders(schedule: Schedule, stmt: str, n: int, depth: int = 0) -> list[tuple[int, ...]]:
    """The `n` intra-tile orders with each loop innermost in turn, the best stride-1 choice first (most
    accesses of the band's statements stride-1 along the innermost loop, few with a large stride)."""
    low = schedule.lowered
    dims = low.loop_dims(stmt)[depth : depth + n]
    members = low.members(stmt, dims[0])
    score = [0] * n
    for s in members:
        statement = schedule.scop.statement(s)
        rows = [coefficients(low.rows[s][d], statement.depth) for d in dims]
        for access in statement.accesses:
            subs = subscript_coefficients(access.relation, statement.depth)
            if not subs:
                continue
            for k, row in enumerate(rows):
                moves = [any(c and r for c, r in zip(sub, row, strict=True)) for sub in subs]
                if moves[-1]:
                    score[k] += 2 if not any(moves[:-1]) else 1
                elif any(moves[:-1]):
                    score[k] -= 2  # a large stride
    inners = sorted(range(n), key=lambda k: (score[k], k), reverse=True)
    return [tuple([k for k in range(n) if k != inner] + [inner]) for inner in inners]


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
