"""The parsed region: statement nodes around `looper.expr` expression trees, with source offsets."""

from __future__ import annotations

from dataclasses import dataclass, field

from looper.expr import Expr


@dataclass(frozen=True)
class IncDec(Expr):
    """`i++`, `++i`, `i--`, `--i`: only meaningful as a for-loop step, rejected elsewhere."""

    op: str  # "++" or "--"
    operand: Expr
    prefix: bool

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@dataclass
class ForStmt:
    """`for (init; cond; step) body`; `decl_type` is set for `for (int i = ...)`."""

    init: Expr | None
    cond: Expr | None
    step: Expr | None
    body: Stmt
    start: int
    decl_type: str | None = None  # `for (int i = ...)`


@dataclass
class IfStmt:
    """`if (cond) then else else_`."""

    cond: Expr
    then: Stmt
    else_: Stmt | None
    start: int


@dataclass
class Block:
    """`{ ... }`."""

    items: list[Stmt]
    start: int


@dataclass
class ExprStmt:
    """An expression followed by `;` (an assignment, for a Scop)."""

    expr: Expr
    start: int
    end: int  # just past the expression, `;` excluded


@dataclass
class Declarator:
    """One name of a local declaration, with array extents and initializer if written."""

    name: str
    dims: list[Expr | None]
    init: Expr | None
    start: int
    end: int


@dataclass
class DeclStmt:
    """`double t = 0, u;` inside a region."""

    type: str
    items: list[Declarator]
    start: int


@dataclass
class EmptyStmt:
    """A lone `;`."""

    start: int


Stmt = ForStmt | IfStmt | Block | ExprStmt | DeclStmt | EmptyStmt


@dataclass
class ParsedRegion:
    """The statements of a region and the source span of every expression node (by id)."""

    items: list[Stmt]
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)

    def span(self, node: object, default: int = 0) -> tuple[int, int]:
        """(start, end) offsets of an expression node, or `default` when it has none (macro text)."""
        return self.spans.get(id(node), (default, default))
