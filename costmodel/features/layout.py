"""Feature sizes and version, the expression token vocabulary, the computation-vector layout, and scaling helpers."""

from __future__ import annotations

import functools
import math

import numpy as np

FEATURE_VERSION = 2  # bump when any layout below changes (invalidates feature caches and checkpoints)

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
COST_PER_ACCESS = 3  # innermost stride, invariant in the innermost loop, next-innermost stride
N_COST = (1 + MAX_READS) * COST_PER_ACCESS + 3
BLOCKS: tuple[tuple[str, int], ...] = (
    ("domain", MAX_CONSTRAINTS * CONSTRAINT_COLS),
    ("transformed_domain", MAX_CONSTRAINTS * CONSTRAINT_COLS),
    ("accesses", (1 + MAX_READS) * ACCESS_BLOCK),
    ("loops", MAX_LOOPS * LOOP_ROW),
    ("transform", MAX_DEPTH * MAX_DEPTH),
    ("tags", N_TAGS),
    ("expression_counts", N_EXPR_COUNTS),
    ("cost", N_COST),
)
COMP_DIM = sum(n for _, n in BLOCKS)
OFFSET = {}
_o = 0
for _name, _n in BLOCKS:
    OFFSET[_name] = _o
    _o += _n
LOOP_DIM = 16
UNIMOD_DIM = MAX_DEPTH * MAX_DEPTH


@functools.lru_cache(maxsize=1024)
def described(n: int, limit: int) -> tuple[int, ...]:
    """Which of n positions (loops or iterators, outermost first) the fixed-size blocks describe: all of
    them up to `limit`, else the outermost limit - 1 and the innermost (the depth policy, FEATURES.md)."""
    if n <= limit:
        return tuple(range(n))
    return (*range(limit - 1), n - 1)


def slog(x: float) -> float:
    """Signed log2(1 + |x|): keeps constants like 4000 in a range a network likes."""
    return math.copysign(math.log2(1.0 + abs(x)), x)


def _slog_array(a: np.ndarray) -> np.ndarray:
    return np.sign(a) * np.log2(1.0 + np.abs(a))


ELEMENT_BYTES = {1: 4, 2: 4, 3: 8, 4: 8}  # by DTYPES index

_LOG2 = {2**k: float(k) for k in range(16)}


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
