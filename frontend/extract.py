"""From a parsed region to a `looper.ir.Scop`: domains, accesses, 2d+1 schedules and bodies.

Parameters are listed in order of first appearance (reading the region top to bottom, a loop's
lower bound before its condition). The context says that every parameter is at least 1
(or at least its macro value, when that is smaller): simple, and true of every PolyBench size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import islpy as isl

from frontend.affine import Affine, NotAffine, int_value, linear_coefficient
from frontend.calls import MATH_FUNCTIONS, callees
from frontend.declarations import Declaration
from frontend.errors import FrontendWarning
from frontend.policy import MacroPolicy
from frontend.source import Source, SourceError
from frontend.syntax import Block, DeclStmt, EmptyStmt, ExprStmt, ForStmt, IfStmt, IncDec, ParsedRegion, Stmt
from looper.expr import Assign, Binary, Call, Expr, Index, Name
from looper.ir import Access, Array, Region, Scop, Statement

_CTX = isl.DEFAULT_CONTEXT
_FLOAT_TYPES = frozenset({"float", "double", "long double", "_Complex"})


@dataclass
class RegionContext:
    """Everything about a region's surroundings that extraction needs."""

    source: Source
    region: Region
    macros: dict
    policy: MacroPolicy
    lookup: Callable[[str], Declaration | None]  # a declaration visible at the region (not region locals)
    resolve_type: Callable[[str], str | None]  # a C type as written -> its expansion into C keywords
    warnings: list[FrontendWarning] = field(default_factory=list)  # assumptions made (calls taken as pure)


@dataclass
class _Access:
    array: str
    relation: isl.Map | None  # None: a scalar read decided at the end (it may turn out to be a parameter)
    is_write: bool
    node: Expr | None = None


@dataclass
class _Stmt:
    body: Assign
    iterators: tuple[str, ...]
    reversed: tuple[bool, ...]
    positions: tuple[int, ...]  # the scalar dimensions of the 2d+1 schedule
    domain: isl.Set
    accesses: list[_Access]
    start: int
    end: int


@dataclass
class _Scope:
    iterators: tuple[str, ...] = ()
    reversed: tuple[bool, ...] = ()
    positions: tuple[int, ...] = ()
    domain: isl.Set = field(default_factory=lambda: isl.Set.universe(isl.Space.set_alloc(_CTX, 0, 0)))


def extract(parsed: ParsedRegion, ctx: RegionContext) -> Scop:
    """Build the Scop of one parsed region (raises SourceError with an offset on anything unsupported)."""
    return _Extractor(parsed, ctx).run()


