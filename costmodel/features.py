"""LOOPer's representation of a (program, schedule) pair as fixed-size tensors.

Every field is documented in costmodel/FEATURES.md (the one place that names them). The work is
split as the design asks: `ProgramFeatures` holds what depends only on the program (original domains,
access matrices, expression tokens) and is computed once per Scop; `Featurizer.schedule()` adds what
a schedule changes (loop tree, transformed matrices, tags, unimodular steps) from `schedule.lowered`,
with a per-program cache of parsed schedule rows so that a search's thousands of candidates cost
little more than one `str(aff)` per row.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import islpy as isl
import numpy as np
import torch

from looper import transforms as T
from looper.expr import Assign, Binary, Call, Cast, Expr, Index, Name, Num, Ternary, Unary
from looper.ir import Access, Scop, Statement
from looper.schedule import Lowered, Schedule

FEATURE_VERSION = 1  # bump when any layout below changes (invalidates feature caches and checkpoints)

MAX_DEPTH = 6  # original loop iterators per statement
MAX_TILED = 3  # tile loops a statement can gain
MAX_LOOPS = MAX_DEPTH + MAX_TILED  # loops around a statement after tiling
MAX_CONSTRAINTS = 16  # rows of a domain constraint matrix
MAX_ARRAY_DIMS = 4  # rows of an access matrix
MAX_READS = 8  # read access matrices per statement
MAX_EXPR_TOKENS = 48  # expression tokens per statement
MAX_UNIMOD_STEPS = 8  # unimodular step matrices per statement (plus the leading identity)
DEFAULT_PARAM = 512  # value of a parameter no macro fixes
DTYPES = ("pad", "int", "float", "double", "other")

# --- expression tokens ------------------------------------------------------------------------
_BINARY = ("+", "-", "*", "/", "%", "<<", ">>", "<", "<=", ">", ">=", "==", "!=", "&", "^", "|", "&&", "||")
_UNARY = {"-": "neg", "+": "pos", "!": "not", "~": "bnot"}
_CALLS = ("sqrt", "exp", "log", "pow", "abs", "sin", "cos", "tan", "floor", "ceil", "max", "min")
TOKENS: tuple[str, ...] = (
    "pad", "store", "load0", "load1", "load2", "load3", "load4", "int_const", "float_const", "iter", "param",
    "scalar", *_BINARY, *_UNARY.values(), "ternary", "cast", *(f"call_{c}" for c in _CALLS), "call",
)
TOKEN_ID = {t: i for i, t in enumerate(TOKENS)}

# --- layout of the computation vector ---------------------------------------------------------
CONSTRAINT_COLS = 1 + MAX_DEPTH + 1  # equality flag, iterator coefficients, constant
ACCESS_HEADER = 12
ACCESS_COLS = MAX_DEPTH + 1
ACCESS_BLOCK = ACCESS_HEADER + 2 * MAX_ARRAY_DIMS * ACCESS_COLS  # header, original and transformed matrix
LOOP_ROW = 1 + MAX_DEPTH + 8  # present, coefficients, constant, tile?, size, point?, par, vec, unroll, trip
N_TAGS = 18
N_EXPR_COUNTS = 12
BLOCKS: tuple[tuple[str, int], ...] = (
    ("domain", MAX_CONSTRAINTS * CONSTRAINT_COLS),
    ("transformed_domain", MAX_CONSTRAINTS * CONSTRAINT_COLS),
    ("accesses", (1 + MAX_READS) * ACCESS_BLOCK),
    ("loops", MAX_LOOPS * LOOP_ROW),
    ("transform", MAX_DEPTH * MAX_DEPTH),
    ("tags", N_TAGS),
    ("expression_counts", N_EXPR_COUNTS),
)
COMP_DIM = sum(n for _, n in BLOCKS)
OFFSET = {}
_o = 0
for _name, _n in BLOCKS:
    OFFSET[_name] = _o
    _o += _n
LOOP_DIM = 16
UNIMOD_DIM = MAX_DEPTH * MAX_DEPTH


def slog(x: float) -> float:
    """Signed log2(1 + |x|): keeps constants like 4000 in a range a network likes."""
    return math.copysign(math.log2(1.0 + abs(x)), x)


def _slog_array(a: np.ndarray) -> np.ndarray:
    return np.sign(a) * np.log2(1.0 + np.abs(a))


def ctype(text: str | None) -> int:
    """The DTYPES index of a C type name (unresolved PolyBench DATA_TYPE counts as double)."""
    t = (text or "").lower()
    if "double" in t or t in ("data_type", ""):
        return 3
    if "float" in t:
        return 2
    if any(w in t for w in ("int", "long", "short", "char", "unsigned", "size_t", "bool")):
        return 1
    return 4


# --- program-level (static) features ----------------------------------------------------------
@dataclass
class StatementInfo:
    """What one statement contributes regardless of the schedule."""

    name: str
    depth: int
    dom_a: np.ndarray  # [m, depth] iterator coefficients of the domain constraints (params folded)
    dom_b: np.ndarray  # [m] constants
    dom_eq: np.ndarray  # [m] 1 for an equality
    lo: np.ndarray  # [depth] smallest value of each iterator
    hi: np.ndarray  # [depth] largest value
    log_instances: float
    access_headers: list[np.ndarray]  # write first, then reads (at most 1 + MAX_READS)
    access_m: list[np.ndarray]  # [rank, depth]
    access_c: list[np.ndarray]  # [rank]
    tokens: np.ndarray  # [MAX_EXPR_TOKENS] token ids
    token_types: np.ndarray  # [MAX_EXPR_TOKENS] DTYPES ids
    n_tokens: int
    static: np.ndarray  # the computation vector with the schedule-independent blocks filled in


def _fold_params(scop: Scop, params: Sequence[str]) -> dict[str, int]:
    return {p: int(scop.param_values.get(p, DEFAULT_PARAM)) for p in params}


def _fixed_domain(stmt: Statement, values: dict[str, int]) -> isl.Set:
    d = stmt.domain
    ctx = d.get_ctx()
    for i in range(d.dim(isl.dim_type.param)):
        d = d.fix_val(isl.dim_type.param, i, isl.Val.int_from_si(ctx, values.get(d.get_dim_name(isl.dim_type.param,
                                                                                                    i), DEFAULT_PARAM)))
    return d.project_out(isl.dim_type.param, 0, d.dim(isl.dim_type.param))


def _int(v: isl.Val, default: float = 0.0) -> float:
    if v.is_int():
        return float(v.to_python())
    if v.is_rat():
        return v.get_num_si() / v.get_den_val().to_python()
    return default


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
            const += c * values.get(aff.get_dim_name(isl.dim_type.param, i), DEFAULT_PARAM)
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


def _size_value(text: str, values: dict[str, int]) -> float:
    t = text.strip().strip("()")
    if t in values:
        return float(values[t])
    try:
        return float(int(t, 0))
    except ValueError:
        return float(DEFAULT_PARAM)


def expression_tokens(stmt: Statement, scop: Scop) -> list[tuple[str, int]]:
    """The statement body as a post-order token sequence of (token, DTYPES index)."""
    iterators = set(stmt.iterators)
    params = set(scop.params)

    def array_type(name: str) -> int:
        a = scop.arrays.get(name)
        if a is not None:
            return ctype(a.resolved_type or a.element_type)
        return ctype(scop.locals.get(name))

    out: list[tuple[str, int]] = []

    def visit(e: Expr) -> int:
        if isinstance(e, Num):
            text = e.text.lower()
            is_float = (not text.startswith("0x") and any(ch in text for ch in ".e")) or text.endswith("f")
            kind = (2 if text.endswith("f") else 3) if is_float else 1
            out.append(("float_const" if is_float else "int_const", kind))
            return kind
        if isinstance(e, Name):
            if e.name in iterators:
                out.append(("iter", 1))
                return 1
            if e.name in params:
                out.append(("param", 1))
                return 1
            kind = array_type(e.name)
            out.append(("scalar", kind))
            return kind
        if isinstance(e, Index):  # subscripts are in the access matrices, not in the token stream
            kind = array_type(e.array)
            out.append((f"load{min(len(e.indices), 4)}", kind))
            return kind
        if isinstance(e, Call):
            kinds = [visit(a) for a in e.args]
            name = e.func.lower().removesuffix("_fun").lstrip("_")
            name = {"fabs": "abs", "sqrtf": "sqrt", "expf": "exp", "powf": "pow", "fmax": "max", "fmin": "min"}.get(
                name, name)
            token = f"call_{name}" if name in _CALLS else "call"
            kind = 3 if name in _CALLS and name not in ("max", "min", "abs") else max(kinds, default=4)
            out.append((token, kind))
            return kind
        if isinstance(e, Unary):
            kind = visit(e.operand)
            out.append((_UNARY.get(e.op, "neg"), 1 if e.op == "!" else kind))
            return 1 if e.op == "!" else kind
        if isinstance(e, Binary):
            a, b = visit(e.left), visit(e.right)
            kind = 1 if e.op in ("<", "<=", ">", ">=", "==", "!=", "&&", "||") else _promote(a, b)
            out.append((e.op if e.op in TOKEN_ID else "+", kind))
            return kind
        if isinstance(e, Ternary):
            visit(e.cond)
            kind = _promote(visit(e.then), visit(e.else_))
            out.append(("ternary", kind))
            return kind
        if isinstance(e, Cast):
            visit(e.operand)
            kind = ctype(e.type)
            out.append(("cast", kind))
            return kind
        out.append(("scalar", 4))
        return 4

    body: Assign = stmt.body
    target_type = array_type(body.target.array)
    if body.op != "=":
        out.append((f"load{min(len(body.target.indices), 4)}", target_type))
    value_type = visit(body.value)
    if body.op != "=":
        op = body.op[:-1]
        out.append((op if op in TOKEN_ID else "+", _promote(target_type, value_type)))
    out.append(("store", target_type))
    return out


def _promote(a: int, b: int) -> int:
    order = {1: 0, 2: 1, 3: 2, 4: 3}
    return max(a, b, key=lambda k: order.get(k, 0))


def _expression_counts(tokens: list[tuple[str, int]]) -> np.ndarray:
    names = [t for t, _ in tokens]
    groups = [
        len(names),
        sum(t.startswith("load") for t in names),
        sum(t in ("+", "-") for t in names),
        sum(t == "*" for t in names),
        sum(t in ("/", "%") for t in names),
        sum(t.startswith("call") for t in names),
        sum(t.endswith("_const") for t in names),
        sum(t in ("<", "<=", ">", ">=", "==", "!=", "&&", "||", "not", "ternary") for t in names),
        sum(t in ("iter", "param", "scalar") for t in names),
    ]
    store = tokens[-1][1] if tokens else 4
    return np.array([math.log2(1 + g) for g in groups] + [store == 1, store == 2, store == 3], dtype=np.float64)


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
        n = min(stmt.depth, MAX_DEPTH)
        fixed = _fixed_domain(stmt, values)
        dom_a, dom_b, dom_eq = _domain_matrix(fixed, stmt.depth)
        lo, hi = _bounds(fixed, stmt.depth)
        log_inst = float(np.sum(np.log2(np.maximum(hi - lo + 1, 1)))) if stmt.depth else 0.0
        headers, ms, cs = [], [], []
        writes, reads = list(stmt.writes), list(stmt.reads)
        target = writes[0].array if writes else None
        for k, acc in enumerate((writes[:1] + reads)[: 1 + MAX_READS]):
            m, c, exact = _access_matrix(acc, stmt.depth, values)
            array = scop.arrays.get(acc.array)
            sizes = [_size_value(s, values) for s in array.sizes] if array else []
            header = np.array([
                1.0,
                1.0 if k == 0 and acc.is_write else 0.0,
                m.shape[0] / MAX_ARRAY_DIMS,
                1.0 if acc.array == target else 0.0,
                1.0 if m.shape[0] == 0 else 0.0,
                *(1.0 if ctype(array.resolved_type or array.element_type if array else None) == t else 0.0
                  for t in (1, 2, 3)),
                (arrays.index(acc.array) + 1) / max(1, len(arrays)) if acc.array in arrays else 0.0,
                math.log2(1 + sum(a.array == acc.array for a in stmt.accesses)),
                math.log2(1 + float(np.prod(sizes))) / 8 if sizes else 0.0,
                1.0 if exact else 0.0,
            ])
            headers.append(header)
            ms.append(m[:MAX_ARRAY_DIMS, :n])
            cs.append(c[:MAX_ARRAY_DIMS])
        tokens = expression_tokens(stmt, scop)[:MAX_EXPR_TOKENS]
        tok = np.zeros(MAX_EXPR_TOKENS, dtype=np.int64)
        typ = np.zeros(MAX_EXPR_TOKENS, dtype=np.int64)
        for i, (t, kind) in enumerate(tokens):
            tok[i], typ[i] = TOKEN_ID[t], kind
        info = StatementInfo(stmt.name, stmt.depth, dom_a[:, :n], dom_b, dom_eq, lo, hi, log_inst, headers, ms, cs,
                             tok, typ, len(tokens), np.zeros(COMP_DIM))
        _fill_static(info, _expression_counts(tokens))
        infos.append(info)
    pf = ProgramFeatures(infos, {s.name: i for i, s in enumerate(infos)},
                         np.stack([s.tokens for s in infos]), np.stack([s.token_types for s in infos]),
                         np.array([max(1, s.n_tokens) for s in infos], dtype=np.int64))
    return pf


def _constraint_block(a: np.ndarray, b: np.ndarray, eq: np.ndarray) -> np.ndarray:
    block = np.zeros((MAX_CONSTRAINTS, CONSTRAINT_COLS))
    m = min(len(b), MAX_CONSTRAINTS)
    if m:
        block[:m, 0] = eq[:m]
        block[:m, 1 : 1 + a.shape[1]] = np.clip(a[:m, :MAX_DEPTH], -8, 8)
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
    block = np.zeros((MAX_ARRAY_DIMS, ACCESS_COLS))
    r = min(m.shape[0], MAX_ARRAY_DIMS)
    if r:
        block[:r, : m.shape[1]] = np.clip(m[:r, :MAX_DEPTH], -8, 8)
        block[:r, -1] = _slog_array(c[:r])
    return block.ravel()


# --- schedule rows ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One parsed schedule row of one statement."""

    loop: bool
    coeffs: tuple[float, ...]  # iterator coefficients (of the tiled expression for a tile loop)
    const: float  # constant, parameters folded
    tile: int = 0  # tile size when the row is floor(expr / tile)


