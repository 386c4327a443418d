"""A schedule tree from a 2d+1 schedule map: sequence nodes for the scalar dimensions, bands for the loops."""

from __future__ import annotations

import islpy as isl


def tree_from_schedule_map(domain: isl.UnionSet, schedule: isl.UnionMap, *, verify: bool = False) -> isl.Schedule:
    """Build an isl schedule tree that orders `domain` exactly as the 2d+1 `schedule` does.

    A dimension that is a constant for every statement becomes a sequence node (one filter per value,
    in increasing order) or nothing (one value); the other dimensions become band nodes, consecutive
    loop dimensions merged into one band when no scalar dimension between them tells statements apart.
    With `verify`, check that the tree's order equals the map's order (raises ValueError otherwise).
    """
    maps = {}
    for k in range(schedule.n_map()):
        m = schedule.get_map_list().get_at(k)
        maps[m.get_tuple_name(isl.dim_type.in_)] = m
    stmts = []
    sets = domain.get_set_list()
    for k in range(sets.n_set()):
        s = sets.get_at(k)
        name = s.get_tuple_name()
        if name not in maps:
            raise ValueError(f"the schedule has no map for statement {name}")
        stmts.append((name, s, maps[name]))
    n_dims = max((m.dim(isl.dim_type.out) for _n, _s, m in stmts), default=0)
    for name, _s, m in stmts:
        if m.dim(isl.dim_type.out) != n_dims:
            raise ValueError(f"the schedule of {name} has {m.dim(isl.dim_type.out)} dimensions, not {n_dims}")
    builder = _Builder({name: (s, m) for name, s, m in stmts}, n_dims)
    tree = isl.Schedule.from_domain(domain)
    root = tree.get_root()
    if stmts:
        root = builder.build(root.child(0), [name for name, _s, _m in stmts], 0)
    result = root.get_schedule()
    if verify and not same_order(result, domain, schedule):
        raise ValueError("the schedule tree does not order the statements as the schedule map does")
    return result


def same_order(tree: isl.Schedule, domain: isl.UnionSet, schedule: isl.UnionMap) -> bool:
    """Whether a schedule tree and a schedule map order the instances of `domain` the same way."""
    t = tree.get_map().intersect_domain(domain)
    s = schedule.intersect_domain(domain)
    return t.lex_lt_union_map(t).is_equal(s.lex_lt_union_map(s))


class _Builder:
    """Recursive construction; each step returns the node at the position it was given."""

    def __init__(self, stmts: dict[str, tuple[isl.Set, isl.Map]], n_dims: int) -> None:
        self.stmts = stmts
        self.n_dims = n_dims
        self._dims: dict[str, list[isl.PwAff]] = {}
        self._consts: dict[tuple[str, int], int | None] = {}
        for name, (_s, m) in stmts.items():
            pma = isl.PwMultiAff.from_map(m)
            self._dims[name] = [pma.get_pw_aff(k) for k in range(n_dims)]

    def _constant(self, name: str, k: int) -> int | None:
        """The value of dimension k of a statement's schedule if it is one integer everywhere."""
        key = (name, k)
        if key not in self._consts:
            self._consts[key] = self._compute_constant(name, k)
        return self._consts[key]

    def _compute_constant(self, name: str, k: int) -> int | None:
        pa = self._dims[name][k]
        if not pa.is_cst():
            return None
        pieces = pa.get_pieces()
        values = {aff.get_constant_val().to_python() for _set, aff in pieces}
        if len(values) != 1:
            return None
        v = values.pop()
        return v if isinstance(v, int) else None

    def _filter(self, names: list[str]) -> isl.UnionSet:
        out = isl.UnionSet.from_set(self.stmts[names[0]][0])
        for n in names[1:]:
            out = out.union(isl.UnionSet.from_set(self.stmts[n][0]))
        return out

    def build(self, node: isl.ScheduleNode, names: list[str], k: int) -> isl.ScheduleNode:
        if k >= self.n_dims:
            return node
        values = [self._constant(n, k) for n in names]
        if all(v is not None for v in values):
            distinct = sorted(set(values))  # type: ignore[type-var]
            if len(distinct) == 1:
                return self.build(node, names, k + 1)
            groups = [[n for n, v in zip(names, values, strict=True) if v == d] for d in distinct]
            filters = isl.UnionSetList.alloc(node.get_ctx(), len(groups))
            for g in groups:
                filters = filters.add(self._filter(g))
            node = node.insert_sequence(filters)
            for i, g in enumerate(groups):
                node = self.build(node.child(i).child(0), g, k + 1).parent().parent()
            return node
        # A band: this dimension and the following ones while they are loops or uniform constants.
        dims = [k]
        j = k + 1
        while j < self.n_dims:
            consts = [self._constant(n, j) for n in names]
            if all(c is not None for c in consts):
                if len(set(consts)) != 1:
                    break
                j += 1
                continue
            dims.append(j)
            j += 1
        node = node.insert_partial_schedule(self._band(names, dims))
        return self.build(node.child(0), names, dims[-1] + 1).parent()

    def _band(self, names: list[str], dims: list[int]) -> isl.MultiUnionPwAff:
        """The partial schedule of the given dimensions over the given statements."""
        mupa = None
        for d in dims:
            upa = None
            for n in names:
                u = isl.UnionPwAff.from_pw_aff(self._dims[n][d])
                upa = u if upa is None else upa.union_add(u)
            m = isl.MultiUnionPwAff.from_union_pw_aff(upa)
            mupa = m if mupa is None else mupa.flat_range_product(m)
        return mupa
