"""isl's AST generator to C: loops from the schedule, statement bodies with substituted iterators,
and pragmas for parallel, simd and unrolled loops."""

from __future__ import annotations

import re
from dataclasses import dataclass

import islpy as isl

from looper.ir import Scop
from looper.schedule import Lowered, Schedule

# isl prints min/max/floord as calls; looper defines them under its own names so that the
# generated code never collides with a user's `min` function or macro.
HELPER_MACROS = """\
#ifndef looper_min
#define looper_min(x, y) ((x) < (y) ? (x) : (y))
#define looper_max(x, y) ((x) > (y) ? (x) : (y))
#define looper_floord(n, d) (((n) < 0) ? -((-(n) + (d) - 1) / (d)) : (n) / (d))
#endif
"""
_HELPER = re.compile(r"\b(min|max|floord)\(")


@dataclass(frozen=True)
class Generated:
    """The C code of a transformed region (without the scop pragmas) and what it needs."""

    code: str  # statements, indented by `indent`
    uses_helpers: bool  # whether HELPER_MACROS must be defined
    uses_openmp: bool


def iterator_prefix(scop: Scop) -> str:
    """A loop-iterator prefix (`c`, `c_`, ...) that no name of the Scop starts a collision with."""
    taken = set(scop.params) | set(scop.arrays) | set(scop.locals)
    for s in scop.statements:
        taken |= set(s.iterators)
        taken |= {n for e in s.body.walk() for n in _names(e)}
    prefix = "c"
    while any(re.fullmatch(re.escape(prefix) + r"\d+(_end)?", name) for name in taken):
        prefix += "_"
    return prefix


def _names(e: object) -> list[str]:
    name = getattr(e, "name", None) or getattr(e, "array", None) or getattr(e, "func", None)
    return [name] if isinstance(name, str) else []


def build_ast(schedule: Schedule, prefix: str) -> isl.AstNode:
    """Run isl's AST generator on the lowered schedule."""
    scop = schedule.scop
    umap = schedule.union_map
    n = schedule.lowered.n_dims
    ctx = umap.get_ctx()
    build = isl.AstBuild.from_context(scop.context)
    ids = isl.IdList.alloc(ctx, n)
    for k in range(n):
        ids = ids.add(isl.Id(f"{prefix}{k}", context=ctx))
    build = build.set_iterators(ids)
    # Innermost loops are generated "separate": split where the statements they run or their bounds
    # change, so that the loop gcc should vectorize holds no `if` guard (a guard stops gcc's vectorizer;
    # fused, shifted stencil statements get one at every iteration otherwise).
    low = schedule.lowered
    innermost = sorted({dims[-1] for s in low.rows if (dims := low.loop_dims(s))})
    if innermost:
        names = ", ".join(f"i{k}" for k in range(n))
        options = "; ".join(f"[{names}] -> separate[{d}]" for d in innermost)
        build = build.set_options(isl.UnionMap("{ " + options + " }", context=ctx))
    return build.node_from_schedule_map(umap)


def generate(schedule: Schedule, indent: str = "  ") -> Generated:
    """C code for the whole transformed Scop."""
    prefix = iterator_prefix(schedule.scop)
    ast = build_ast(schedule, prefix)
    printer = _Printer(schedule.scop, schedule.lowered, prefix, indent)
    printer.node(ast, 0, inside_parallel=False)
    code = "".join(printer.lines)
    return Generated(code, bool(_HELPER.search(code)) or "looper_" in code, printer.openmp)


