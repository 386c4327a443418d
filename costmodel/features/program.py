"""Program-level (schedule-independent) features: domain and access matrices, per statement and per Scop."""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import islpy as isl
import numpy as np

from costmodel.features.expression import _expression_counts, expression_tokens
from costmodel.features.layout import (
    ACCESS_BLOCK,
    ACCESS_COLS,
    ACCESS_HEADER,
    COMP_DIM,
    CONSTRAINT_COLS,
    DEFAULT_PARAM,
    ELEMENT_BYTES,
    MAX_ARRAY_DIMS,
    MAX_CONSTRAINTS,
    MAX_DEPTH,
    MAX_EXPR_TOKENS,
    MAX_READS,
    N_EXPR_COUNTS,
    OFFSET,
    TOKEN_ID,
    _slog_array,
    ctype,
    described,
)
from looper.ir import Access, Scop, Statement
from looper.linalg import fraction


# --- program-level (static) features ----------------------------------------------------------
@dataclass
class StatementInfo:
    """What one statement contributes regardless of the schedule."""

    name: str
    depth: int
    dom_a: np.ndarray  # [m, depth] iterator coefficients of the domain constraints (params folded), every iterator
    dom_b: np.ndarray  # [m] constants
    dom_eq: np.ndarray  # [m] 1 for an equality
    lo: np.ndarray  # [depth] smallest value of each iterator
    hi: np.ndarray  # [depth] largest value
    log_instances: float
    access_headers: list[np.ndarray]  # write first, then reads (at most 1 + MAX_READS)
    access_m: list[np.ndarray]  # [rank, depth]: whole, for the strides; the blocks show MAX_ARRAY_DIMS rows
    access_c: list[np.ndarray]  # [rank]
    access_strides: list[np.ndarray]  # [rank] bytes between neighbours along each array dimension (row-major)
    tokens: np.ndarray  # [MAX_EXPR_TOKENS] token ids
    token_types: np.ndarray  # [MAX_EXPR_TOKENS] DTYPES ids
    n_tokens: int
    static: np.ndarray  # the computation vector with the schedule-independent blocks filled in


def _fold_params(scop: Scop, params: Sequence[str]) -> dict[str, int]:
    return {p: int(scop.param_values.get(p, DEFAULT_PARAM)) for p in params}


def _param_value(values: Mapping[str, int], name: str | None) -> int:
    """A parameter's value (DEFAULT_PARAM for one not given or without a name)."""
    return values.get(name, DEFAULT_PARAM) if name is not None else DEFAULT_PARAM


def _fixed_domain(stmt: Statement, values: dict[str, int]) -> isl.Set:
    d = stmt.domain
    ctx = d.get_ctx()
    for i in range(d.dim(isl.dim_type.param)):
        value = _param_value(values, d.get_dim_name(isl.dim_type.param, i))
        d = d.fix_val(isl.dim_type.param, i, isl.Val.int_from_si(ctx, value))
    return d.project_out(isl.dim_type.param, 0, d.dim(isl.dim_type.param))


def _int(v: isl.Val, default: float = 0.0) -> float:
    return float(fraction(v)) if v.is_rat() else default