class _Extractor:
    def __init__(self, parsed: ParsedRegion, ctx: RegionContext) -> None:
        self.parsed = parsed
        self.ctx = ctx
        self.params: dict[str, int | None] = {}
        self.stmts: list[_Stmt] = []
        self.locals: dict[str, str] = {}
        self.dims: dict[str, int] = {}  # subscripts per array, from the first use
        self.first_use: dict[str, int] = {}
        self.iterators: set[str] = set()
        self.written: set[str] = set()
        self._depth = 0  # macro expansions being converted, to stop runaway recursion
        self._pure: set[str] = set()  # functions already warned about in this region
        for stmt in parsed.items:
            self._prescan(stmt)

    # Errors carry the best offset we have: the node's (a macro's use for its expansion), else the region's.
    def _err(self, message: str, node: Expr | None = None, offset: int | None = None) -> SourceError:
        if offset is None:
            offset = self.parsed.span(node, self.ctx.region.start)[0]
        return SourceError(message, offset)

    def _prescan(self, s: Stmt) -> None:
        """Collect loop iterators and every variable the region writes (they cannot be parameters)."""
        if isinstance(s, ForStmt):
            if isinstance(s.init, Assign):
                self.iterators.add(s.init.target.array)
            self._prescan(s.body)
        elif isinstance(s, IfStmt):
            self._prescan(s.then)
            if s.else_ is not None:
                self._prescan(s.else_)
        elif isinstance(s, Block):
            for x in s.items:
                self._prescan(x)
        elif isinstance(s, ExprStmt):
            e = s.expr
            while isinstance(e, Assign):
                self.written.add(e.target.array)
                e = e.value
        elif isinstance(s, DeclStmt):
            for d in s.items:
                self.written.add(d.name)

    def run(self) -> Scop:
        counter = [0]
        for s in self.parsed.items:
            self._stmt(s, _Scope(), counter)
        return self._finish()

    # Statements.
    def _stmt(self, s: Stmt, scope: _Scope, counter: list[int]) -> None:
        try:
            self._stmt_kind(s, scope, counter)
        except isl.Error as exc:
            raise _isl_failure(exc, s.start) from None

    def _stmt_kind(self, s: Stmt, scope: _Scope, counter: list[int]) -> None:
        if isinstance(s, ForStmt):
            self._for(s, scope, counter)
        elif isinstance(s, IfStmt):
            aff = self._affine(scope)
            cond = self._cond(aff, s.cond, "the if condition")
            self._stmt(
                s.then, _Scope(scope.iterators, scope.reversed, scope.positions, scope.domain.intersect(cond)), counter
            )
            if s.else_ is not None:
                other = scope.domain.subtract(cond)
                self._stmt(s.else_, _Scope(scope.iterators, scope.reversed, scope.positions, other), counter)
        elif isinstance(s, Block):
            for x in s.items:
                self._stmt(x, scope, counter)
        elif isinstance(s, ExprStmt):
            self._expr_stmt(s, scope, counter)
        elif isinstance(s, DeclStmt):
            self._decl(s, scope, counter)
        elif isinstance(s, EmptyStmt):
            pass

    def _expr_stmt(self, s: ExprStmt, scope: _Scope, counter: list[int]) -> None:
        e = s.expr
        if isinstance(e, Assign):
            self._statement(e, scope, counter, s.start, s.end)
        elif isinstance(e, Call):
            raise self._err(
                f"the call '{e.func}(...)' as a statement is not supported: its effects are unknown "
                "(only assignments can be statements of a Scop)",
                e,
            )
        elif isinstance(e, IncDec):
            raise self._err(f"'{e.op}' as a statement is not supported; write an assignment such as x += 1", e)
        else:
            raise self._err("an expression statement must be an assignment", e)

    def _decl(self, s: DeclStmt, scope: _Scope, counter: list[int]) -> None:
        for d in s.items:
            if d.dims:
                raise SourceError(f"local array '{d.name}' declared inside a scop region is not supported", d.start)
            if d.name in self.iterators:
                raise SourceError(f"'{d.name}' is declared inside the region but is also a loop iterator", d.start)
            self.locals.setdefault(d.name, s.type)
            if d.init is not None:
                target = Index(d.name, ())
                self.parsed.spans[id(target)] = (d.start, d.start + len(d.name))
                assign = Assign("=", target, d.init)
                self._statement(assign, scope, counter, d.start, d.end)

    def _for(self, f: ForStmt, scope: _Scope, counter: list[int]) -> None:
        init = f.init
        if not (isinstance(init, Assign) and init.op == "=" and not init.target.indices):
            raise SourceError(
                "a for loop must start by assigning its iterator (for (i = lower; ...))",
                self.parsed.span(init, f.start)[0] if init is not None else f.start,
            )
        it = init.target.array
        step = _step(f.step, it)
        if f.step is None:
            raise SourceError(
                f"the for loop over '{it}' has no step (only i++ / i-- style steps are supported)", f.start
            )
        if step is None:
            raise self._err(f"the step of the loop over '{it}' must be {it}++, {it}--, {it} += 1 or {it} -= 1", f.step)
        if step not in (1, -1):
            raise self._err(f"the loop over '{it}' steps by {step}; only steps of +1 and -1 are supported", f.step)
        if it in scope.iterators:
            raise self._err(f"'{it}' is already the iterator of an enclosing loop", init.target)
        if f.cond is None:
            raise SourceError(f"the loop over '{it}' has no condition, so it has no affine upper bound", f.start)
        if any(isinstance(n, Name) and n.name == it for n in init.value.walk()):
            raise self._err(f"the lower bound of the loop over '{it}' uses '{it}' itself", init.value)
        iters = (*scope.iterators, it)
        aff = self._affine_for(iters)
        depth = len(scope.iterators)
        dom = scope.domain.add_dims(isl.dim_type.set, 1).set_dim_name(isl.dim_type.set, depth, it)
        start = self._value(aff, init.value, f"the lower bound of the loop over '{it}'")
        var = aff.var(depth)
        dom = dom.intersect(var.ge_set(start) if step == 1 else var.le_set(start))
        dom = dom.intersect(self._loop_cond(aff, f.cond, it, step))
        inner = _Scope(iters, (*scope.reversed, step == -1), (*scope.positions, counter[0]), dom)
        counter[0] += 1
        self._stmt(f.body, inner, [0])

    def _loop_cond(self, aff: Affine, cond: Expr, it: str, step: int) -> isl.Set:
        """A loop condition: a conjunction of comparisons, one of which bounds the iterator in its direction."""
        bounded = False
        for part in _conjuncts(cond):
            if not (isinstance(part, Binary) and part.op in ("<", "<=", ">", ">=")):
                raise self._err(
                    f"unsupported loop condition '{_show(part)}': use <, <=, > or >= comparisons joined by &&", part
                )
            a, b = linear_coefficient(part.left, it), linear_coefficient(part.right, it)
            if a is None or b is None:
                raise self._err(f"the loop condition '{_show(part)}' is not affine in '{it}'", part)
            c = a - b
            if c == 0:
                continue
            upper = (c > 0) == (part.op in ("<", "<="))
            if upper != (step == 1):
                raise self._err(
                    f"the condition '{_show(part)}' of the loop over '{it}' does not stop the loop "
                    f"(it bounds '{it}' from the side the loop starts on)",
                    part,
                )
            bounded = True
        if not bounded:
            raise self._err(f"the condition of the loop over '{it}' does not bound '{it}'", cond)
        return self._cond(aff, cond, f"the condition of the loop over '{it}'")

    # Assignments.
    def _statement(self, assign: Assign, scope: _Scope, counter: list[int], start: int, end: int) -> None:
        aff = self._affine(scope)
        accesses: list[_Access] = []
        e: Expr = assign
        while isinstance(e, Assign):
            self._write(e, aff, scope, accesses)
            e = e.value
        self._reads(e, aff, scope, accesses)
        positions = (*scope.positions, counter[0])
        counter[0] += 1
        self.stmts.append(_Stmt(assign, scope.iterators, scope.reversed, positions, scope.domain, accesses, start, end))

    def _write(self, e: Assign, aff: Affine, scope: _Scope, accesses: list[_Access]) -> None:
        target = e.target
        name = target.array
        if name in scope.iterators:
            raise self._err(f"the loop iterator '{name}' is assigned inside its loop", target)
        if name in self.iterators:
            raise self._err(
                f"'{name}' is a loop iterator of this region; assigning it outside its loop is not supported", target
            )
        rel = self._access(name, target.indices, aff, target)
        if e.op != "=":
            accesses.append(_Access(name, rel, False, target))
        accesses.append(_Access(name, rel, True, target))

    def _reads(self, e: Expr, aff: Affine, scope: _Scope, accesses: list[_Access]) -> None:
        """Record the reads of an expression in source order."""
        if isinstance(e, Index):
            accesses.append(_Access(e.array, self._access(e.array, e.indices, aff, e), False, e))
            return
        if isinstance(e, Name):
            if e.name in scope.iterators:
                return
            if e.name in self.iterators:
                raise self._err(f"the loop iterator '{e.name}' is used outside its loop", e)
            accesses.append(_Access(e.name, None, False, e))
            return
        if isinstance(e, Assign):
            raise self._err("an assignment inside an expression is not supported", e)
        if isinstance(e, IncDec):
            raise self._err(f"'{e.op}' inside an expression is not supported", e)
        if isinstance(e, Call):
            self._body_call(e)
        for child in e.children():
            self._reads(child, aff, scope, accesses)

    def _body_call(self, call: Call) -> None:
        """A call in a body: math functions pass, others are assumed pure (a warning), pointers are refused."""
        decl = self._declaration(call.func)
        if decl is not None:
            raise self._err(
                f"'{call.func}' is a variable, so this is a call through a function pointer: not supported, "
                "since what it calls is known only at run time",
                call,
            )
        names = callees(call, self.ctx.macros)
        if names is None:
            names = [call.func]
        for name in names:
            if name in MATH_FUNCTIONS or name in self._pure:
                continue
            if self._declaration(name) is not None:
                raise self._err(f"'{call.func}' calls through the function pointer '{name}': not supported", call)
            self._pure.add(name)
            via = f" (called by the macro '{call.func}')" if name != call.func else ""
            offset = self.parsed.span(call, self.ctx.region.start)[0]
            line, col = self.ctx.source.line_col(offset)
            self.ctx.warnings.append(
                FrontendWarning(
                    f"call to '{name}'{via}, which is not a C math function: assumed to have no side effects "
                    "(to read only its arguments and write nothing)",
                    self.ctx.source.name,
                    line,
                    col,
                )
            )

    def _access(self, name: str, indices: tuple[Expr, ...], aff: Affine, node: Expr) -> isl.Map:
        """The access relation of `name[indices...]` (a scalar when there are no indices)."""
        n = len(indices)
        if name in self.params:
            raise self._err(
                f"'{name}' is used as a parameter (in a bound, condition or subscript) and as a variable", node
            )
        known = self.dims.setdefault(name, n)
        if known != n:
            raise self._err(f"'{name}' is used with {n} subscript(s) here and {known} elsewhere", node)
        decl = self._declaration(name)
        if decl is not None and len(decl.sizes) != n:
            what = "a scalar" if not decl.sizes else f"{len(decl.sizes)} dimension(s)"
            raise self._err(f"'{name}' is declared with {what} but used with {n} subscript(s)", node)
        self.first_use.setdefault(name, len(self.first_use))
        if n == 0:
            space = isl.Space.create_from_names(_CTX, in_=list(aff.iterators), out=[])
            rel = isl.Map.universe(space)
        else:
            pieces = [self._value(aff, x, f"subscript {k + 1} of '{name}'") for k, x in enumerate(indices)]
            rel = isl.Map.from_pw_aff(pieces[0])
            for p in pieces[1:]:
                rel = rel.flat_range_product(isl.Map.from_pw_aff(p))
        return rel.set_tuple_name(isl.dim_type.out, name)

    # Affine positions.
    def _affine(self, scope: _Scope) -> Affine:
        return self._affine_for(scope.iterators)

    def _affine_for(self, iters: tuple[str, ...]) -> Affine:
        return Affine(iters, self._resolve, self._call)

    def _value(self, aff: Affine, e: Expr, what: str) -> isl.PwAff:
        try:
            return aff.expr(e)
        except NotAffine as exc:
            raise self._err(f"{what} is not affine: {exc.message}", exc.node or e) from None

    def _cond(self, aff: Affine, e: Expr, what: str) -> isl.Set:
        try:
            return aff.cond(e)
        except NotAffine as exc:
            raise self._err(f"{what} is not affine: {exc.message}", exc.node or e) from None

    def _resolve(self, name: str, node: Expr, aff: Affine) -> isl.PwAff:
        """A non-iterator name in an affine position: a parameter, or a macro expansion."""
        if name in self.iterators:
            raise NotAffine(f"the loop iterator '{name}' is used outside its loop", node, hard=True)
        if name in self.written:
            raise NotAffine(
                f"'{name}' is assigned inside the region, so it cannot be used in a loop bound, condition or subscript",
                node,
                hard=True,
            )
        decl = self._declaration(name)
        if decl is not None and decl.sizes:
            raise NotAffine(f"the array '{name}' is used without subscripts", node, hard=True)
        if name in self.params:
            return aff.param(name)
        kind, what = self.ctx.policy.lookup(name)
        if kind == "expand":
            expanded = self._expand(what, node, aff)  # type: ignore[arg-type]
            if expanded is not None:
                return expanded
            what = None
        if decl is not None and self.ctx.resolve_type(decl.type) in _FLOAT_TYPES:
            raise NotAffine(f"'{name}' has the floating-point type {decl.type}", node, hard=True)
        if name in self.first_use:
            raise NotAffine(f"'{name}' is used as a variable and as a parameter", node, hard=True)
        self.params[name] = what  # type: ignore[assignment]
        return aff.param(name)

    def _expand(self, expr: Expr, node: Expr, aff: Affine) -> isl.PwAff | None:
        """Convert a macro's expansion; None (so: a parameter) if it is not affine."""
        self._depth += 1
        try:
            if self._depth > 50:
                raise NotAffine("macros expand too deeply", node, hard=True)
            return aff.expr(expr)
        except NotAffine as exc:
            if not exc.hard:
                return None
            self._at_use(exc, node)
            raise
        finally:
            self._depth -= 1

    def _call(self, call: Call, aff: Affine) -> isl.PwAff:
        expanded = self.ctx.policy.expand_call(call)
        if expanded is None:
            raise NotAffine(
                f"the call '{_show(call)}' is not an affine expression (only min, max, floord, ceild "
                "and macros expanding to affine expressions are)",
                call,
            )
        self._depth += 1
        try:
            if self._depth > 50:
                raise NotAffine("macros expand too deeply", call, hard=True)
            return aff.expr(expanded)
        except NotAffine as exc:
            self._at_use(exc, call)
            raise
        finally:
            self._depth -= 1

    def _at_use(self, exc: NotAffine, use: Expr) -> None:
        """Point an error inside a macro's expansion (which has no position) at the macro's use."""
        if exc.node is None or id(exc.node) not in self.parsed.spans:
            exc.node = use

    def _declaration(self, name: str) -> Declaration | None:
        if name in self.locals:
            return Declaration(name, self.locals[name], ())
        return self.ctx.lookup(name)

    # The Scop.
    def _finish(self) -> Scop:
        written_params = [p for p in self.params if p in self.written]
        if written_params:
            raise self._err(
                f"'{written_params[0]}' is assigned inside the region but used as a parameter",
                offset=self.ctx.region.start,
            )
        params = tuple(self.params)
        model = isl.Space.create_from_names(_CTX, set=[], params=list(params)).params()
        depth = max((len(s.iterators) for s in self.stmts), default=0)
        statements: list[Statement] = []
        arrays: dict[str, Array] = {}
        for k, s in enumerate(self.stmts):
            name = f"S{k}"
            try:
                domain = s.domain.coalesce().remove_redundancies().align_params(model).set_tuple_name(name)
            except isl.Error as exc:
                raise _isl_failure(exc, s.start) from None
            accesses: list[Access] = []
            for a in s.accesses:
                if a.relation is None:
                    rel = self._scalar_read(a, s)
                    if rel is None:
                        continue
                else:
                    rel = a.relation
                rel = rel.align_params(model).set_tuple_name(isl.dim_type.in_, name)
                accesses.append(Access(a.array, rel, a.is_write))
                if a.array not in arrays:
                    arrays[a.array] = self._array(a.array)
            line, col = self.ctx.source.line_col(s.start)
            statements.append(
                Statement(
                    name=name,
                    iterators=s.iterators,
                    domain=domain,
                    schedule=_schedule(name, s, depth).align_params(model),
                    body=s.body,
                    accesses=tuple(accesses),
                    line=line,
                    column=col,
                    span=(s.start, s.end),
                )
            )
        return Scop(
            params=params,
            context=_context(model, self.params),
            arrays=arrays,
            statements=tuple(statements),
            region=self.ctx.region,
            locals=dict(self.locals),
            param_values={p: v for p, v in self.params.items() if v is not None},
        )

    def _scalar_read(self, a: _Access, s: _Stmt) -> isl.Map | None:
        """A name read in a body: a 0-d array if it is a variable, nothing if it is a parameter or a constant."""
        name = a.array
        if name in self.params:
            return None
        decl = self._declaration(name)
        if decl is None and name not in self.written:
            return None  # a macro or an unknown name (an enum constant, M_PI): a constant, not a variable
        if decl is not None and decl.sizes:
            raise self._err(f"the array '{name}' is used without subscripts", a.node)
        if self.dims.setdefault(name, 0) != 0:
            raise self._err(f"'{name}' is used with {self.dims[name]} subscript(s) elsewhere", a.node)
        self.first_use.setdefault(name, len(self.first_use))
        space = isl.Space.create_from_names(_CTX, in_=list(s.iterators), out=[])
        return isl.Map.universe(space).set_tuple_name(isl.dim_type.out, name)

    def _array(self, name: str) -> Array:
        decl = self._declaration(name)
        n = self.dims.get(name, 0)
        if decl is None:
            return Array(name, "", ("",) * n, None)
        return Array(name, decl.type, decl.sizes, self.ctx.resolve_type(decl.type))