def _parse_row(aff: isl.Aff, depth: int, values: dict[str, int]) -> Row:
    if aff.is_cst():
        return Row(False, (), _int(aff.get_constant_val()))
    if aff.dim(isl.dim_type.div) == 1 and not any(
        _int(aff.get_coefficient_val(isl.dim_type.in_, i)) for i in range(depth)
    ):
        inner = aff.get_div(0)
        size = _int(inner.get_denominator_val(), 1.0)
        coeffs, const = _aff_linear(inner, depth, values)
        return Row(True, tuple(x * size for x in coeffs), const * size, int(size))
    if aff.dim(isl.dim_type.div):
        # A row with other quasi-affine parts: keep the linear part, mark nothing else.
        coeffs, const = _aff_linear(aff, depth, values)
        return Row(True, tuple(coeffs), const)
    coeffs, const = _aff_linear(aff, depth, values)
    return Row(True, tuple(coeffs), const)


@dataclass
class Sample:
    """The features of one (program, schedule): computations, unimodular steps and the loop tree.

    Node ids of `children`: 0..S-1 are computations (statements), S.. are loops; the last loop is the
    root (the whole program)."""

    program: ProgramFeatures
    comps: np.ndarray  # [S, COMP_DIM] float32
    unimod: np.ndarray  # [S, 1 + MAX_UNIMOD_STEPS, UNIMOD_DIM] float32
    unimod_len: np.ndarray  # [S] int64, >= 1 (the leading identity)
    loops: np.ndarray  # [L, LOOP_DIM] float32 (root last)
    children: list[list[int]]
    heights: list[int]  # per loop, 1 + the largest height of its children (computations have 0)