def _domain_matrix(fixed: isl.Set, depth: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows: list[tuple[list[float], float, float]] = []
    if not fixed.is_empty():
        for c in fixed.polyhedral_hull().get_constraints():
            coeffs = [_int(c.get_coefficient_val(isl.dim_type.set, i)) for i in range(depth)]
            if any(coeffs):
                rows.append((coeffs, _int(c.get_constant_val()), 1.0 if c.is_equality() else 0.0))
    rows.sort(key=lambda r: (-r[2], [-abs(x) for x in r[0]], r[0], r[1]))  # canonical order: isl's may vary
    a = np.array([r[0] for r in rows], dtype=np.float64).reshape(len(rows), depth)
    return a, np.array([r[1] for r in rows]), np.array([r[2] for r in rows])


def _bounds(fixed: isl.Set, depth: int) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.zeros(depth), np.full(depth, DEFAULT_PARAM - 1.0)
    if fixed.is_empty():
        return lo, np.zeros(depth)
    for k in range(depth):
        a, b = fixed.dim_min_val(k), fixed.dim_max_val(k)
        lo[k] = _int(a, 0.0) if a.is_rat() else 0.0
        hi[k] = _int(b, lo[k] + DEFAULT_PARAM - 1) if b.is_rat() else lo[k] + DEFAULT_PARAM - 1
    return lo, hi


def _aff_linear(aff: isl.Aff, depth: int, values: dict[str, int]) -> tuple[list[float], float]:
    coeffs = [_int(aff.get_coefficient_val(isl.dim_type.in_, i)) for i in range(depth)]
    const = _int(aff.get_constant_val())
    for i in range(aff.dim(isl.dim_type.param)):
        c = _int(aff.get_coefficient_val(isl.dim_type.param, i))
        if c:
            const += c * _param_value(values, aff.get_dim_name(isl.dim_type.param, i))
    return coeffs, const


def _access_matrix(access: Access, depth: int, values: dict[str, int]) -> tuple[np.ndarray, np.ndarray, bool]:
    """Subscript coefficients and constants of an access; (zeros, False) when not a single affine function."""
    try:
        pma = isl.PwMultiAff.from_map(access.relation)
        if pma.n_piece() != 1:
            raise ValueError
        ma = pma.as_multi_aff()
        rank = ma.dim(isl.dim_type.out)
        m, c = np.zeros((rank, depth)), np.zeros(rank)
        for r in range(rank):
            aff = ma.get_at(r)
            if aff.dim(isl.dim_type.div):
                raise ValueError
            coeffs, const = _aff_linear(aff, depth, values)
            m[r], c[r] = coeffs, const
        return m, c, True
    except (isl.Error, ValueError):
        rank = access.relation.dim(isl.dim_type.out)
        return np.zeros((rank, depth)), np.zeros(rank), False


_EXTENT_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv}


def _size_value(text: str, values: dict[str, int]) -> float:
    """The value of an array extent such as `N`, `M + 1` or `2*N`; DEFAULT_PARAM when it cannot be known.

    Extents are written with the size macros (`N`) while loop bounds use their PolyBench aliases
    (`_PB_N`), so a name is looked up under both spellings."""
    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            for name in (node.id, f"_PB_{node.id}"):
                if name in values:
                    return float(values[name])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _EXTENT_OPS:
            return _EXTENT_OPS[type(node.op)](value(node.left), value(node.right))
        raise ValueError(ast.dump(node))

    # C integer suffixes (100L, 8u) and C's integer division, in Python's spelling.
    expression = re.sub(r"\b(\d+)[uUlL]+\b", r"\1", text.strip()).replace("/", "//")
    try:
        return max(1.0, value(ast.parse(expression, mode="eval").body))
    except (SyntaxError, ValueError, ZeroDivisionError, RecursionError):
        return float(DEFAULT_PARAM)


@dataclass
class ProgramFeatures:
    """Everything about a Scop that no schedule changes, ready for batching."""

    statements: list[StatementInfo]
    index: dict[str, int]
    tokens: np.ndarray  # [S, MAX_EXPR_TOKENS]
    token_types: np.ndarray  # [S, MAX_EXPR_TOKENS]
    token_lengths: np.ndarray  # [S]
    original_outer_sharing: dict[str, int] = field(default_factory=dict)


