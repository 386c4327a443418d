"""Expression features: a statement body as a token sequence, and counts of its kinds of tokens."""

from __future__ import annotations

import math

import numpy as np

from costmodel.features.layout import _CALLS, _UNARY, TOKEN_ID, ctype
from looper.expr import Assign, Binary, Call, Cast, Expr, Index, Name, Num, Ternary, Unary
from looper.ir import Scop, Statement


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