class _Program:
    """Per-Scop cache: the program features and memo tables for schedule-dependent parts."""

    def __init__(self, scop: Scop) -> None:
        self.scop = scop
        self.pf = program_features(scop)
        self.values = _fold_params(scop, scop.params)
        self.infos = {s.name: s for s in self.pf.statements}
        self.rows: dict[str, Row] = {}  # str(aff) -> parsed row
        self.constants: dict[int, Row] = {}
        self.transformed: dict[tuple, np.ndarray] = {}  # (stmt, point rows) -> vector with transformed blocks
        self.spans: dict[tuple, float] = {}  # (stmt, coefficients) -> extent of the row over the domain
        self.computations: dict[tuple, np.ndarray] = {}  # a statement's whole schedule state -> its vector
        self.structures: dict[tuple, tuple] = {}  # (all row texts, unimodular steps) -> tree and step matrices
        self.pf.original_outer_sharing = _outer_sharing(self.parse(Schedule(scop).lowered)[0])

    def parse(self, low: Lowered) -> tuple[dict[str, list[Row]], dict[str, tuple[str, ...]]]:
        """Parsed rows of every statement, and the rows' texts (a cheap identity of a statement's schedule)."""
        result: dict[str, list[Row]] = {}
        texts: dict[str, tuple[str, ...]] = {}
        cache = self.rows
        if max(len(cache), len(self.transformed), len(self.computations), 4 * len(self.structures)) > 100_000:
            for table in (cache, self.transformed, self.computations, self.structures):
                table.clear()
        constants = self.constants
        for info in self.pf.statements:
            parsed = []
            keys = []
            for aff in low.rows[info.name]:
                # Most rows are sequencing constants: is_cst() and the value cost far less than str().
                if aff.is_cst():
                    val = aff.get_constant_val()
                    if val.is_int():
                        value = val.get_num_si()
                        row = constants.get(value)
                        if row is None:
                            row = constants[value] = Row(False, (), float(value))
                        parsed.append(row)
                        keys.append(value)
                        continue
                key = str(aff)
                row = cache.get(key)
                if row is None:
                    row = cache[key] = _parse_row(aff, info.depth, self.values)
                parsed.append(row)
                keys.append(key)
            result[info.name] = parsed
            texts[info.name] = tuple(keys)
        return result, texts

    def span(self, name: str, coeffs: tuple[float, ...]) -> float:
        key = (name, coeffs)
        value = self.spans.get(key)
        if value is None:
            info = self.infos[name]
            n = min(info.depth, len(coeffs))
            value = self.spans[key] = float(sum(abs(coeffs[k]) * (info.hi[k] - info.lo[k]) for k in range(n))) + 1.0
        return value

    def trip(self, name: str, rows: list[Row], d: int) -> tuple[bool, float]:
        """(is a point loop of a tile, estimated trip count) of the loop at dimension d of a statement."""
        row = rows[d]
        span = self.span(name, row.coeffs)
        if row.tile:
            return False, math.ceil(span / row.tile)
        for outer in rows[:d]:
            if outer.tile and outer.coeffs == row.coeffs:
                return True, min(span, float(outer.tile))
        return False, span

    def with_transformed(self, info: StatementInfo, points: tuple[Row, ...]) -> np.ndarray:
        """The static vector with the transformed domain, transformed accesses and transform matrix filled."""
        key = (info.name, points)
        v = self.transformed.get(key)
        if v is not None:
            return v
        v = info.static.copy()
        n = min(info.depth, MAX_DEPTH)
        if n:
            tmat = np.array([r.coeffs[:n] for r in points], dtype=np.float64).reshape(len(points), n)
            tc = np.array([r.const for r in points], dtype=np.float64)
            if tmat.shape[0] == n and abs(np.linalg.det(tmat)) > 1e-9:
                tinv = np.linalg.inv(tmat)
            else:
                tinv = np.linalg.pinv(tmat)
            o = OFFSET["transformed_domain"]
            v[o : o + MAX_CONSTRAINTS * CONSTRAINT_COLS] = _constraint_block(
                info.dom_a @ tinv, info.dom_b - info.dom_a @ (tinv @ tc), info.dom_eq)
            o = OFFSET["accesses"]
            for k, (m, c) in enumerate(zip(info.access_m, info.access_c, strict=True)):
                base = o + k * ACCESS_BLOCK + ACCESS_HEADER + MAX_ARRAY_DIMS * ACCESS_COLS
                t = tinv[: m.shape[1]]
                v[base : base + MAX_ARRAY_DIMS * ACCESS_COLS] = _access_block(m @ t, c - m @ (t @ tc))
            o = OFFSET["transform"]
            t = np.zeros((MAX_DEPTH, MAX_DEPTH))
            k = min(tmat.shape[0], MAX_DEPTH)
            t[:k, :n] = np.clip(tmat[:k], -8, 8)
            v[o : o + MAX_DEPTH * MAX_DEPTH] = t.ravel()
        self.transformed[key] = v
        return v