class _Printer:
    """Walks an isl AST and writes C, one line at a time."""

    def __init__(self, scop: Scop, low: Lowered, prefix: str, indent: str) -> None:
        self.scop = scop
        self.low = low
        self.prefix = prefix
        self.indent = indent
        self.lines: list[str] = []
        self.openmp = False

    def emit(self, level: int, text: str) -> None:
        self.lines.append(f"{self.indent * level}{text}\n")

    def expr(self, e: isl.AstExpr) -> str:
        return _HELPER.sub(lambda m: f"looper_{m.group(1)}(", e.to_C_str())

    def node(self, node: isl.AstNode, level: int, inside_parallel: bool) -> None:
        kind = node.get_type()
        if kind == isl.ast_node_type.block:
            children = node.block_get_children()
            for i in range(children.n_ast_node()):
                self.node(children.get_at(i), level, inside_parallel)
        elif kind == isl.ast_node_type.for_:  # type: ignore[attr-defined]  # islpy's stub lacks it
            self.for_(node, level, inside_parallel)
        elif kind == isl.ast_node_type.if_:  # type: ignore[attr-defined]
            self.emit(level, f"if ({self.expr(node.if_get_cond())}) {{")
            self.node(node.if_get_then_node(), level + 1, inside_parallel)
            if node.if_has_else_node():
                self.emit(level, "} else {")
                self.node(node.if_get_else_node(), level + 1, inside_parallel)
            self.emit(level, "}")
        elif kind == isl.ast_node_type.user:
            self.emit(level, self.statement(node.user_get_expr()) + ";")
        elif kind == isl.ast_node_type.mark:
            self.node(node.mark_get_node(), level, inside_parallel)
        else:
            raise ValueError(f"unexpected isl AST node type {kind}")

    def statement(self, call: isl.AstExpr) -> str:
        """The statement's assignment with its iterators replaced by the call's arguments."""
        name = call.op_get_arg(0).id_get_id().get_name()
        stmt = self.scop.statement(name)
        args = [self.expr(call.op_get_arg(i + 1)) for i in range(call.op_get_n_arg() - 1)]
        return stmt.body.to_c(dict(zip(stmt.iterators, args, strict=True)))

    def for_(self, node: isl.AstNode, level: int, inside_parallel: bool) -> None:
        it = node.for_get_iterator().id_get_id().get_name()
        dim = int(it[len(self.prefix) :])
        stmts = _statements(node.for_get_body())
        keys = {(s, dim) for s in stmts}
        init = self.expr(node.for_get_init())
        if node.for_is_degenerate():
            body = _Printer(self.scop, self.low, self.prefix, self.indent)
            body.node(node.for_get_body(), level + 1, inside_parallel)
            self.openmp |= body.openmp
            uses = any(re.search(rf"\b{re.escape(it)}\b", line) for line in body.lines)
            self.emit(level, "{")
            if uses:
                self.emit(level + 1, f"const int {it} = {init};")
            self.lines += body.lines
            self.emit(level, "}")
            return
        parallel = bool(keys & self.low.parallel) and not inside_parallel
        vector = bool(keys) and keys <= self.low.vector
        unroll = max((self.low.unroll.get(k, 0) for k in keys), default=0)
        # An OpenMP loop pragma must directly precede its loop, so a parallel loop gets no unroll
        # hint, and `omp simd` cannot be combined with `GCC unroll`: for a vectorized, unrolled loop
        # each compiler gets its own loop pragmas (chosen by the preprocessor).
        if parallel:
            self.emit(level, "#pragma omp parallel for simd" if vector else "#pragma omp parallel for")
        elif vector and unroll:
            self.emit(0, "#if defined(__clang__)")
            self.emit(level, f"#pragma clang loop vectorize(assume_safety) unroll_count({unroll})")
            self.emit(0, "#else")
            self.emit(level, "#pragma GCC ivdep")
            self.emit(level, f"#pragma GCC unroll {unroll}")
            self.emit(0, "#endif")
        elif vector:
            self.emit(level, "#pragma omp simd")
        elif unroll:
            self.emit(level, f"#pragma GCC unroll {unroll}")
        self.openmp |= parallel or vector
        cond = self.expr(node.for_get_cond())
        inc = self.expr(node.for_get_inc())
        step = f"{it}++" if inc == "1" else f"{it} += {inc}"
        bound = _upper_bound(node.for_get_cond())
        if unroll and not parallel and bound is not None and re.search(r"looper_|\?", bound_text := self.expr(bound)):
            # gcc drops a `#pragma GCC` loop annotation ("ignoring loop annotation") when the loop's
            # condition has a conditional expression (looper_min): the bound goes into a variable.
            relation = "<=" if node.for_get_cond().op_get_type() == isl.ast_expr_op_type.le else "<"
            cond = f"{it} {relation} {it}_end"
            init = f"{init}, {it}_end = {bound_text}"
        self.emit(level, f"for (int {it} = {init}; {cond}; {step}) {{")
        self.node(node.for_get_body(), level + 1, inside_parallel or parallel)
        self.emit(level, "}")


def _upper_bound(cond: isl.AstExpr) -> isl.AstExpr | None:
    """The bound of a loop condition `it <= bound` or `it < bound`, or None for another shape."""
    if cond.get_type() != isl.ast_expr_type.op or cond.op_get_n_arg() != 2:
        return None
    if cond.op_get_type() not in (isl.ast_expr_op_type.le, isl.ast_expr_op_type.lt):
        return None
    return cond.op_get_arg(1)


def _statements(node: isl.AstNode) -> set[str]:
    """Names of the statements under an AST node."""
    found: set[str] = set()

    def visit(n: isl.AstNode) -> bool:
        if n.get_type() == isl.ast_node_type.user:
            found.add(n.user_get_expr().op_get_arg(0).id_get_id().get_name())
        return True

    node.foreach_descendant_top_down(visit)
    return found
