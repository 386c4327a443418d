"""Random building blocks of a nest: loops, subscripts, arrays and statements, all kept in bounds.

Every iterator carries a box (a constant lower end, a size-affine upper end); every subscript is
an affine function of boxed iterators with a non-negative minimum, and each array dimension grows
to the largest subscript value + 1. So accesses stay in bounds at every size, however small.

Values stay finite by construction, checked statement by statement (see emit.finalize): floating
point right-hand sides are weighted sums with weights summing to at most 1 ("convex"), except
accumulations, whose weights are scaled once sizes are known; a product never reads an array that
its own nest writes, so no nest can square its values again and again. Integer programs reduce
every result `% 1009` and multiply at most two values, so nothing overflows.
"""

from __future__ import annotations

import itertools
import math
import random

from costmodel.generator.model import (
    TSTEPS,
    Bound,
    Guard,
    Iter,
    Lin,
    Loop,
    Node,
    Ref,
    Stmt,
    Sub,
    Term,
    Var,
    constant,
    loop_bound,
)

ITERATORS = ("i", "j", "k", "l", "r")
ARRAY_NAMES = ("A", "B", "C", "D", "E", "F", "G", "H", "U", "V", "W", "X", "Y", "Z")
MAX_ARRAYS = 9
FLOAT_WEIGHTS = (0.5, 0.25, 0.75, 0.2, 0.3, 0.4, 0.6, 0.125, 0.1, 0.9)