class Featurizer:
    """Computes `Sample`s; caches program features and parsed rows per Scop (bounded LRU)."""

    def __init__(self, max_programs: int = 64) -> None:
        self.max_programs = max_programs
        self._programs: OrderedDict[int, _Program] = OrderedDict()

    def program(self, scop: Scop) -> ProgramFeatures:
        """The cached program features of `scop`."""
        return self._entry(scop).pf

    def _entry(self, scop: Scop) -> _Program:
        key = id(scop)
        entry = self._programs.get(key)
        if entry is None or entry.scop is not scop:  # the Scop is held, so its id is not reused meanwhile
            entry = self._programs[key] = _Program(scop)
            while len(self._programs) > self.max_programs:
                self._programs.popitem(last=False)
        else:
            self._programs.move_to_end(key)
        return entry

    def schedules(self, schedules: Sequence[Schedule]) -> list[Sample]:
        """Features of many schedules."""
        return [self.schedule(s) for s in schedules]

    def schedule(self, schedule: Schedule) -> Sample:
        """Features of one schedule (its program's features come from the cache)."""
        prog = self._entry(schedule.scop)
        pf = prog.pf
        low = schedule.lowered
        rows, texts = prog.parse(low)
        n_stmt = len(pf.statements)
        steps = tuple(t for t in schedule.steps if isinstance(t, T.UNIMODULAR))
        skey = (tuple(texts.values()), steps)
        structure = prog.structures.get(skey)
        if structure is None:
            structure = prog.structures[skey] = (_Tree(rows, prog), _outer_sharing(rows),
                                                 *_unimodular(steps, rows, pf))
        tree, sharing, unimod, unimod_len, counts = structure
        comps = np.empty((n_stmt, COMP_DIM), dtype=np.float32)
        marks: dict[str, list] = {}
        for kind, keys in (("p", low.parallel), ("v", low.vector), ("u", low.unroll.items())):
            for key in keys:
                (s, d), extra = (key, None) if kind != "u" else key
                marks.setdefault(s, []).append((kind, d, extra))
        for i, info in enumerate(pf.statements):
            name = info.name
            # Everything _computation reads, so equal keys mean equal vectors.
            key = (name, texts[name], tuple(sorted(marks.get(name, ()))), sharing.get(name, 1),
                   tree.inner_sharing.get(name, 1), counts[i])
            vector = prog.computations.get(key)
            if vector is None:
                vector = prog.computations[key] = _computation(info, rows, tree, low, sharing, prog, counts[i])
            comps[i] = vector
        return Sample(pf, comps, unimod, unimod_len, tree.loop_features(low), tree.children, tree.heights)


