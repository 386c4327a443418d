"""Statement bodies as small expression trees that print back to C with new iterator expressions."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

# C operator precedence (higher binds tighter), used to print only the parentheses C needs.
_BINARY_PREC = {
    "*": 13, "/": 13, "%": 13,
    "+": 12, "-": 12,
    "<<": 11, ">>": 11,
    "<": 10, "<=": 10, ">": 10, ">=": 10,
    "==": 9, "!=": 9,
    "&": 8, "^": 7, "|": 6, "&&": 5, "||": 4,
}
_UNARY_PREC = 14
_TERNARY_PREC = 3
ASSIGN_OPS = ("=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=")


@dataclass(frozen=True)
class Expr:
    """Base of all expression nodes."""

    def children(self) -> tuple[Expr, ...]:
        """Direct sub-expressions, left to right."""
        return ()

    def walk(self) -> Iterator[Expr]:
        """This node and every node below it, pre-order."""
        yield self
        for child in self.children():
            yield from child.walk()

    def to_c(self, rename: Mapping[str, str] | None = None) -> str:
        """Print as C; `rename` maps variable names (iterators) to replacement C expressions."""
        return _print(self, rename or {}, 0)


@dataclass(frozen=True)
class Num(Expr):
    """A literal exactly as written: `0`, `1.5`, `2.0f`, `'a'`."""

    text: str


@dataclass(frozen=True)
class Name(Expr):
    """A variable or constant name: iterator, parameter, scalar, macro."""

    name: str


@dataclass(frozen=True)
class Index(Expr):
    """An array element `array[i0][i1]...` (a scalar when `indices` is empty)."""

    array: str
    indices: tuple[Expr, ...]

    def children(self) -> tuple[Expr, ...]:
        return self.indices


@dataclass(frozen=True)
class Call(Expr):
    """A call of a function or function-like macro, kept opaque: `SQRT_FUN(x)`, `max_score(a, b)`."""

    func: str
    args: tuple[Expr, ...]

    def children(self) -> tuple[Expr, ...]:
        return self.args


@dataclass(frozen=True)
class Unary(Expr):
    """A prefix operator: `-`, `+`, `!`, `~`."""

    op: str
    operand: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Binary(Expr):
    """A binary operator."""

    op: str
    left: Expr
    right: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Ternary(Expr):
    """`cond ? then : else_`."""

    cond: Expr
    then: Expr
    else_: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.cond, self.then, self.else_)


@dataclass(frozen=True)
class Cast(Expr):
    """`(type) operand`."""

    type: str
    operand: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Assign(Expr):
    """A statement: `target op value` with op one of ASSIGN_OPS."""

    op: str
    target: Index
    value: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.target, self.value)


def map_names(expr: Expr, fn: Callable[[str], Expr | None]) -> Expr:
    """Rebuild `expr` replacing each Name for which `fn` returns an expression."""
    if isinstance(expr, Name):
        return fn(expr.name) or expr
    if isinstance(expr, Index):
        return Index(expr.array, tuple(map_names(e, fn) for e in expr.indices))
    if isinstance(expr, Call):
        return Call(expr.func, tuple(map_names(e, fn) for e in expr.args))
    if isinstance(expr, Unary):
        return Unary(expr.op, map_names(expr.operand, fn))
    if isinstance(expr, Binary):
        return Binary(expr.op, map_names(expr.left, fn), map_names(expr.right, fn))
    if isinstance(expr, Ternary):
        return Ternary(map_names(expr.cond, fn), map_names(expr.then, fn), map_names(expr.else_, fn))
    if isinstance(expr, Cast):
        return Cast(expr.type, map_names(expr.operand, fn))
    if isinstance(expr, Assign):
        target = map_names(expr.target, fn)
        assert isinstance(target, Index)
        return Assign(expr.op, target, map_names(expr.value, fn))
    return expr


def _is_simple(text: str) -> bool:
    """True for an identifier or a non-negative number, which never needs parentheses."""
    return text.replace("_", "a").isalnum()


def _print(e: Expr, rename: Mapping[str, str], outer: int) -> str:
    """Print `e` inside a context of precedence `outer`, parenthesizing when needed."""
    if isinstance(e, Num):
        return e.text
    if isinstance(e, Name):
        text = rename.get(e.name)
        if text is None:
            return e.name
        # Replacements are isl's iterator expressions: sums and products (no top-level comparison
        # or logic); only a ternary or a tighter context than addition needs parentheses.
        if _is_simple(text) or ("?" not in text and outer <= _BINARY_PREC["+"]):
            return text
        return f"({text})"
    if isinstance(e, Index):
        return e.array + "".join(f"[{_print(i, rename, 0)}]" for i in e.indices)
    if isinstance(e, Call):
        return f"{e.func}({', '.join(_print(a, rename, 2) for a in e.args)})"
    if isinstance(e, Unary):
        inner = _print(e.operand, rename, _UNARY_PREC)
        # Keep "- -x" from printing as the decrement "--x".
        sep = " " if inner.startswith(e.op) else ""
        return _wrap(f"{e.op}{sep}{inner}", _UNARY_PREC, outer)
    if isinstance(e, Binary):
        prec = _BINARY_PREC[e.op]
        # Left-associative: the right operand needs parentheses at equal precedence.
        text = f"{_print(e.left, rename, prec)} {e.op} {_print(e.right, rename, prec + 1)}"
        return _wrap(text, prec, outer)
    if isinstance(e, Ternary):
        text = (
            f"{_print(e.cond, rename, _TERNARY_PREC + 1)} ? {_print(e.then, rename, 0)} : "
            f"{_print(e.else_, rename, _TERNARY_PREC)}"
        )
        return _wrap(text, _TERNARY_PREC, outer)
    if isinstance(e, Cast):
        return _wrap(f"({e.type}){_print(e.operand, rename, _UNARY_PREC)}", _UNARY_PREC, outer)
    if isinstance(e, Assign):
        return f"{_print(e.target, rename, 0)} {e.op} {_print(e.value, rename, 1)}"
    raise TypeError(f"not an expression node: {e!r}")


def _wrap(text: str, prec: int, outer: int) -> str:
    return f"({text})" if prec < outer else text
