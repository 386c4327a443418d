"""Sweeping families of the "use" scale: relaxations, coupled fields and line sweeps.

Each is written from its mathematical definition with random variants, as the families of
`families`. They read what they write along a whole run (k, or time), so values stay finite by one
argument: each statement is a convex combination (floating point: weights whose magnitudes sum to at
most 1) or the minimum or maximum of its value and the mean of two values, so no value ever leaves
the largest bound of what it reads. A relaxation relaxes through half the path's length
(`min(D[i][j], (D[i][k] + D[k][j]) / 2)`) for that reason: a true shortest path through negative
values would diverge.
"""

from __future__ import annotations

from costmodel.generator.builder import Builder
from costmodel.generator.model import Iter, Lin, Loop, Node, Ref, Stmt, Sub, Term, Var, constant
from costmodel.generator.patterns import chain, its_of, neighbour

# ---- relaxations ------------------------------------------------------------------------------------


def relaxation(b: Builder, max_depth: int) -> list[Node]:
    """Path relaxation through every intermediate k (Floyd-Warshall-like), or rounds against a weight matrix."""
    b.tags.update(("relaxation", "minmax"))
    n = b.rng.choice(b.params)
    lk, li, lj = b.rect("k", n, down=False), b.rect("i", n), b.rect("j", n)
    order = [lk, li, lj] if b.chance(0.8) else [lk, lj, li]
    dist = b.target([li.it, lj.it])
    nodes: list[Node] = []
    if b.chance(0.4):  # start from a copy of the weights, in a nest of its own
        l1, l2 = b.rect("i", n), b.rect("j", n)
        weights = b.operand((n, n))
        its = [l1.it, l2.it]
        nodes.append(chain([l1, l2], [b.mix(b.at(dist, its, [l1, l2]), [1.0], [b.at(weights, its, [l1, l2])])]))
    k, i, j = lk.it, li.it, lj.it
    via = dist if b.chance(0.7) else b.operand((n, n))  # D[k][j], or a weight matrix (a min-plus product)
    x = b.at(dist, [i, j], order)
    step = Stmt("relax", x, [Term(1.0, (x,)), Term(1.0, (b.at(dist, [i, k], order), b.at(via, [k, j], order)))],
                style=b.rng.randint(0, 1))
    root = chain(order, [step])
    if via is not dist and max_depth >= 4 and b.chance(0.5):  # rounds of relaxation (Bellman-Ford-like)
        root = chain([b.time_loop()], [root])
    nodes.append(root)
    return nodes


# ---- coupled fields ----------------------------------------------------------------------------------


def _distinct(b: Builder, its: list[Iter], taken: list[Var]) -> Var:
    """An array written with these iterators' sizes that is none of `taken` (then added to it)."""
    var = b.target(its)
    if any(var is t for t in taken):
        var = b.new_array(tuple(it.param for it in its))
        var.written = True
        b.nest_written.add(var.name)
    taken.append(var)
    return var


def coupled_fields(b: Builder, max_depth: int) -> list[Node]:
    """Time steps updating fields from differences of another and back, in 1-3 dimensions (FDTD-like)."""
    b.tags.add("coupled_fields")  # and "time_iterated", from the time loop
    dim = b.rng.randint(1, min(3, max_depth - 1))
    params = [b.rng.choice(b.params) for _ in range(dim)]

    def box() -> list[Loop]:  # the interior: every neighbour at distance one stays in bounds
        loops = [b.rect("ijk"[d], params[d], 1, down=False) for d in range(dim)]
        return loops if b.chance(0.85) else loops[::-1]

    def at(var: Var, loops: list[Loop], axis: int, shift: int) -> Ref:  # var[i][j + shift] along axis
        its = sorted(its_of(loops), key=lambda it: "ijk".index(it.name))
        return b.ref(var, [neighbour(it, shift if d == axis else 0) for d, it in enumerate(its)], loops)

    taken: list[Var] = []
    grid = [Iter("ijk"[d], params[d], 0, Lin.of(params[d], 1, -1)) for d in range(dim)]
    h = _distinct(b, grid, taken)
    es = [_distinct(b, grid, taken) for _ in range(dim)]
    integer = b.dtype == "int"
    we = 1.0 if integer else b.rng.choice((0.1, 0.125, 0.2))
    wh = 1.0 if integer else b.rng.choice((0.05, 0.1, 0.125))
    sweeps: list[Node] = []
    if dim >= 2 and b.chance(0.5):  # a source on one face every step: E[0][j] = S[j]
        loops = [b.rect("jk"[d - 1], params[d], 1, down=False) for d in range(1, dim)]
        face = [constant(0), *(b.sub(it, "plain") for it in its_of(loops))]
        src = b.operand(tuple(params[1:]))
        sweeps.append(chain(loops, [b.mix(b.ref(es[0], face, loops), [1.0], [b.at(src, its_of(loops), loops)])]))
    for axis, e in enumerate(es):  # E += w (H[.. i - 1 ..] - H[.. i ..]) along its axis
        loops = box()
        terms = [Term(1.0 if integer else round(1 - 2 * we, 6), (at(e, loops, axis, 0),)),
                 Term(we, (at(h, loops, axis, -1),)), Term(-we, (at(h, loops, axis, 0),))]
        sweeps.append(chain(loops, [Stmt("assign", at(e, loops, axis, 0), terms)]))
    loops = box()
    terms = [Term(1.0 if integer else round(1 - 2 * dim * wh, 6), (at(h, loops, 0, 0),))]
    for axis, e in enumerate(es):  # H -= w (E[.. i + 1 ..] - E[.. i ..]) over every axis
        terms += [Term(-wh, (at(e, loops, axis, 1),)), Term(wh, (at(e, loops, axis, 0),))]
    update_h = chain(loops, [Stmt("assign", at(h, loops, 0, 0), terms)])
    sweeps = [update_h, *sweeps] if b.chance(0.25) else [*sweeps, update_h]
    return [chain([b.time_loop()], sweeps)]