def _outer_sharing(rows: dict[str, list[Row]]) -> dict[str, int]:
    """Per statement, how many statements share its outermost loop (itself included)."""
    def outer(rs: list[Row]) -> tuple | None:
        prefix = []
        for r in rs:
            if r.loop:
                return tuple(prefix)
            prefix.append(r.const)
        return None

    keys = {s: outer(rs) for s, rs in rows.items()}
    return {s: (sum(1 for t in keys.values() if t == k) if k is not None else 1) for s, k in keys.items()}


class _Tree:
    """The loop tree of the lowered schedule (2d+1 rows) with per-loop features."""

    def __init__(self, rows: dict[str, list[Row]], prog: _Program) -> None:
        self.rows, self.prog, self.pf = rows, prog, prog.pf
        self.n_stmt = len(self.pf.statements)
        self.n_dims = len(next(iter(rows.values()))) if rows else 0
        self.children: list[list[int]] = []
        self.feats: list[list[float]] = []
        self.heights: list[int] = []
        self.loops: list[tuple[tuple[str, ...], int] | None] = []  # (members, dimension); None for the root
        self.inner_sharing: dict[str, int] = {}
        kids = self._build([s.name for s in self.pf.statements], 0, 0)
        self._finish(kids, None, 0)
        self.base = np.array(self.feats, dtype=np.float32).reshape(len(self.feats), LOOP_DIM)

    def loop_features(self, low: Lowered) -> np.ndarray:
        """The loop features with the schedule's parallel, vector and unroll marks (columns 0-2)."""
        if not (low.parallel or low.vector or low.unroll):
            return self.base
        out = self.base.copy()
        for j, loop in enumerate(self.loops):
            if loop is None:
                continue
            members, d = loop
            out[j, 0] = any((s, d) in low.parallel for s in members)
            out[j, 1] = any((s, d) in low.vector for s in members)
            out[j, 2] = _LOG2[low.unroll.get((members[0], d), 1)]
        return out

    def _build(self, stmts: list[str], d: int, level: int) -> list[int]:
        if d >= self.n_dims:
            return [self.pf.index[s] for s in stmts]
        groups: dict[tuple, list[str]] = {}
        for s in stmts:
            r = self.rows[s][d]
            groups.setdefault((1, 0.0) if r.loop else (0, r.const), []).append(s)
        out: list[int] = []
        for key in sorted(groups):
            members = groups[key]
            if key[0] == 0:
                out += self._build(members, d + 1, level)
            else:
                kids = self._build(members, d + 1, level + 1)
                out.append(self._finish(kids, (members, d), level))
        return out

    def _finish(self, kids: list[int], loop: tuple[list[str], int] | None, level: int) -> int:
        n_stmt = self.n_stmt
        height = 1 + max((0 if k < n_stmt else self.heights[k - n_stmt] for k in kids), default=0)
        child_loops = sum(1 for k in kids if k >= n_stmt)
        if loop is None:
            f = [0.0] * 7 + [math.log2(1 + n_stmt)] + [0.0] * 5 + [1.0]
        else:
            members, d = loop
            rep = members[0]
            row = self.rows[rep][d]
            point, trip = self.prog.trip(rep, self.rows[rep], d)
            nz = [c for c in row.coeffs if c]
            f = [
                0.0,  # parallel, vector, unroll: marks, filled per schedule by loop_features()
                0.0,
                0.0,
                float(row.tile > 0),
                math.log2(row.tile) if row.tile else 0.0,
                float(point),
                math.log2(1 + trip),
                math.log2(1 + len(members)),
                level / MAX_LOOPS,
                float(child_loops == 0),
                float(bool(nz) and sum(nz) < 0),
                float(len(nz) > 1),
                slog(row.const),
                0.0,
            ]
            if child_loops == 0:
                for s in members:
                    self.inner_sharing[s] = len(members)
        f += [math.log2(1 + len(kids)), height / MAX_LOOPS]
        self.children.append(kids)
        self.feats.append(f)
        self.heights.append(height)
        self.loops.append((tuple(loop[0]), loop[1]) if loop is not None else None)
        # Children are built before their parent: a node's id is its creation index.
        return n_stmt + len(self.children) - 1