def _schedule(name: str, s: _Stmt, depth: int) -> isl.Map:
    """The 2d+1 schedule [p0, i0, p1, i1, ..., pd] padded with zeros (a reversed loop runs over -i)."""
    space = isl.Space.alloc(_CTX, 0, len(s.iterators), 2 * depth + 1)
    for k, it in enumerate(s.iterators):
        space = space.set_dim_name(isl.dim_type.in_, k, it)
    m = isl.Map.universe(space)
    for k in range(2 * depth + 1):
        level, is_loop = divmod(k, 2)
        if is_loop and level < len(s.iterators):
            if s.reversed[level]:
                m = m.oppose(isl.dim_type.in_, level, isl.dim_type.out, k)
            else:
                m = m.equate(isl.dim_type.in_, level, isl.dim_type.out, k)
        else:
            v = s.positions[level] if not is_loop and level < len(s.positions) else 0
            m = m.fix_val(isl.dim_type.out, k, isl.Val.int_from_si(_CTX, v))
    return m.set_tuple_name(isl.dim_type.in_, name)


def _context(model: isl.Space, params: dict[str, int | None]) -> isl.Set:
    """Every parameter is at least 1 (or at least its known value, if that is smaller)."""
    ctx = isl.Set.universe(model)
    ls = isl.LocalSpace.from_space(model)
    for k, (_name, value) in enumerate(params.items()):
        lower = 1 if value is None else min(1, value)
        c = isl.Constraint.inequality_alloc(ls).set_coefficient_val(isl.dim_type.param, k, isl.Val.one(_CTX))
        c = c.set_constant_val(isl.Val.int_from_si(_CTX, -lower))
        ctx = ctx.add_constraint(c)
    return ctx