# ---- line sweeps -------------------------------------------------------------------------------------


def line_sweep(b: Builder, max_depth: int) -> list[Node]:
    """Alternating-direction line solves: per line a forward recurrence, then a backward one; columns, then rows."""
    b.tags.update(("line_sweep", "imperfect"))
    n = b.rng.choice(b.params)
    taken: list[Var] = []
    box = [b.rect("i", n), b.rect("j", n)]
    both = b.chance(0.75)  # columns then rows (each grid written by one half), or the columns only
    v = _distinct(b, its_of(box), taken)
    u = _distinct(b, its_of(box), taken) if both else b.operand((n, n))
    per_line = b.chance(0.3)  # the recurrence's coefficients in one vector reused by every line
    coef = [_distinct(b, its_of(box)[1:] if per_line else its_of(box), taken) for _ in range(2)]
    halves: list[Node] = [_half_sweep(b, n, u, v, coef, per_line, across=True)]
    if both:
        halves.append(_half_sweep(b, n, v, u, coef, per_line, across=False))
    if max_depth >= 3 and b.chance(0.8):
        return [chain([b.time_loop()], halves)]
    return halves


def _half_sweep(b: Builder, n: str, src: Var, dst: Var, coef: list[Var], per_line: bool, *, across: bool) -> Loop:
    """For each line i: P, Q along j from src, then dst back along j (dst[j][i] when `across`, else dst[i][j])."""
    li = b.rect("i", n, 1, down=False)
    fwd, bwd = b.rect("j", n, 1, down=False), b.rect("j", n, 1, down=True)
    zero = constant(0)
    i = li.it

    def cell(var: Var, along: Sub, line: Sub, env: list[Loop]) -> Ref:  # var[along][line] or var[line][along]
        return b.ref(var, [along, line] if across else [line, along], env)

    def coefficient(var: Var, along: Sub, env: list[Loop]) -> Ref:  # P[i][j], or P[j] shared by the lines
        return b.ref(var, [along] if per_line else [b.sub(i, "plain"), along], env)

    p, q = coef
    plain_i = b.sub(i, "plain")
    start = [Stmt("assign", coefficient(p, zero, [li]), []),
             b.mix(coefficient(q, zero, [li]), [1.0], [cell(dst, zero, plain_i, [li])])]
    env = [li, fwd]
    j = fwd.it
    ws = b.weights(2)
    k = b.operand((n,))
    reads = [coefficient(p, neighbour(j, -1), env), b.at(k, [j], env)]
    forward = [b.mix(coefficient(p, b.sub(j, "plain"), env), ws, reads)]
    ws = b.weights(5)
    reads = [coefficient(q, neighbour(j, -1), env),
             *(cell(src, b.sub(j, "plain"), neighbour(i, d), env) for d in (-1, 0, 1)),
             coefficient(p, b.sub(j, "plain"), env)]
    forward.append(b.mix(coefficient(q, b.sub(j, "plain"), env), ws, reads))
    env = [li, bwd]
    j = bwd.it
    ws = b.weights(3)
    reads = [cell(dst, neighbour(j, 1), plain_i, env), coefficient(q, b.sub(j, "plain"), env),
             coefficient(p, b.sub(j, "plain"), env)]
    backward = b.mix(cell(dst, b.sub(j, "plain"), plain_i, env), ws, reads)
    return chain([li], [*start, chain([fwd], forward), chain([bwd], [backward])])