def program_features(scop: Scop) -> ProgramFeatures:
    """The schedule-independent features of a Scop (isl work: done once per program)."""
    values = _fold_params(scop, scop.params)
    arrays = list(scop.arrays)
    infos: list[StatementInfo] = []
    for stmt in scop.statements:
        fixed = _fixed_domain(stmt, values)
        dom_a, dom_b, dom_eq = _domain_matrix(fixed, stmt.depth)
        lo, hi = _bounds(fixed, stmt.depth)
        log_inst = float(np.sum(np.log2(np.maximum(hi - lo + 1, 1)))) if stmt.depth else 0.0
        headers, ms, cs, strides = [], [], [], []
        writes, reads = list(stmt.writes), list(stmt.reads)
        target = writes[0].array if writes else None
        for k, acc in enumerate((writes[:1] + reads)[: 1 + MAX_READS]):
            m, c, exact = _access_matrix(acc, stmt.depth, values)
            array = scop.arrays.get(acc.array)
            sizes = [_size_value(s, values) for s in array.sizes] if array else []
            element = (array.resolved_type or array.element_type) if array else None
            header = np.array([
                1.0,
                1.0 if k == 0 and acc.is_write else 0.0,
                m.shape[0] / MAX_ARRAY_DIMS,
                1.0 if acc.array == target else 0.0,
                1.0 if m.shape[0] == 0 else 0.0,
                *(1.0 if ctype(element) == t else 0.0 for t in (1, 2, 3)),
                (arrays.index(acc.array) + 1) / max(1, len(arrays)) if acc.array in arrays else 0.0,
                math.log2(1 + sum(a.array == acc.array for a in stmt.accesses)),
                math.log2(1 + float(np.prod(sizes))) / 8 if sizes else 0.0,
                1.0 if exact else 0.0,
            ])
            headers.append(header)
            # A scalar's header has no type one-hot (version 2 features), but its stride needs the type.
            strides.append(_byte_strides(sizes, m.shape[0], element if array else scop.locals.get(acc.array)))
            ms.append(m)  # whole: the blocks choose what to show (_access_block), the strides use it all
            cs.append(c)
        tokens = expression_tokens(stmt, scop)[:MAX_EXPR_TOKENS]
        tok = np.zeros(MAX_EXPR_TOKENS, dtype=np.int64)
        typ = np.zeros(MAX_EXPR_TOKENS, dtype=np.int64)
        for i, (t, kind) in enumerate(tokens):
            tok[i], typ[i] = TOKEN_ID[t], kind
        info = StatementInfo(stmt.name, stmt.depth, dom_a, dom_b, dom_eq, lo, hi, log_inst, headers, ms, cs,
                             strides, tok, typ, len(tokens), np.zeros(COMP_DIM))
        _fill_static(info, _expression_counts(tokens))
        infos.append(info)
    pf = ProgramFeatures(infos, {s.name: i for i, s in enumerate(infos)},
                         np.stack([s.tokens for s in infos]), np.stack([s.token_types for s in infos]),
                         np.array([max(1, s.n_tokens) for s in infos], dtype=np.int64))
    return pf


def _byte_strides(sizes: list[float], rank: int, element_type: str | None) -> np.ndarray:
    """Bytes from one element to the next along each dimension of a row-major array."""
    if len(sizes) != rank:  # e.g. a pointer parameter: its extents are unknown
        sizes = [float(DEFAULT_PARAM)] * rank
    out = np.empty(rank)
    step = float(ELEMENT_BYTES[ctype(element_type)])
    for d in range(rank - 1, -1, -1):
        out[d] = step
        step *= max(1.0, sizes[d])
    return out


def _constraint_block(a: np.ndarray, b: np.ndarray, eq: np.ndarray) -> np.ndarray:
    """Constraint rows [equality, coefficients of the described iterators, slog(constant)]; in a nest
    deeper than MAX_DEPTH, rows on undescribed iterators only are left out (they would read as 0 >= c)."""
    cols = described(a.shape[1], MAX_DEPTH)
    if len(cols) < a.shape[1]:
        a = a[:, list(cols)]
        keep = np.abs(a).max(axis=1) > 1e-9
        a, b, eq = a[keep], b[keep], eq[keep]
    block = np.zeros((MAX_CONSTRAINTS, CONSTRAINT_COLS))
    m = min(len(b), MAX_CONSTRAINTS)
    if m:
        block[:m, 0] = eq[:m]
        block[:m, 1 : 1 + a.shape[1]] = np.clip(a[:m], -8, 8)
        block[:m, -1] = _slog_array(b[:m])
    return block.ravel()


def _fill_static(info: StatementInfo, counts: np.ndarray) -> None:
    v = info.static
    o = OFFSET["domain"]
    v[o : o + MAX_CONSTRAINTS * CONSTRAINT_COLS] = _constraint_block(info.dom_a, info.dom_b, info.dom_eq)
    o = OFFSET["accesses"]
    for k, (h, m, c) in enumerate(zip(info.access_headers, info.access_m, info.access_c, strict=True)):
        base = o + k * ACCESS_BLOCK
        v[base : base + ACCESS_HEADER] = h
        v[base + ACCESS_HEADER : base + ACCESS_HEADER + MAX_ARRAY_DIMS * ACCESS_COLS] = _access_block(m, c)
    o = OFFSET["expression_counts"]
    v[o : o + N_EXPR_COUNTS] = counts


def _access_block(m: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Access rows [coefficients of the described iterators, slog(constant)], one per array dimension."""
    block = np.zeros((MAX_ARRAY_DIMS, ACCESS_COLS))
    r = min(m.shape[0], MAX_ARRAY_DIMS)
    if r:
        cols = described(m.shape[1], MAX_DEPTH)
        block[:r, : len(cols)] = np.clip(m[:r, list(cols)], -8, 8)
        block[:r, -1] = _slog_array(c[:r])
    return block.ravel()