def _computation(info: StatementInfo, all_rows: dict[str, list[Row]], tree: _Tree, low: Lowered,
                 sharing: dict[str, int], prog: _Program, counts: tuple[int, int, int]) -> np.ndarray:
    name = info.name
    rows = all_rows[name]
    n = min(info.depth, MAX_DEPTH)
    loops = [(d, r) for d, r in enumerate(rows) if r.loop]
    points = tuple(r for _, r in loops if not r.tile)
    v = prog.with_transformed(info, points).copy()
    flat: list[float] = []
    tile_sizes: list[int] = []
    par_level = 0
    unroll = 1
    vector = False
    pad = [0.0] * (MAX_DEPTH - n)
    for j, (d, r) in enumerate(loops[:MAX_LOOPS]):
        point, trip = prog.trip(name, rows, d)
        key = (name, d)
        par = key in low.parallel
        vec = key in low.vector
        unr = low.unroll.get(key, 1)
        flat.append(1.0)
        flat += [min(8.0, max(-8.0, c)) for c in r.coeffs[:n]]
        flat += pad[: MAX_DEPTH - min(n, len(r.coeffs))]
        flat += (slog(r.const), float(r.tile > 0), _LOG2.get(r.tile, 0.0), float(point), float(par), float(vec),
                 _LOG2[unr], math.log2(1 + trip))
        if r.tile:
            tile_sizes.append(r.tile)
        if par and not par_level:
            par_level = j + 1
        unroll = max(unroll, unr)
        vector = vector or vec
    o = OFFSET["loops"]
    v[o : o + len(flat)] = flat
    sizes = [math.log2(s) for s in tile_sizes[:3]] + [0.0] * (3 - min(3, len(tile_sizes)))
    n_stmt = len(prog.pf.statements)
    tags = [
        sharing.get(name, 1) - prog.pf.original_outer_sharing.get(name, 1),
        math.log2(1 + tree.inner_sharing.get(name, 1)),
        slog(sum(abs(r.const) for r in points)),
        len(tile_sizes),
        *sizes,
        math.log2(unroll),
        float(par_level > 0),
        par_level / MAX_LOOPS,
        float(vector),
        *(math.log2(1 + c) for c in counts),
        info.depth / MAX_DEPTH,
        info.log_instances / 8,
        math.log2(n_stmt),
        prog.pf.index[name] / max(1, n_stmt - 1),
    ]
    o = OFFSET["tags"]
    v[o : o + N_TAGS] = tags
    return v