class Builder:
    """The random state of one program: its sizes, variables, tags and the nest being built."""

    def __init__(self, rng: random.Random, dtype: str, params: list[str]) -> None:
        self.rng = rng
        self.dtype = dtype
        self.params = params
        self.vars: dict[str, Var] = {}
        self.tags: set[str] = set()
        self.uses_tsteps = False
        self.nest_written: set[str] = set()
        self.nest_product_reads: set[str] = set()

    def chance(self, p: float) -> bool:
        """True with probability p."""
        return self.rng.random() < p

    def begin_nest(self) -> None:
        """Forget which variables the previous nest wrote."""
        self.nest_written = set()
        self.nest_product_reads = set()

    # ---- loops ---------------------------------------------------------------------------------

    def rect(self, name: str, param: str, margin: int = 0, *, down: bool | None = None) -> Loop:
        """`for (i = margin; i < _PB_P - margin; i++)`, sometimes counting down."""
        if down is None:
            down = self.chance(0.1)
        upper = Bound(param, True, -1 - margin)
        loop = Loop(Iter(name, param, margin, Lin.of(param, 1, -1 - margin)), Bound(const=margin), upper,
                    step=-1 if down else 1, exclusive=self.chance(0.6))
        if down:
            self.tags.add("decrementing")
        return loop

    def time_loop(self) -> Loop:
        """`for (t = 0; t < _PB_TSTEPS; t++)`."""
        self.uses_tsteps = True
        self.tags.add("time_iterated")
        return Loop(Iter("t", TSTEPS, 0, Lin.of(TSTEPS, 1, -1)), Bound(), Bound(TSTEPS, True, -1),
                    exclusive=self.chance(0.7))

    def triangle(self, name: str, outer: Loop) -> Loop:
        """A loop bounded by an outer iterator: j <= i, j < i, j = i .. N-1, j = i + 1 .. N-1."""
        o = outer.it
        form = self.rng.choice(("le", "lt", "ge", "gt"))
        if form == "le":  # 0 <= j <= i   (also spelled j < i + 1)
            it, lower, upper = Iter(name, o.param, 0, o.hi), Bound(), Bound(o.name)
        elif form == "lt":  # 0 <= j <= i - 1
            it, lower, upper = Iter(name, o.param, 0, o.hi.plus(-1)), Bound(), Bound(o.name, const=-1)
        else:  # i (+1) <= j <= P - 1
            shift = int(form == "gt")
            it = Iter(name, o.param, o.lo + shift, Lin.of(o.param, 1, -1))
            lower, upper = Bound(o.name, const=shift), Bound(o.param, True, -1)
        down = self.chance(0.1)
        if down:
            self.tags.add("decrementing")
        self.tags.add("triangular")
        return Loop(it, lower, upper, step=-1 if down else 1, exclusive=self.chance(0.5), triangular=True)

    def loop(self, name: str, env: list[Loop], *, triangular: float = 0.2, param: str | None = None) -> Loop:
        """A rectangular loop over a random size, or (sometimes) triangular under an enclosing loop."""
        outers = [lp for lp in env if lp.it.param != TSTEPS and not lp.triangular]
        if outers and param is None and self.chance(triangular):
            return self.triangle(name, self.rng.choice(outers))
        return self.rect(name, param or self.rng.choice(self.params))

    def guard(self, env: list[Loop], body: list[Node]) -> Guard:
        """An `if` on the enclosing iterators: `i >= j`, `i + j <= _PB_N`, `j > 1`."""
        its = [lp.it for lp in env if lp.it.param != TSTEPS]
        self.tags.add("guard")
        a = self.rng.choice(its)
        # two iterators, unless one's bounds already order them (`j <= i` and `if (i < j)` leave nothing)
        related = {frozenset((lp.it.name, bd.base)) for lp in env for bd in (lp.lower, lp.upper)
                   if bd.base and not bd.is_param}
        others = [x for x in its if x is not a and frozenset((a.name, x.name)) not in related]
        if others and self.chance(0.6):
            b = self.rng.choice(others)
            if self.chance(0.5):
                return Guard(f"{a.name} {self.rng.choice(('>=', '>', '<=', '<'))} {b.name}", body)
            return Guard(f"{a.name} + {b.name} {self.rng.choice(('<=', '<'))} {loop_bound(a.param)}", body)
        # against a constant: only tests that most iterations pass, so the work stays what sizes.py expects
        return Guard(f"{a.name} {self.rng.choice(('>', '>='))} {self.rng.randint(1, 3)}", body, 0.9)

    # ---- subscripts ----------------------------------------------------------------------------

    def sub(self, it: Iter, form: str, other: Iter | None = None) -> Sub:
        """A subscript of one form over iterator `it`; falls back to plain when the form does not fit."""
        rng = self.rng
        if form == "offset":
            d = rng.choice([d for d in (-2, -1, 1, 1, 2) if it.lo + d >= 0] or [1])
            return Sub(f"{it.name} {'+' if d > 0 else '-'} {abs(d)}", it.hi.plus(d + 1), (it.name,), form)
        if form == "strided":
            d = rng.choice((0, 1))
            text = f"2 * {it.name}" + (" + 1" if d else "")
            return Sub(text, it.hi.times(2).plus(d + 1), (it.name,), form)
        if form == "reversed" and it.hi.single:
            # hi - it runs from 0 up to hi - lo; spelled with the size, e.g. `_PB_N - 1 - i`
            text = f"{it.hi.render(loop_bound)} - {it.name}"
            return Sub(text, it.hi.plus(1 - it.lo), (it.name,), form)
        if form == "sum" and other is not None:
            return Sub(f"{it.name} + {other.name}", it.hi.add(other.hi).plus(1), (it.name, other.name), form)
        return Sub(it.name, it.hi.plus(1), (it.name,), "plain")

    def read_ref(self, var: Var, env: list[Loop]) -> Ref:
        """A read of `var` from the iterators of `env` (matching sizes first), in some varied form."""
        its = [lp.it for lp in env if lp.it.param != TSTEPS]
        subs: list[Sub] = []
        used: set[str] = set()
        for p in var.dims:
            pool = [it for it in its if it.name not in used]
            same = [it for it in pool if it.param == p]
            cands = same or pool or its
            if not cands or self.chance(0.03):
                c = self.rng.choice((0, 1))
                subs.append(constant(c))
                continue
            it = self.rng.choice(cands)
            used.add(it.name)
            form = self.rng.choices(("plain", "offset", "strided", "reversed", "sum"), (72, 12, 6, 5, 5))[0]
            others = [o for o in its if o is not it]
            subs.append(self.sub(it, form, self.rng.choice(others) if others else None))
        return self.ref(var, subs, env)

    def write_ref(self, var: Var, its: list[Iter], env: list[Loop]) -> Ref:
        """A write of `var` indexed by distinct iterators (injective, so updates per element are countable)."""
        subs = []
        for it in its:
            form = self.rng.choices(("plain", "offset", "strided"), (86, 9, 5))[0]
            subs.append(self.sub(it, form))
        return self.ref(var, subs, env)

    def at(self, var: Var, its: list[Iter], env: list[Loop]) -> Ref:
        """`A[i][j]`: plain subscripts in this order."""
        return self.ref(var, [self.sub(it, "plain") for it in its], env)

    def ref(self, var: Var, subs: list[Sub], env: list[Loop]) -> Ref:
        """Record the extents a reference needs and the tags its subscripts earn."""
        for d, s in enumerate(subs):
            var.need[d] = var.need[d].join(s.need)
            if s.form in ("offset", "strided"):
                self.tags.add(s.form)
        order = [lp.it.name for lp in env]
        pos = [order.index(s.iters[0]) for s in subs if len(s.iters) == 1]
        if any(a > b for a, b in itertools.pairwise(pos)):
            self.tags.add("transposed")
        return Ref(var, tuple(subs))

    # ---- variables -----------------------------------------------------------------------------

    def new_array(self, dims: tuple[str, ...]) -> Var:
        """A fresh array with nominal sizes `dims`."""
        names = (*ARRAY_NAMES, *(f"{n}{k}" for k in range(2, 9) for n in ARRAY_NAMES))
        name = next(n for n in names if n not in self.vars)
        var = Var(name, dims, need=[Lin.of(p) for p in dims])
        self.vars[name] = var
        return var

    def arrays(self) -> list[Var]:
        return [v for v in self.vars.values() if v.kind == "array"]

    def target(self, its: list[Iter]) -> Var:
        """An array to write with these iterators: an existing one of the same sizes, or a new one."""
        dims = tuple(it.param for it in its)
        old = [v for v in self.arrays() if v.dims == dims and v.name not in self.nest_product_reads]
        if old and (self.chance(0.5) or len(self.vars) >= MAX_ARRAYS):
            var = self.rng.choice(old)
        else:
            var = self.new_array(dims)
        var.written = True
        self.nest_written.add(var.name)
        return var

    def source(self, env: list[Loop], *, product: bool, avoid: tuple[Var, ...] = ()) -> Var:
        """An array to read: often one the program already has (a dependence), else a new input."""
        its = [lp.it for lp in env if lp.it.param != TSTEPS]
        old = [v for v in self.arrays() if v not in avoid and not (product and v.name in self.nest_written)]
        if old and (self.chance(0.55) or len(self.vars) >= MAX_ARRAYS):
            var = self.rng.choice(old)
        else:
            rank = self.rng.randint(1, min(3, len(its)))
            var = self.new_array(tuple(it.param for it in self.rng.sample(its, rank)))
        if product:
            self.nest_product_reads.add(var.name)
        return var

    def operand(self, dims: tuple[str, ...], reuse: float = 0.4) -> Var:
        """An array of these sizes to read: one the program has (not written by this nest; with probability
        `reuse`), or a new input."""
        old = [v for v in self.arrays() if v.dims == dims and v.name not in self.nest_written]
        if old and (self.chance(reuse) or len(self.vars) >= MAX_ARRAYS):
            return self.rng.choice(old)
        return self.new_array(dims)

    def scalar_param(self) -> Var:
        """`alpha` or `beta`: a read-only scalar argument of the kernel."""
        name = self.rng.choice(("alpha", "beta"))
        if name not in self.vars:
            value = self.rng.choice((2, 3)) if self.dtype == "int" else self.rng.choice((0.5, 0.75, 0.9, 0.6))
            self.vars[name] = Var(name, (), "param", value=value)
        return self.vars[name]

    def temp(self) -> Var:
        """A scalar temporary declared in the kernel before the region."""
        name = next(n for n in ("s", "acc", "tmp", "u", "w") if n not in self.vars)
        var = Var(name, (), "temp", written=True)
        self.vars[name] = var
        self.nest_written.add(name)
        self.tags.add("scalar_temp")
        return var

    # ---- statements ----------------------------------------------------------------------------

    def weights(self, n: int) -> list[float]:
        """n weights summing to at most 1 (floating point), or small integers."""
        if self.dtype == "int":
            return [self.rng.choice((1, 1, 2, 3, -1)) for _ in range(n)]
        raw = [self.rng.choice(FLOAT_WEIGHTS) for _ in range(n)]
        total = sum(raw)
        # rounded down: a sum just above 1 would grow values geometrically along a long recurrence
        ws = [math.floor(w / total * 1000) / 1000 if total > 1 else w for w in raw]
        return [-w if self.chance(0.15) else w for w in ws]

    def terms(self, env: list[Loop], n: int, *, products: bool, avoid: tuple[Var, ...] = ()) -> list[Term]:
        """n summands: single reads (any array) or products of two reads of arrays this nest does not write."""
        out = []
        for w in self.weights(n):
            if products and self.chance(0.45):
                refs = tuple(self.read_ref(self.source(env, product=True, avoid=avoid), env) for _ in range(2))
            else:
                refs = (self.read_ref(self.source(env, product=False, avoid=avoid), env),)
            factor = self.scalar_param() if self.chance(0.12) else None
            out.append(Term(w, refs, factor))
        return out

    def assign(self, target: Ref, env: list[Loop], *, products: bool = True) -> Stmt:
        """`X = w0 * A[..] + w1 * B[..] * C[..] ...` (weights summing to at most 1)."""
        terms = self.terms(env, self.rng.randint(1, 3), products=products)
        self.tags.add("products" if any(len(t.refs) > 1 for t in terms) else "linear")
        return self.cover(Stmt("assign", target, terms), env)

    def accumulate(self, target: Ref, env: list[Loop], update: tuple[Loop, ...]) -> Stmt:
        """`X += w * A[..] * B[..]`: terms read arrays this nest does not write, so the sum grows linearly."""
        n = self.rng.choice((1, 1, 2))
        terms = []
        for w in self.weights(n):
            k = self.rng.choice((1, 2, 2))
            refs = tuple(self.read_ref(self.source(env, product=True, avoid=(target.var,)), env) for _ in range(k))
            terms.append(Term(abs(w) if self.dtype != "int" else w, refs,
                              self.scalar_param() if self.chance(0.2) else None))
        return self.cover(Stmt("accumulate", target, terms, update, style=self.rng.randint(0, 2)), env)

    def cover(self, st: Stmt, env: list[Loop]) -> Stmt:
        """Add reads so that every enclosing iterator appears (else gcc may drop whole loops as dead work)."""
        used = {n for ref in (st.target, *(r for t in st.terms for r in t.refs)) for s in ref.subs for n in s.iters}
        missing = [lp.it for lp in env if lp.it.param != TSTEPS and lp.it.name not in used]
        product = st.kind == "accumulate"
        for start in range(0, len(missing), 3):
            group = missing[start:start + 3]
            dims = tuple(it.param for it in group)
            old = [v for v in self.arrays() if v.dims == dims and v is not st.target.var
                   and not (product and v.name in self.nest_written)]
            reuse = old and (self.chance(0.5) or len(self.vars) >= MAX_ARRAYS)
            var = self.rng.choice(old) if reuse else self.new_array(dims)
            if product:
                self.nest_product_reads.add(var.name)
            ref = self.at(var, group, env)
            st.terms.append(Term(self.weights(1)[0] if self.dtype == "int" else 0.5, (ref,)))
        if missing and self.dtype != "int" and st.kind == "assign":
            total = sum(abs(t.weight) for t in st.terms)
            for t in st.terms:  # renormalise: the weights of an assignment sum to at most 1
                t.weight = math.copysign(math.floor(abs(t.weight) / max(total, 1.0) * 1000) / 1000, t.weight)
        return st

    def average(self, target: Ref, refs: list[Ref]) -> Stmt:
        """`X = (R0 + R1 + ...) * w` with w <= 1 / count: stencils, in place or not."""
        return Stmt("average", target, [Term(1.0, (r,)) for r in refs], style=self.rng.randint(0, 1))

    @staticmethod
    def mix(target: Ref, weights: list[float], reads: list[Ref]) -> Stmt:
        """`X = w0 * R0 + w1 * R1 + ...`: weights as given (a copy when one weight of 1)."""
        return Stmt("assign", target, [Term(w, (r,)) for w, r in zip(weights, reads, strict=True)])

    def select(self, target: Ref, env: list[Loop], *, reduce: bool = False) -> Stmt:
        """`X = A > B ? A : B` (max or min), or the reduction `X = X < A ? X : A`."""
        a = Ref(target.var, target.subs) if reduce else self.read_ref(self.source(env, product=False), env)
        b = a
        for _ in range(4):  # `A[i] > A[i] ? ...` would be dead code
            b = self.read_ref(self.source(env, product=False), env)
            if b.render() != a.render():
                break
        self.tags.add("minmax")
        return Stmt("select", target, [Term(1.0, (a,)), Term(1.0, (b,))], style=self.rng.randint(0, 1))

    def scale(self, target: Ref) -> Stmt:
        """`X *= beta` (a bounded self-update; gemm's first statement)."""
        return Stmt("scale", target, [Term(1.0, (target,), self.scalar_param())], style=self.rng.randint(0, 1))