def _step(step: Expr | None, it: str) -> int | None:
    """+1/-1 (or another constant) for `i++`, `--i`, `i += c`, `i -= c`, `i = i + c`; None if not a step of `it`."""
    if isinstance(step, IncDec) and isinstance(step.operand, Name) and step.operand.name == it:
        return 1 if step.op == "++" else -1
    if isinstance(step, Assign) and step.target.array == it and not step.target.indices:
        v = step.value
        if step.op in ("+=", "-="):
            c = int_value(v)
            return None if c is None else (c if step.op == "+=" else -c)
        if step.op == "=" and isinstance(v, Binary) and v.op in "+-":
            if isinstance(v.left, Name) and v.left.name == it:
                c = int_value(v.right)
                return None if c is None else (c if v.op == "+" else -c)
            if v.op == "+" and isinstance(v.right, Name) and v.right.name == it:
                return int_value(v.left)
    return None


def _isl_failure(exc: isl.Error, offset: int) -> SourceError:
    """An isl error as a user-facing error (mostly: the operation limit the reader sets)."""
    if "maximal number of operations" in str(exc):
        return SourceError(
            "the conditions of this code are too complex to analyse (isl's operation limit was reached)", offset
        )
    return SourceError(f"isl failed on this code: {exc}", offset)


def _conjuncts(e: Expr) -> Iterator[Expr]:
    if isinstance(e, Binary) and e.op == "&&":
        yield from _conjuncts(e.left)
        yield from _conjuncts(e.right)
    else:
        yield e


def _show(e: Expr) -> str:
    try:
        return e.to_c()
    except TypeError:
        return type(e).__name__
