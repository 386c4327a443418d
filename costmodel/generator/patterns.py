"""Nest patterns: element-wise, reductions, matrix products, stencils and free-form random nests."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from costmodel.generator.builder import ITERATORS, MAX_ARRAYS, Builder
from costmodel.generator.model import Iter, Loop, Node, Ref, Stmt, Sub, Term, Var


def chain(loops: list[Loop], body: Sequence[Node]) -> Loop:
    """Nest loops into each other (first outermost) around `body`; return the outermost."""
    loops[-1].body.extend(body)
    for outer, inner in itertools.pairwise(loops):
        outer.body.insert(0, inner)
    return loops[0]


def spine(b: Builder, d: int, env: Sequence[Loop] = (), *, first: int = 0) -> list[Loop]:
    """d loops, each possibly bounded by an enclosing one (not yet nested: see chain)."""
    loops: list[Loop] = []
    for n in range(d):
        loops.append(b.loop(ITERATORS[first + n], [*env, *loops]))
    return loops


def guarded(b: Builder, env: list[Loop], nodes: list[Node], p: float = 0.12) -> list[Node]:
    """Sometimes wrap nodes in an affine `if`."""
    return [b.guard(env, nodes)] if b.chance(p) else nodes


def its_of(loops: list[Loop]) -> list[Iter]:
    return [lp.it for lp in loops]


def elementwise(b: Builder, max_depth: int) -> list[Node]:
    """`X[i][j] = f(A[i][j], B[j][i], ...)`: 1-3 statements, maybe a shallower one and a scalar temporary."""
    b.tags.add("elementwise")
    d = b.rng.randint(1, min(3, max_depth))
    loops = spine(b, d)
    body: list[Node] = []
    for _ in range(b.rng.randint(1, 3)):
        its = its_of(loops)
        if b.chance(0.2):
            b.rng.shuffle(its)
        if b.chance(0.15) and "tmp" not in b.vars:
            tmp = b.temp()
            body.append(b.assign(Ref(tmp), loops))
            x = b.write_ref(b.target(its), its, loops)
            w = b.weights(2)
            other = b.read_ref(b.source(loops, product=False), loops)
            body.append(Stmt("assign", x, [Term(w[0], (Ref(tmp),)), Term(w[1], (other,))]))
        elif b.chance(0.2):
            body.append(b.select(b.write_ref(b.target(its), its, loops), loops))
        else:
            body.append(b.assign(b.write_ref(b.target(its), its, loops), loops))
    root = chain(loops, guarded(b, loops, body))
    if d >= 2 and b.chance(0.3):  # imperfect: one statement at a shallower level
        level = b.rng.randint(1, d - 1)
        env = loops[:level]
        stmt = b.assign(b.write_ref(b.target(its_of(env)[-3:]), its_of(env)[-3:], env), env)
        host = loops[level - 1].body
        host.insert(0 if b.chance(0.5) else len(host), stmt)
        b.tags.add("imperfect")
    return [root]


def reduction(b: Builder, max_depth: int) -> list[Node]:
    """`X[i] += A[i][j] * x[j]` over 2-5 loops, maybe with an initialisation between the loops."""
    b.tags.add("reduction_array")
    d = b.rng.randint(2, max_depth)
    loops = spine(b, d)
    r = b.rng.randint(1, min(3, d - 1))
    prefix = b.chance(0.7)
    w_loops = loops[:r] if prefix else sorted(b.rng.sample(loops, r), key=loops.index)
    if not prefix and b.chance(0.3):
        b.rng.shuffle(w_loops)
    x = b.write_ref(b.target(its_of(w_loops)), its_of(w_loops), loops)
    update = tuple(lp for lp in loops if lp not in w_loops)
    body: list[Node] = [b.accumulate(x, loops, update)]
    if b.chance(0.3):  # a second reduction over other dimensions (bicg-like)
        w2 = sorted(b.rng.sample(loops, b.rng.randint(1, min(3, d - 1))), key=loops.index)
        x2 = b.write_ref(b.target(its_of(w2)), its_of(w2), loops)
        body.append(b.accumulate(x2, loops, tuple(lp for lp in loops if lp not in w2)))
    root = chain(loops, guarded(b, loops, body, 0.1))
    if prefix and b.chance(0.5):  # initialise the reduced element where its iterators are all bound
        init = b.scale(x) if b.chance(0.5) else Stmt("assign", x, [])
        loops[r - 1].body.insert(0, init)
        b.tags.add("imperfect")
    return [root]


def matmul(b: Builder, max_depth: int) -> list[Node]:
    """C[i][j] += alpha * A[i][k] * B[k][j]: any loop order, gemm-like, batched or triangular."""
    b.tags.add("matmul")
    pi, pj, pk = (b.rng.choice(b.params) for _ in range(3))
    batched = max_depth >= 4 and b.chance(0.25)
    outer = [b.rect("l", b.rng.choice(b.params))] if batched else []
    li, lj = b.rect("i", pi), b.rect("j", pj)
    lk = b.triangle("k", li) if b.chance(0.2) else b.rect("k", pk)
    bi = [lp.it for lp in outer]

    def operand(dims: tuple[str, ...]) -> Var:
        var = b.operand(dims, reuse=0.5)
        b.nest_product_reads.add(var.name)
        return var

    env = [*outer, li, lj, lk]
    c = b.write_ref(b.target([*bi, li.it, lj.it]), [*bi, li.it, lj.it], env)
    pairs = []
    for first, second in ((li.it, lk.it), (lk.it, lj.it)):
        if b.chance(0.25):
            first, second = second, first
        var = operand(tuple(it.param for it in [*bi, first, second]))
        pairs.append(b.at(var, [*bi, first, second], env))
    w = b.weights(1)[0]
    acc = Stmt("accumulate", c, [Term(abs(w) if b.dtype != "int" else 1, tuple(pairs),
                                      b.scalar_param() if b.chance(0.5) else None)], (lk,), style=b.rng.randint(0, 2))
    if b.chance(0.4):  # gemm: i { j: C *= beta; k { j: C += ... } }
        lj2 = b.rect("j", pj, down=lj.step < 0)  # the same iterator box as lj
        lj.body.append(b.scale(c))
        b.tags.add("imperfect")
        li.body += [lj, chain([lk, lj2], [acc])]
        return [chain([*outer, li], [])] if outer else [li]
    order = [li, lj, lk]
    b.rng.shuffle(order)
    if lk.triangular and order.index(lk) < order.index(li):
        order.remove(lk)
        order.append(lk)
    root = chain([*outer, *order], [acc])
    if order[2] is lk and b.chance(0.5):
        order[1].body.insert(0, Stmt("assign", c, []))
        b.tags.add("imperfect")
    return [root]


def scalar_reduction(b: Builder, max_depth: int) -> list[Node]:
    """for i { s = init; for j: s += ...; Y[i] = a * s + b * Y[i]; }"""
    b.tags.update(("reduction_scalar", "imperfect"))
    d = b.rng.randint(2, min(4, max_depth))
    o = b.rng.randint(1, d - 1)
    outer = spine(b, o)
    inner = spine(b, d - o, outer, first=o)
    s = b.temp()
    env = [*outer, *inner]
    init = Stmt("assign", Ref(s), []) if b.chance(0.6) else b.assign(Ref(s), outer, products=False)
    acc = b.accumulate(Ref(s), env, tuple(inner))
    w_its = its_of(outer)[-3:]
    y = b.write_ref(b.target(w_its), w_its, outer)
    if b.chance(0.5):
        w = b.weights(2)
        final = Stmt("assign", y, [Term(abs(w[0]), (Ref(s),), b.scalar_param() if b.chance(0.3) else None),
                                   Term(w[1], (y,))])
    else:
        final = b.mix(y, [1.0], [Ref(s)])
    chain(outer, [init, chain(inner, [acc]), final])
    return [outer[0]]


STAR: dict[int, list[tuple[int, ...]]] = {
    1: [(-1,), (0,), (1,)],
    2: [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)],
    3: [(0, 0, 0), (-1, 0, 0), (1, 0, 0), (0, -1, 0), (0, 1, 0), (0, 0, -1), (0, 0, 1)],
}


def stencil(b: Builder, max_depth: int) -> list[Node]:
    """Jacobi (two arrays) or Gauss-Seidel (in place) stencils in 1-3 dimensions, maybe time-iterated."""
    dim = b.rng.randint(1, min(3, max_depth))
    timed = dim < max_depth and b.chance(0.65)
    b.tags.add(f"stencil_{dim}d")
    param = b.rng.choice(b.params)
    params = [param if b.chance(0.7) else b.rng.choice(b.params) for _ in range(dim)]
    points = list(STAR[dim])
    if dim == 1 and b.chance(0.3):
        points += [(-2,), (2,)]
    elif dim == 2 and b.chance(0.3):
        points += [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    radius = max(abs(c) for p in points for c in p)
    in_place = b.chance(0.4)

    def grid(write: bool) -> Var:
        old = [v for v in b.arrays() if v.dims == tuple(params) and v.name not in b.nest_written]
        reuse = old and (b.chance(0.4) or len(b.vars) >= MAX_ARRAYS)
        var = b.rng.choice(old) if reuse else b.new_array(tuple(params))
        if write:
            var.written = True
            b.nest_written.add(var.name)
        return var

    a = grid(in_place or timed)

    def sweep(src: Var, dst: Var, copy: bool) -> Loop:
        loops = [b.rect(ITERATORS[n], params[n], radius) for n in range(dim)]
        its = its_of(loops)
        dst_ref = b.at(dst, its, loops)
        if copy:
            return chain(loops, [b.mix(dst_ref, [1.0], [b.at(src, its, loops)])])
        refs = [b.ref(src, [neighbour(it, c) for it, c in zip(its, p, strict=True)], loops) for p in points]
        return chain(loops, [b.average(dst_ref, refs)])

    nests: list[Node]
    if in_place:
        b.tags.add("gauss_seidel")
        nests = [sweep(a, a, False)]
    else:
        b.tags.add("jacobi")
        tmp = grid(True)
        # untimed: one sweep B = f(A), so that the nest count stays what the program asked for
        nests = [sweep(a, tmp, False), sweep(tmp, a, b.chance(0.3))] if timed else [sweep(a, tmp, False)]
    if timed:
        return [chain([b.time_loop()], nests)]
    return nests


def neighbour(it: Iter, c: int) -> Sub:
    """`i`, `i - 1`, `i + 2`: a stencil neighbour (the loop's margin keeps it >= 0)."""
    text = it.name if c == 0 else f"{it.name} {'+' if c > 0 else '-'} {abs(c)}"
    return Sub(text, it.hi.plus(c + 1), (it.name,), "plain" if c == 0 else "offset")


def generic(b: Builder, max_depth: int) -> list[Node]:
    """A free-form random nest: 1-5 loops, statements of every kind at several depths, maybe a sibling loop."""
    b.tags.add("generic")
    d = b.rng.randint(1, max_depth)
    loops = spine(b, d)
    for n in range(b.rng.randint(1, 4)):
        level = d if n == 0 else b.rng.choice([d, d, d, *range(1, d + 1)])  # the innermost loop is never empty
        env = loops[:level]
        stmt = _random_stmt(b, env)
        host = loops[level - 1].body
        if level < d:
            b.tags.add("imperfect")
        host.insert(b.rng.randint(0, len(host)), stmt)
    if d >= 2 and b.chance(0.2):  # a sibling loop after the inner one
        level = b.rng.randint(1, d - 1)
        sib = b.loop(ITERATORS[level], loops[:level])
        env = [*loops[:level], sib]
        sib.body.append(_random_stmt(b, env))
        loops[level - 1].body.append(sib)
        b.tags.add("imperfect")
    for outer, inner in itertools.pairwise(loops):
        outer.body.insert(b.rng.randint(0, len(outer.body)), inner)
    if b.chance(0.15):
        inner_body = loops[-1].body
        loops[-1].body = guarded(b, loops, inner_body, 1.0)
    return [loops[0]]


def _random_stmt(b: Builder, env: list[Loop]) -> Stmt:
    """One statement of a random kind, writing an array indexed by some of the enclosing iterators."""
    r = b.rng.randint(1, min(3, len(env)))
    w_loops = b.rng.sample(env, r)
    its = its_of(w_loops)
    x = b.write_ref(b.target(its), its, env)
    kind = b.rng.choices(("assign", "accumulate", "select", "scale"), (5, 3, 1, 1))[0]
    if kind == "accumulate":
        b.tags.add("reduction_array")
        return b.accumulate(x, env, tuple(lp for lp in env if lp not in w_loops))
    if kind == "select":
        return b.select(x, env, reduce=b.chance(0.5))
    if kind == "scale" and r == len(env):  # repeated along a loop, `X *= beta` would decay into denormals
        return b.scale(x)
    return b.assign(x, env)


PATTERNS: dict[str, tuple[int, Callable[[Builder, int], list[Node]], int]] = {
    # name: (smallest depth, builder, weight)
    "elementwise": (1, elementwise, 3),
    "reduction": (2, reduction, 3),
    "matmul": (3, matmul, 2),
    "scalar_reduction": (2, scalar_reduction, 2),
    "stencil": (1, stencil, 3),
    "generic": (1, generic, 4),
}
