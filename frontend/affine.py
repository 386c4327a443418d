"""Affine expressions and conditions (loop bounds, `if` conditions, subscripts) as isl objects.

An `Affine` converts `looper.expr` trees over a fixed tuple of loop iterators into `isl.PwAff`
values and `isl.Set` conditions. Names that are not iterators are handed to a resolver (the
extractor), which decides between parameters, macro expansions and errors.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import islpy as isl

from frontend.declarations import INTEGER_TYPEDEFS
from frontend.tokens import char_literal, int_literal
from looper.expr import Binary, Call, Cast, Expr, Index, Name, Num, Ternary, Unary

_CTX = isl.DEFAULT_CONTEXT
# Casts that keep an integer expression integral (and so affine).
_INT_TYPES = INTEGER_TYPEDEFS | {"char", "short", "int", "long", "unsigned", "signed", "const"}
_LIMIT = 1 << 62


class NotAffine(Exception):
    """An expression outside the affine subset; `node` is where (for the position)."""

    def __init__(self, message: str, node: Expr | None = None, hard: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.hard = hard  # a misuse of a region variable: never hidden behind a macro's fallback


@lru_cache(maxsize=256)
def _space(iterators: tuple[str, ...]) -> isl.Space:
    return isl.Space.create_from_names(_CTX, set=list(iterators))


def int_value(e: Expr) -> int | None:
    """The value of an integer constant expression built from literals, or None."""
    if isinstance(e, Num):
        v = int_literal(e.text)
        return v if v is not None else (char_literal(e.text) if e.text.startswith("'") else None)
    if isinstance(e, Unary) and e.op in "-+":
        v = int_value(e.operand)
        return None if v is None else (-v if e.op == "-" else v)
    if isinstance(e, Cast) and set(e.type.split()) <= _INT_TYPES:
        return int_value(e.operand)
    if isinstance(e, Binary) and e.op in ("+", "-", "*", "/", "%"):
        a, b = int_value(e.left), int_value(e.right)
        if a is None or b is None:
            return None
        if e.op in "/%":
            if b == 0:
                return None
            q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
            return q if e.op == "/" else a - q * b
        return a + b if e.op == "+" else a - b if e.op == "-" else a * b
    return None


def linear_coefficient(e: Expr, name: str) -> int | None:
    """The coefficient of variable `name` in `e` if `e` is linear in it (0 if absent), else None."""
    if isinstance(e, Name):
        return 1 if e.name == name else 0
    if isinstance(e, Unary) and e.op in "-+":
        c = linear_coefficient(e.operand, name)
        return None if c is None else (-c if e.op == "-" else c)
    if isinstance(e, Cast):
        return linear_coefficient(e.operand, name)
    if isinstance(e, Binary) and e.op in "+-":
        a, b = linear_coefficient(e.left, name), linear_coefficient(e.right, name)
        if a is None or b is None:
            return None
        return a + b if e.op == "+" else a - b
    if isinstance(e, Binary) and e.op == "*":
        a, b = linear_coefficient(e.left, name), linear_coefficient(e.right, name)
        if a == 0 and b == 0:
            return 0
        ka, kb = int_value(e.left), int_value(e.right)
        if ka is not None and b is not None:
            return ka * b
        if kb is not None and a is not None:
            return kb * a
        return None
    return None if any(isinstance(n, Name) and n.name == name for n in e.walk()) else 0


class Affine:
    """Builds isl objects over the loop iterators `iterators` (outermost first)."""

    def __init__(
        self,
        iterators: tuple[str, ...],
        resolve: Callable[[str, Expr, Affine], isl.PwAff],
        call: Callable[[Call, Affine], isl.PwAff] | None = None,
    ) -> None:
        self.iterators = iterators
        self.space = _space(iterators)
        self.ls = isl.LocalSpace.from_space(self.space)
        self._resolve = resolve
        self._call = call

    def const(self, v: int, node: Expr | None = None) -> isl.PwAff:
        """A constant."""
        if not -_LIMIT < v < _LIMIT:
            raise NotAffine(f"the constant {v} is too large", node)
        aff = isl.Aff.zero_on_domain(self.ls).set_constant_val(isl.Val.int_from_si(_CTX, v))
        return isl.PwAff.from_aff(aff)

    def var(self, k: int) -> isl.PwAff:
        """The k-th iterator."""
        return isl.PwAff.from_aff(isl.Aff.var_on_domain(self.ls, isl.dim_type.set, k))

    def param(self, name: str) -> isl.PwAff:
        """A symbolic parameter (isl aligns parameters of different objects by name)."""
        sp = self.space.insert_dims(isl.dim_type.param, 0, 1).set_dim_name(isl.dim_type.param, 0, name)
        return isl.PwAff.from_aff(isl.Aff.var_on_domain(isl.LocalSpace.from_space(sp), isl.dim_type.param, 0))

    def universe(self) -> isl.Set:
        """All iterator values."""
        return isl.Set.universe(self.space)

    def expr(self, e: Expr) -> isl.PwAff:
        """An affine (piecewise, with min/max/floor division) value."""
        try:
            return self._expr(e)
        except isl.Error as exc:
            raise NotAffine(f"isl rejected this expression: {exc}", e) from None

    def cond(self, e: Expr) -> isl.Set:
        """The set of iterator values where a condition holds."""
        try:
            return self._cond(e)
        except isl.Error as exc:
            raise NotAffine(f"isl rejected this condition: {exc}", e) from None

    def _expr(self, e: Expr) -> isl.PwAff:
        if isinstance(e, Name):
            if e.name in self.iterators:
                return self.var(len(self.iterators) - 1 - self.iterators[::-1].index(e.name))
            return self._resolve(e.name, e, self)
        if isinstance(e, Num):
            v = int_value(e)
            if v is None:
                raise NotAffine(f"{e.text} is not an integer constant", e)
            return self.const(v, e)
        if isinstance(e, Unary):
            if e.op == "-":
                return self._expr(e.operand).neg()
            if e.op == "+":
                return self._expr(e.operand)
            raise NotAffine(f"operator '{e.op}' is not affine here", e)
        if isinstance(e, Binary):
            return self._binary(e)
        if isinstance(e, Ternary):
            c = self._cond(e.cond)
            return c.indicator_function().cond(self._expr(e.then), self._expr(e.else_))
        if isinstance(e, Cast):
            if set(e.type.split()) <= _INT_TYPES:
                return self._expr(e.operand)
            raise NotAffine(f"a cast to '{e.type}' is not an integer expression", e)
        if isinstance(e, Call):
            return self._builtin(e)
        if isinstance(e, Index):
            raise NotAffine(
                f"'{_show(e)}' reads array {e.array}: loop bounds, conditions and subscripts must not depend "
                "on array values",
                e,
                hard=True,
            )
        raise NotAffine(f"'{_show(e)}' is not an affine expression", e)

    def _binary(self, e: Binary) -> isl.PwAff:
        op = e.op
        if op in ("+", "-"):
            a, b = self._expr(e.left), self._expr(e.right)
            return a.add(b) if op == "+" else a.sub(b)
        if op == "*":
            a, b = self._expr(e.left), self._expr(e.right)
            if not (a.is_cst() or b.is_cst()):
                raise NotAffine(f"'{_show(e)}' multiplies two non-constant expressions, which is not affine", e)
            return a.mul(b)
        if op in ("/", "%"):
            d = int_value(e.right)
            if d is None:
                raise NotAffine(f"'{_show(e)}' divides by a non-constant, which is not affine", e)
            if d == 0:
                raise NotAffine(f"'{_show(e)}' divides by zero", e)
            a = self._expr(e.left)
            c = self.const(d, e)
            return a.tdiv_q(c) if op == "/" else a.tdiv_r(c)  # C division truncates toward zero
        if op in ("<", "<=", ">", ">=", "==", "!=", "&&", "||"):
            raise NotAffine(f"the comparison '{_show(e)}' is used as a value; write it as a condition", e)
        raise NotAffine(f"operator '{op}' is not affine", e)

    def _builtin(self, e: Call) -> isl.PwAff:
        f = e.func
        if f in ("min", "max", "MIN", "MAX") and len(e.args) >= 2:
            vals = [self._expr(a) for a in e.args]
            out = vals[0]
            for v in vals[1:]:
                out = out.min(v) if f.lower() == "min" else out.max(v)
            return out
        if f in ("floord", "ceild") and len(e.args) == 2:
            d = int_value(e.args[1])
            if d is None or d == 0:
                raise NotAffine(f"the divisor of {f} must be a non-zero integer constant", e)
            a = self._expr(e.args[0])
            if d < 0:
                a, d = a.neg(), -d
            q = a.scale_down_val(isl.Val.int_from_si(_CTX, d))
            return q.floor() if f == "floord" else q.ceil()
        if self._call is not None:
            return self._call(e, self)
        raise NotAffine(f"the call '{_show(e)}' is not an affine expression", e)

    def _cond(self, e: Expr) -> isl.Set:
        if isinstance(e, Binary):
            op = e.op
            if op == "&&":
                return self._cond(e.left).intersect(self._cond(e.right))
            if op == "||":
                return self._cond(e.left).union(self._cond(e.right))
            if op in ("<", "<=", ">", ">=", "==", "!="):
                a, b = self._expr(e.left), self._expr(e.right)
                method = {"<": a.lt_set, "<=": a.le_set, ">": a.gt_set, ">=": a.ge_set, "==": a.eq_set, "!=": a.ne_set}[
                    op
                ]
                return method(b)
        if isinstance(e, Unary) and e.op == "!":
            return self.universe().subtract(self._cond(e.operand))
        if isinstance(e, Ternary):
            c = self._cond(e.cond)
            return c.intersect(self._cond(e.then)).union(self.universe().subtract(c).intersect(self._cond(e.else_)))
        return self._expr(e).non_zero_set()


def _show(e: Expr) -> str:
    try:
        return e.to_c()
    except TypeError:
        return type(e).__name__