def _unimodular(steps: tuple[T.Transformation, ...], rows: dict[str, list[Row]],
                pf: ProgramFeatures) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int]]]:
    """Per statement, the matrices of the interchanges, reversals and skews that act on it, in order,
    and how many of each (reversals, skews, interchanges).

    A step names a loop by (statement, depth) in the loop structure at its point of the sequence;
    that is mapped to the final structure by counting only non-tile loops (exact for the search's
    phase order, where every unimodular step precedes tiling)."""
    n_stmt = len(pf.statements)
    out = np.zeros((n_stmt, 1 + MAX_UNIMOD_STEPS, UNIMOD_DIM), dtype=np.float32)
    out[:, 0] = _EYE
    lengths = np.ones(n_stmt, dtype=np.int64)
    counts = [[0, 0, 0] for _ in range(n_stmt)]
    if not steps:
        return out, lengths, [tuple(c) for c in counts]
    point_dims = {s: [d for d, r in enumerate(rs) if r.loop and not r.tile] for s, rs in rows.items()}

    def members(stmt: str, depth: int) -> list[str]:
        dims = point_dims.get(stmt, [])
        if depth >= len(dims):
            return []
        d = dims[depth]
        sig = _signature(rows[stmt], d)
        return [s for s in rows if _signature(rows[s], d) == sig]

    for step in steps:
        matrix = step_matrix(step)
        if matrix is None:
            continue
        if isinstance(step, T.Interchange):
            who, kind = members(step.stmt, min(step.first, step.second)), 2
        elif isinstance(step, T.Reverse):
            who, kind = members(step.stmt, step.depth), 0
        else:
            assert isinstance(step, T.Skew)
            who, kind = members(step.stmt, step.outer), 1
        for s in who:
            i = pf.index[s]
            counts[i][kind] += 1
            if lengths[i] <= MAX_UNIMOD_STEPS:
                out[i, lengths[i]] = matrix
                lengths[i] += 1
    return out, lengths, [tuple(c) for c in counts]


@functools.lru_cache(maxsize=4096)
def step_matrix(step: T.Transformation) -> np.ndarray | None:
    """The MAX_DEPTH x MAX_DEPTH matrix (flattened) of an interchange, reversal or skew on loop depths;
    None for a step outside the matrix."""
    m = np.eye(MAX_DEPTH, dtype=np.float32)
    if isinstance(step, T.Interchange):
        a, b = step.first, step.second
        if max(a, b) >= MAX_DEPTH:
            return None
        m[[a, b]] = m[[b, a]]
    elif isinstance(step, T.Reverse):
        if step.depth >= MAX_DEPTH:
            return None
        m[step.depth, step.depth] = -1
    elif isinstance(step, T.Skew):
        if step.inner >= MAX_DEPTH:
            return None
        m[step.inner, step.outer] = step.factor
    else:
        return None
    return m.ravel()


_EYE = np.eye(MAX_DEPTH, dtype=np.float32).ravel()


_LOG2 = {2**k: float(k) for k in range(16)}


def _signature(rows: list[Row], d: int) -> tuple:
    return tuple("L" if r.loop else r.const for r in rows[: d + 1])



# --- batching ---------------------------------------------------------------------------------
@dataclass
class Batch:
    """Samples stacked into tensors, padded to the batch's maxima, with the tree's level plan."""

    comps: torch.Tensor  # [C, COMP_DIM]
    expr_tokens: torch.Tensor  # [U, E] over the batch's distinct programs' statements
    expr_types: torch.Tensor  # [U, E]
    expr_lengths: torch.Tensor  # [U]
    comp_expr: torch.Tensor  # [C] row of expr_* for each computation
    unimod: torch.Tensor  # [C, K, UNIMOD_DIM]
    unimod_lengths: torch.Tensor  # [C]
    loops: torch.Tensor  # [N, LOOP_DIM]
    levels: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]  # (loop ids, children [n, k] node ids, lengths)
    roots: torch.Tensor  # [B] loop id of each sample's root
    size: int

    def to(self, device: torch.device | str) -> Batch:
        move = lambda t: t.to(device)
        return Batch(move(self.comps), move(self.expr_tokens), move(self.expr_types), move(self.expr_lengths),
                     move(self.comp_expr), move(self.unimod), move(self.unimod_lengths), move(self.loops),
                     [(move(a), move(b), move(c)) for a, b, c in self.levels], move(self.roots), self.size)


def collate(samples: Sequence[Sample]) -> Batch:
    """Stack samples of any programs into one Batch, computing every distinct node once.

    Equal computations (same program statement, same vector, same unimodular steps) and equal loops
    (same features, same distinct children) are shared: in a search batch most subtrees repeat from
    candidate to candidate, so the network evaluates far fewer nodes than the samples hold. Node
    ids: distinct computations first, then distinct loops, then one zero padding node."""
    programs: dict[int, tuple[ProgramFeatures, int]] = {}
    expr_rows = 0
    comp_ids: dict[tuple, int] = {}
    comp_rows: list[np.ndarray] = []
    comp_expr: list[int] = []
    unimod_rows: list[np.ndarray] = []
    unimod_lens: list[int] = []
    loop_ids: dict[tuple, int] = {}
    loop_rows: list[np.ndarray] = []
    loop_kids: list[list[tuple[bool, int]]] = []  # (is a loop, distinct id)
    loop_heights: list[int] = []
    roots = np.empty(len(samples), dtype=np.int64)
    for b, s in enumerate(samples):
        key = id(s.program)
        if key not in programs:
            programs[key] = (s.program, expr_rows)
            expr_rows += len(s.program.statements)
        off = programs[key][1]
        nc = s.comps.shape[0]
        local: list[tuple[bool, int]] = []
        for i in range(nc):
            n = int(s.unimod_len[i])
            ck = (off + i, s.comps[i].tobytes(), s.unimod[i, :n].tobytes())
            cid = comp_ids.get(ck)
            if cid is None:
                cid = comp_ids[ck] = len(comp_rows)
                comp_rows.append(s.comps[i])
                comp_expr.append(off + i)
                unimod_rows.append(s.unimod[i])
                unimod_lens.append(n)
            local.append((False, cid))
        for j, kids in enumerate(s.children):
            ids = tuple(local[k] for k in kids)
            lk = (s.loops[j].tobytes(), ids)
            lid = loop_ids.get(lk)
            if lid is None:
                lid = loop_ids[lk] = len(loop_rows)
                loop_rows.append(s.loops[j])
                loop_kids.append(list(ids))
                loop_heights.append(s.heights[j])
            local.append((True, lid))
        roots[b] = local[-1][1]
    n_comp, n_loop = len(comp_rows), len(loop_rows)
    pad = n_comp + n_loop
    by_height: dict[int, list[int]] = {}
    for lid, h in enumerate(loop_heights):
        by_height.setdefault(h, []).append(lid)
    levels = []
    for h in sorted(by_height):
        items = by_height[h]
        width = max(len(loop_kids[i]) for i in items)
        kids = np.full((len(items), width), pad, dtype=np.int64)
        for r, i in enumerate(items):
            kids[r, : len(loop_kids[i])] = [n_comp + x if is_loop else x for is_loop, x in loop_kids[i]]
        levels.append((torch.tensor(items), torch.from_numpy(kids),
                       torch.tensor([len(loop_kids[i]) for i in items])))
    progs = [p for p, _ in sorted(programs.values(), key=lambda x: x[1])]
    width = max(int(p.token_lengths.max()) for p in progs)
    kmax = max(unimod_lens)
    return Batch(
        comps=torch.from_numpy(np.stack(comp_rows)),
        expr_tokens=torch.from_numpy(np.concatenate([p.tokens[:, :width] for p in progs])),
        expr_types=torch.from_numpy(np.concatenate([p.token_types[:, :width] for p in progs])),
        expr_lengths=torch.from_numpy(np.concatenate([p.token_lengths for p in progs])),
        comp_expr=torch.tensor(comp_expr),
        unimod=torch.from_numpy(np.stack(unimod_rows)[:, :kmax]),
        unimod_lengths=torch.tensor(unimod_lens),
        loops=torch.from_numpy(np.stack(loop_rows)),
        levels=levels,
        roots=torch.from_numpy(roots),
        size=len(samples),
    )
