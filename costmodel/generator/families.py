"""Program families of the "use" scale: solves, factorizations, product chains, normalisations and tensor
contractions; the table of every family, with the sweeping ones of `sweeps`.

Each family is written from its mathematical definition, with random variants (loop orders, triangle
directions, which statements exist), so that it is a family and not one kernel. Accesses stay in
bounds as everywhere (boxed iterators, plain subscripts). Values stay finite by these arguments:

- Product chains and normalisations keep the builder's invariants: accumulations get their weights
  from the renderer once sizes are known, products read only arrays their own loop nest does not
  write, with one exception that runs once per element: `X[i][j] = w * X[i][j] * S[j]` (the renderer
  caps w). Centring `X[i][j] = X[i][j] - mean[j]` is not convex, but it too runs once per element,
  and the renderer's bound for it is the sum of the two bounds.
- Solves and factorizations are recurrences: they read what they write, across rows (a
  substitution) or pivots (an elimination), which is their point. The renderer scales an
  accumulation so that its estimated total is at most ACC_CAP (2) measured against the arrays'
  bounds; a triangular loop runs up to twice its estimated trips, so the real total is at most
  2 * ACC_CAP * (the real values / the bounds). The arrays a recurrence writes get the bound floor
  RECURRENT_BOUND (16) before rendering, which makes the recurrence contract:
  * a substitution x_i = b_i +- sum_j w T_ij x_j adds at most 4 / 16 of the largest earlier x, so
    every x stays below 4/3 of its right-hand side's bound B;
  * an elimination update a_ij +- w a_ik a_kj adds at most 4 M^2 / Ab^2 over all pivots, Ab >= max(16, B)
    the bound the renderer used, so all values stay below M = 2 B (4 (2B)^2 / Ab^2 <= B as Ab^2 >= 16 B);
    a multiplier a_ik * a_kk is a product, whose weight the renderer caps at 4 / Ab^2.
  A floor is only a larger bound than the renderer would track: the weights of anything else that
  reads these arrays get smaller, never larger. Integer programs reduce `% 1009` as everywhere, and
  multiply at most two values (times a small weight and alpha).
- Relaxations, coupled fields and line sweeps live in `sweeps`, with their own argument.
- A contraction in place (`X[i][k] = S[k]` after `S[k] += w X[i][l] C[l][k]`) overwrites each element
  once, from the old values: the exception above.
Statements can only multiply, so "dividing by a pivot" is multiplying by a reciprocal the program
holds: the diagonal element (as an LDL^T factor keeps 1 / d), a vector of reciprocals, or alpha.
"""

from __future__ import annotations

from collections.abc import Callable

from costmodel.generator.builder import Builder
from costmodel.generator.model import Bound, Iter, Lin, Loop, Node, Ref, Stmt, Term, Var
from costmodel.generator.patterns import chain, its_of
from costmodel.generator.sweeps import coupled_fields, line_sweep, relaxation

RECURRENT_BOUND = 16.0  # the bound floor of an array a recurrence writes (see the module docstring)

Operand = tuple[Var, bool]  # an array and whether it is stored transposed


# ---- helpers the Builder does not have -------------------------------------------------------------


def _recurrent(var: Var) -> Var:
    """Give an array that a recurrence reads and writes its bound floor, so the renderer makes it contract."""
    var.bound = max(var.bound, RECURRENT_BOUND)
    return var


def _scalar(b: Builder) -> Var:
    """A scalar temporary: a new one, or one an earlier nest used when all the names are taken."""
    try:
        return b.temp()
    except StopIteration:  # Builder.temp has five names; this nest sets the temporary before reading it
        var = b.rng.choice([v for v in b.vars.values() if v.kind == "temp"])
        b.nest_written.add(var.name)
        return var


def _tri(b: Builder, it: Iter, lower: Bound, upper: Bound, down: bool | None) -> Loop:
    """A loop with a bound on an enclosing iterator, boxed by `it`; it counts down sometimes when free to."""
    if down is None:
        down = b.chance(0.15)
    if down:
        b.tags.add("decrementing")
    b.tags.add("triangular")
    return Loop(it, lower, upper, step=-1 if down else 1, exclusive=b.chance(0.5), triangular=True)


def _after(b: Builder, name: str, outer: Loop, shift: int = 1, *, down: bool | None = None) -> Loop:
    """`for (j = i + shift; j < _PB_N; j++)`: the part of a row or column past a diagonal."""
    o = outer.it
    it = Iter(name, o.param, o.lo + shift, Lin.of(o.param, 1, -1))
    return _tri(b, it, Bound(o.name, const=shift), Bound(o.param, True, -1), down)


def _before(b: Builder, name: str, outer: Loop, shift: int = 1, *, down: bool | None = None) -> Loop:
    """`for (j = 0; j <= i - shift; j++)`: the part of a row or column before a diagonal."""
    o = outer.it
    it = Iter(name, o.param, 0, o.hi.plus(-shift))
    return _tri(b, it, Bound(), Bound(o.name, const=-shift), down)


def _between(b: Builder, name: str, low: Loop, high: Loop, *, down: bool | None = None) -> Loop:
    """`for (j = k + 1; j <= i; j++)`: between two enclosing iterators (a triangle in a triangle)."""
    it = Iter(name, high.it.param, low.it.lo + 1, high.it.hi)
    return _tri(b, it, Bound(low.it.name, const=1), Bound(high.it.name), down)


def _update(b: Builder, target: Ref, left: Ref, right: Ref, update: tuple[Loop, ...], sign: float = -1.0) -> Stmt:
    """`X += sign * w * L * R` along `update` (the renderer picks w from the bounds once sizes are known)."""
    return Stmt("accumulate", target, [Term(sign, (left, right))], update, style=b.rng.randint(0, 2))


def _reciprocal(b: Builder, target: Ref, mat: Var, d: Iter, env: list[Loop]) -> Stmt:
    """`X = X * A[d][d]` (the diagonal holds reciprocals), `X = X * D[d]` (a vector of them) or `X *= alpha`."""
    kind = b.rng.choice(("diagonal", "vector", "scalar"))
    if kind == "scalar":
        return b.scale(target)
    var = mat if kind == "diagonal" else b.operand((d.param,))
    return Stmt("assign", target, [Term(1.0, (target, b.at(var, [d, d] if kind == "diagonal" else [d], env)))])


# ---- triangular solves -------------------------------------------------------------------------------


def trisolve(b: Builder, max_depth: int) -> list[Node]:
    """Forward or backward substitution with a triangular matrix: one right-hand side, or several (trsm)."""
    b.tags.add("trisolve")
    n = b.rng.choice(b.params)
    mat = b.operand((n, n))
    b.nest_product_reads.add(mat.name)  # read in products: not the array the solution goes to
    forward = b.chance(0.5)
    if max_depth >= 3 and b.chance(0.5):
        return [_trsm(b, mat, forward)]
    return [_trsv(b, mat, forward)]


def _coef(b: Builder, mat: Var, row: Iter, col: Iter, env: list[Loop], transposed: bool) -> Ref:
    """T[row][col], or T[col][row] when the matrix is stored the other way round."""
    return b.at(mat, [col, row] if transposed else [row, col], env)


def _trsv(b: Builder, mat: Var, forward: bool) -> Loop:
    """x = T^-1 b by rows (a dot product per row, in a scalar or in place) or by columns (axpy updates)."""
    n = mat.dims[0]
    transposed = b.chance(0.25)
    part = _before if forward else _after  # the unknowns already solved for, relative to a row
    style = b.rng.choice(("scalar", "scalar", "in_place", "columns"))
    if style == "columns":  # each solved unknown x[j] updates the rows still to solve
        lj = b.rect("j", n, down=not forward)
        li = (_after if forward else _before)(b, "i", lj)
        x = _recurrent(b.target([lj.it]))
        env = [lj, li]
        upd = _update(b, b.at(x, [li.it], env), _coef(b, mat, li.it, lj.it, env, transposed),
                      b.at(x, [lj.it], env), (lj,), b.rng.choice((-1.0, -1.0, 1.0)))
        body: list[Node] = [chain([li], [upd])]
        if b.chance(0.7):
            body.insert(0, _reciprocal(b, b.at(x, [lj.it], [lj]), mat, lj.it, [lj]))
            b.tags.add("imperfect")
        return chain([lj], body)
    li = b.rect("i", n, down=not forward)
    lj = part(b, "j", li)
    env = [li, lj]
    x = _recurrent(b.target([li.it]))
    xi = b.at(x, [li.it], [li])
    coef, xj = _coef(b, mat, li.it, lj.it, env, transposed), b.at(x, [lj.it], env)
    b.tags.add("imperfect")
    if style == "in_place":  # x holds the right-hand side, and then the solution
        after = [_reciprocal(b, xi, mat, li.it, [li])] if b.chance(0.6) else []
        return chain([li], [chain([lj], [_update(b, xi, coef, xj, (lj,), b.rng.choice((-1.0, 1.0)))]), *after])
    s = _scalar(b)
    rhs = b.at(b.operand((n,)), [li.it], [li])
    if b.chance(0.5):  # s = b[i]; s -= T[i][j] * x[j]; x[i] = s (* reciprocal)
        finish = Term(1.0, (Ref(s), b.at(mat, [li.it, li.it], [li])) if b.chance(0.5) else (Ref(s),))
        stmts = [b.mix(Ref(s), [1.0], [rhs]), _update(b, Ref(s), coef, xj, (lj,)),
                 Stmt("assign", xi, [finish])]
    else:  # s = 0; s += T[i][j] * x[j]; x[i] = b[i] - s
        stmts = [Stmt("assign", Ref(s), []), _update(b, Ref(s), coef, xj, (lj,), 1.0),
                 Stmt("assign", xi, [Term(1.0, (rhs,)), Term(-1.0, (Ref(s),))])]
    return chain([li], [stmts[0], chain([lj], [stmts[1]]), stmts[2]])


def _trsm(b: Builder, mat: Var, forward: bool) -> Loop:
    """T X = B for several right-hand sides (the columns of X): by rows, per element, or by columns."""
    n, m = mat.dims[0], b.rng.choice(b.params)
    transposed = b.chance(0.25)
    style = b.rng.choice(("element", "rows", "columns"))
    if style == "columns":  # row j of X is solved: scale it, then subtract it from the rows still to solve
        lj = b.rect("j", n, down=not forward)
        li = (_after if forward else _before)(b, "i", lj)
        lk, lk2 = b.rect("k", m), b.rect("k", m)
        x = _recurrent(b.target([lj.it, lk.it]))
        env = [lj, li, lk]
        upd = _update(b, b.at(x, [li.it, lk.it], env), _coef(b, mat, li.it, lj.it, env, transposed),
                      b.at(x, [lj.it, lk.it], env), (lj,))
        body: list[Node] = [chain([li, lk], [upd])]
        if b.chance(0.7):
            body.insert(0, chain([lk2], [_reciprocal(b, b.at(x, [lj.it, lk2.it], [lj, lk2]), mat, lj.it,
                                                     [lj, lk2])]))
            b.tags.add("imperfect")
        return chain([lj], body)
    li = b.rect("i", n, down=not forward)
    lk = b.rect("k", m)
    lj = (_before if forward else _after)(b, "j", li)
    x = _recurrent(b.target([li.it, lk.it]))
    b.tags.add("imperfect")
    if style == "rows":  # for each row: X[i][k] -= T[i][j] * X[j][k] over j, k; then scale row i
        env = [li, lj, lk]
        upd = _update(b, b.at(x, [li.it, lk.it], env), _coef(b, mat, li.it, lj.it, env, transposed),
                      b.at(x, [lj.it, lk.it], env), (lj,))
        body = [chain([lj, lk], [upd])]
        if b.chance(0.7):
            lk2 = b.rect("k", m)
            body.append(chain([lk2], [_reciprocal(b, b.at(x, [li.it, lk2.it], [li, lk2]), mat, li.it,
                                                  [li, lk2])]))
        return chain([li], body)
    # per element, in a scalar: the column loop outside or inside the row loop (columns are independent)
    outer = [li, lk] if b.chance(0.6) else [lk, li]
    env = [*outer, lj]
    s = _scalar(b)
    xik = b.at(x, [li.it, lk.it], outer)
    rhs = b.at(b.operand((n, m)), [li.it, lk.it], outer)
    upd = _update(b, Ref(s), _coef(b, mat, li.it, lj.it, env, transposed), b.at(x, [lj.it, lk.it], env), (lj,))
    factor = b.scalar_param() if b.chance(0.3) else None
    chain(outer, [b.mix(Ref(s), [1.0], [rhs]), chain([lj], [upd]),
                  Stmt("assign", xik, [Term(1.0, (Ref(s),), factor)])])
    return outer[0]


# ---- factorizations --------------------------------------------------------------------------------


def factorization(b: Builder, max_depth: int) -> list[Node]:
    """In-place elimination: LU in one of four loop orders, or a symmetric (Cholesky-like, no sqrt) one of three."""
    b.tags.update(("factorization", "imperfect"))
    n = b.rng.choice(b.params)
    variant = b.rng.choice((_lu_kij, _lu_right, _lu_ikj, _lu_jki, _ldl_right, _ldl_left, _ldl_rows))
    return [variant(b, n)]


def _matrix(b: Builder, loop: Loop) -> Var:
    """The square matrix a factorization overwrites (its recurrence bound floor set)."""
    return _recurrent(b.target([loop.it, loop.it]))


def _lu_kij(b: Builder, n: str) -> Loop:
    """for k { for i > k { a_ik *= r_k; for j > k: a_ij -= a_ik a_kj } }: right-looking, row by row."""
    lk = b.rect("k", n, down=False)
    return _lu_rowwise(b, lk, _after(b, "i", lk), pivot_outer=True)


def _lu_right(b: Builder, n: str) -> Loop:
    """for k { for i > k: a_ik *= r_k; rank-1 update of the trailing matrix, rows or columns outer }."""
    lk = b.rect("k", n, down=False)
    li = _after(b, "i", lk)
    a = _matrix(b, lk)
    mult = _reciprocal(b, b.at(a, [li.it, lk.it], [lk, li]), a, lk.it, [lk, li])
    li2, lj = _after(b, "i", lk), _after(b, "j", lk)
    order = [lj, li2] if b.chance(0.5) else [li2, lj]
    env = [lk, *order]
    k, i, j = lk.it, li2.it, lj.it
    upd = _update(b, b.at(a, [i, j], env), b.at(a, [i, k], env), b.at(a, [k, j], env), (lk,))
    return chain([lk], [chain([li], [mult]), chain(order, [upd])])


def _lu_ikj(b: Builder, n: str) -> Loop:
    """for i { for k < i { a_ik *= r_k; for j > k: a_ij -= a_ik a_kj } }: row by row (Doolittle)."""
    li = b.rect("i", n, down=False)
    return _lu_rowwise(b, li, _before(b, "k", li, down=False), pivot_outer=False)


def _lu_rowwise(b: Builder, outer: Loop, middle: Loop, *, pivot_outer: bool) -> Loop:
    """What both row-wise LU orders share: `outer { middle { a_ik *= r_k; for j > k: a_ij -= a_ik a_kj } }`,
    the pivot loop k being `outer` (kij) or `middle` (ikj)."""
    lk, li = (outer, middle) if pivot_outer else (middle, outer)
    lj = _after(b, "j", lk)
    a = _matrix(b, outer)
    k, i, j = lk.it, li.it, lj.it
    mult = _reciprocal(b, b.at(a, [i, k], [outer, middle]), a, k, [outer, middle])
    env = [outer, middle, lj]
    upd = _update(b, b.at(a, [i, j], env), b.at(a, [i, k], env), b.at(a, [k, j], env), (lk,))
    return chain([outer, middle], [mult, chain([lj], [upd])])


def _lu_jki(b: Builder, n: str) -> Loop:
    """for j { for k < j: for i > k: a_ij -= a_ik a_kj; for i > j: a_ij *= r_j }: left-looking, by columns."""
    lj = b.rect("j", n, down=False)
    lk = _before(b, "k", lj, down=False)
    li = _after(b, "i", lk)
    a = _matrix(b, lj)
    j, k, i = lj.it, lk.it, li.it
    env = [lj, lk, li]
    upd = _update(b, b.at(a, [i, j], env), b.at(a, [i, k], env), b.at(a, [k, j], env), (lk,))
    li2 = _after(b, "i", lj)
    mult = _reciprocal(b, b.at(a, [li2.it, j], [lj, li2]), a, j, [lj, li2])
    return chain([lj], [chain([lk, li], [upd]), chain([li2], [mult])])


def _ldl_right(b: Builder, n: str) -> Loop:
    """for k { for i > k: a_ik *= r_k; for i > k: for k < j <= i: a_ij -= a_ik a_jk }: the lower triangle."""
    lk = b.rect("k", n, down=False)
    li = _after(b, "i", lk)
    a = _matrix(b, lk)
    mult = _reciprocal(b, b.at(a, [li.it, lk.it], [lk, li]), a, lk.it, [lk, li])
    li2 = _after(b, "i", lk)
    lj = _between(b, "j", lk, li2)
    env = [lk, li2, lj]
    k, i, j = lk.it, li2.it, lj.it
    upd = _update(b, b.at(a, [i, j], env), b.at(a, [i, k], env), b.at(a, [j, k], env), (lk,))
    return chain([lk], [chain([li], [mult]), chain([li2, lj], [upd])])


def _ldl_left(b: Builder, n: str) -> Loop:
    """for j { [a_jj -= sum a_jk^2]; for i > j { a_ij -= sum_k<j a_ik a_jk; a_ij *= r_j } }: by columns."""
    lj = b.rect("j", n, down=False)
    li = _after(b, "i", lj)
    lk = _before(b, "k", lj)
    a = _matrix(b, lj)
    j, i, k = lj.it, li.it, lk.it
    env = [lj, li, lk]
    upd = _update(b, b.at(a, [i, j], env), b.at(a, [i, k], env), b.at(a, [j, k], env), (lk,))
    mult = _reciprocal(b, b.at(a, [i, j], [lj, li]), a, j, [lj, li])
    body: list[Node] = [chain([li], [chain([lk], [upd]), mult])]
    if b.chance(0.6):  # the diagonal first: the reciprocals below may read it
        lk2 = _before(b, "k", lj)
        ajk = b.at(a, [j, lk2.it], [lj, lk2])
        body.insert(0, chain([lk2], [_update(b, b.at(a, [j, j], [lj, lk2]), ajk, ajk, (lk2,))]))
    return chain([lj], body)


def _ldl_rows(b: Builder, n: str) -> Loop:
    """for i { for j < i { a_ij -= sum_k<j a_ik a_jk; a_ij *= r_j }; [a_ii -= sum a_ik^2] }: by rows."""
    li = b.rect("i", n, down=False)
    lj = _before(b, "j", li, down=False)
    lk = _before(b, "k", lj)
    a = _matrix(b, li)
    i, j, k = li.it, lj.it, lk.it
    env = [li, lj, lk]
    upd = _update(b, b.at(a, [i, j], env), b.at(a, [i, k], env), b.at(a, [j, k], env), (lk,))
    mult = _reciprocal(b, b.at(a, [i, j], [li, lj]), a, j, [li, lj])
    body: list[Node] = [chain([lj], [chain([lk], [upd]), mult])]
    if b.chance(0.6):
        lk2 = _before(b, "k", li)
        aik = b.at(a, [i, lk2.it], [li, lk2])
        body.append(chain([lk2], [_update(b, b.at(a, [i, i], [li, lk2]), aik, aik, (lk2,))]))
    return chain([li], body)


# ---- product chains --------------------------------------------------------------------------------


def product_chain(b: Builder, max_depth: int) -> list[Node]:
    """Two or three matrix products, one's result feeding the next: T = A B; D = T C (; E = D F), or (A B)(C D)."""
    b.tags.add("product_chain")
    p = [b.rng.choice(b.params) for _ in range(5)]
    nodes: list[Node] = []
    if b.chance(0.3):  # a tree: E = A B, F = C D, G = E F
        e = _product(b, _input(b, p[0], p[1]), _input(b, p[1], p[2]), (p[0], p[1], p[2]), nodes)
        f = _product(b, _input(b, p[2], p[3]), _input(b, p[3], p[4]), (p[2], p[3], p[4]), nodes)
        _product(b, (e, False), (f, False), (p[0], p[2], p[4]), nodes)
        return nodes
    rows, inner = p[0], p[1]
    t = _product(b, _input(b, rows, inner), _input(b, inner, p[2]), (rows, inner, p[2]), nodes)
    cols = p[2]
    for other in p[3:3 + b.rng.choice((1, 1, 2))]:
        if b.chance(0.6):  # the result on the left: (rows x cols) (cols x other)
            t = _product(b, (t, False), _input(b, cols, other), (rows, cols, other), nodes)
            cols = other
        else:  # on the right: (other x rows) (rows x cols)
            t = _product(b, _input(b, other, rows), (t, False), (other, rows, cols), nodes)
            rows = other
    return nodes


def _input(b: Builder, rows: str, cols: str) -> Operand:
    """A rows x cols operand of a product, sometimes stored transposed."""
    flipped = b.chance(0.2)
    return b.operand((cols, rows) if flipped else (rows, cols)), flipped


def _product(b: Builder, left: Operand, right: Operand, dims: tuple[str, str, str], nodes: list[Node]) -> Var:
    """Append C (=|*= beta) += alpha L R over sizes (i, k, j) to `nodes`, in some loop order; return C."""
    pi, pk, pj = dims
    for var, _ in (left, right):  # read in a product: not the array this product writes
        b.nest_product_reads.add(var.name)
    li, lj, lk = b.rect("i", pi), b.rect("j", pj), b.rect("k", pk)
    out = b.target([li.it, lj.it])
    # C initialised inside (before the k loop, which must then be innermost), in a nest of its own, or not
    init = b.rng.choice(("zero", "scale", "nest", "none"))
    if init in ("zero", "scale"):
        order = [li, lj] if b.chance(0.7) else [lj, li]
        order.append(lk)
    else:
        order = [li, lj, lk]
        b.rng.shuffle(order)
    i, j, k = li.it, lj.it, lk.it
    a = b.at(left[0], [k, i] if left[1] else [i, k], order)
    c = b.at(right[0], [j, k] if right[1] else [k, j], order)
    w = b.weights(1)[0]
    term = Term(abs(w) if b.dtype != "int" else w, (a, c), b.scalar_param() if b.chance(0.4) else None)
    acc = Stmt("accumulate", b.at(out, [i, j], order), [term], (lk,), style=b.rng.randint(0, 2))
    root = chain(order, [acc])
    if init in ("zero", "scale"):
        target = b.at(out, [i, j], order[:2])
        order[1].body.insert(0, b.scale(target) if init == "scale" else Stmt("assign", target, []))
        b.tags.add("imperfect")
    elif init == "nest":
        l1, l2 = b.rect("i", pi), b.rect("j", pj)
        target = b.at(out, [l1.it, l2.it], [l1, l2])
        nodes.append(chain([l1, l2], [b.scale(target) if b.chance(0.4) else Stmt("assign", target, [])]))
    nodes.append(root)
    return out


# ---- normalisations --------------------------------------------------------------------------------


def normalisation(b: Builder, max_depth: int) -> list[Node]:
    """Per-feature means of a data matrix, centring, a spread and scaling by it, a covariance."""
    b.tags.add("normalisation")
    ps, pf = b.rng.choice(b.params), b.rng.choice(b.params)
    by_rows = b.chance(0.3)  # the features are the rows: X[j][i]
    centre, spread = b.chance(0.8), b.chance(0.6)
    sample, feature = _box("i", ps), _box("j", pf)
    its = (feature, sample) if by_rows else (sample, feature)
    # written only when centred or scaled here: the dumped arrays are those written
    data = b.target(list(its)) if centre or spread else b.operand(tuple(it.param for it in its))
    nodes: list[Node] = []
    mean = _statistic(b, data, ps, pf, by_rows, nodes, "mean")
    if centre:  # X[i][j] -= mean[j]
        order = _samples_features(b, ps, pf)
        i, j = _ij(order)
        x = _cell(b, data, i, j, order, by_rows)
        nodes.append(chain(order, [Stmt("assign", x, [Term(1.0, (x,)), Term(-1.0, (b.at(mean, [j], order),))])]))
    if spread:  # a spread per feature, then every value times its feature's (weight capped by the renderer)
        stat = _statistic(b, data, ps, pf, by_rows, nodes, b.rng.choice(("squares", "extreme")))
        order = _samples_features(b, ps, pf)
        i, j = _ij(order)
        x = _cell(b, data, i, j, order, by_rows)
        nodes.append(chain(order, [Stmt("assign", x, [Term(1.0, (x, b.at(stat, [j], order)))])]))
    if max_depth >= 3 and b.chance(0.6):
        nodes += _covariance(b, data, ps, pf, by_rows)
    return nodes


def _box(name: str, param: str) -> Iter:
    """An iterator over a whole size: 0 <= it <= P - 1."""
    return Iter(name, param, 0, Lin.of(param, 1, -1))


def _samples_features(b: Builder, ps: str, pf: str) -> list[Loop]:
    """A sample loop `i` and a feature loop `j`, in either order."""
    li, lj = b.rect("i", ps), b.rect("j", pf)
    return [li, lj] if b.chance(0.5) else [lj, li]


def _ij(loops: list[Loop]) -> tuple[Iter, Iter]:
    """The iterators named i and j among some loops."""
    its = {lp.it.name: lp.it for lp in loops}
    return its["i"], its["j"]


def _cell(b: Builder, data: Var, sample: Iter, feature: Iter, env: list[Loop], by_rows: bool) -> Ref:
    """The data value of a sample and a feature."""
    return b.at(data, [feature, sample] if by_rows else [sample, feature], env)


def _statistic(b: Builder, data: Var, ps: str, pf: str, by_rows: bool, nodes: list[Node], kind: str) -> Var:
    """A per-feature statistic over the samples (mean, squares or extreme), its nests appended to `nodes`."""
    # a mean is a sum that the renderer weights (about 1 / samples), maybe then times alpha; an extreme is
    # a max or a min; the feature loop is outside (initialising in it) or inside (initialising before)
    lj, li = b.rect("j", pf), b.rect("i", ps)
    stat = b.target([lj.it])
    feature_outer = b.chance(0.5)
    env = [lj, li] if feature_outer else [li, lj]
    x = _cell(b, data, li.it, lj.it, env, by_rows)
    target = b.at(stat, [lj.it], env)
    if kind == "extreme":
        b.tags.add("minmax")
        step = Stmt("select", target, [Term(1.0, (target,)), Term(1.0, (x,))], style=b.rng.randint(0, 1))
    else:
        step = Stmt("accumulate", target, [Term(1.0, (x, x) if kind == "squares" else (x,))], (li,),
                    style=b.rng.randint(0, 2))
    scaled = kind == "mean" and b.chance(0.4)
    zero = lambda lp: Stmt("assign", b.at(stat, [lp.it], [lp]), [])
    times_alpha = lambda lp: b.scale(b.at(stat, [lp.it], [lp]))
    if feature_outer:
        b.tags.add("imperfect")
        nodes.append(chain([lj], [zero(lj), chain([li], [step]), *([times_alpha(lj)] if scaled else [])]))
        return stat
    first = b.rect("j", pf)
    nodes += [chain([first], [zero(first)]), chain([li, lj], [step])]
    if scaled:
        last = b.rect("j", pf)
        nodes.append(chain([last], [times_alpha(last)]))
    return stat


def _covariance(b: Builder, data: Var, ps: str, pf: str, by_rows: bool) -> list[Node]:
    """C[j][k] = sum_i X[i][j] X[i][k] over all pairs or k >= j, the pair loops or the sample loop outside."""
    b.nest_product_reads.add(data.name)  # read in products: not the array the covariance goes to
    lj = b.rect("j", pf)
    lk = _after(b, "k", lj, 0) if b.chance(0.5) else b.rect("k", pf)
    li = b.rect("i", ps)
    cov = b.target([lj.it, lk.it])
    j, k, i = lj.it, lk.it, li.it
    pairs_outer = b.chance(0.6)
    env = [lj, lk, li] if pairs_outer else [li, lj, lk]
    terms = [Term(1.0, (_cell(b, data, i, j, env, by_rows), _cell(b, data, i, k, env, by_rows)))]
    acc = Stmt("accumulate", b.at(cov, [j, k], env), terms, (li,), style=b.rng.randint(0, 2))
    if not pairs_outer:
        l1, l2 = b.rect("j", pf), b.rect("k", pf)
        init = chain([l1, l2], [Stmt("assign", b.at(cov, [l1.it, l2.it], [l1, l2]), [])])
        return [init, chain([li, lj, lk], [acc])] if b.chance(0.7) else [chain([li, lj, lk], [acc])]
    b.tags.add("imperfect")
    body: list[Node] = [Stmt("assign", b.at(cov, [j, k], [lj, lk]), []), chain([li], [acc])]
    if lk.triangular and b.chance(0.6):  # the other triangle: C[k][j] = C[j][k]
        body.append(b.mix(b.at(cov, [k, j], [lj, lk]), [1.0], [b.at(cov, [j, k], [lj, lk])]))
    return [chain([lj, lk], body)]


# ---- tensor contractions -----------------------------------------------------------------------------


def contraction(b: Builder, max_depth: int) -> list[Node]:
    """A matrix or 3-tensor times a matrix along one mode (doitgen-like): in place through a buffer, or into another."""
    b.tags.add("contraction")
    rank = 3 if max_depth >= 4 and b.chance(0.7) else 2
    params = [b.rng.choice(b.params) for _ in range(rank)]
    outer = [b.rect("ij"[d], params[d]) for d in range(rank - 1)]
    pk = params[-1]
    lk, ll = b.rect("k", pk), b.rect("l", pk)
    mat = b.operand((pk, pk))
    b.nest_product_reads.add(mat.name)
    flipped = b.chance(0.2)  # C stored transposed
    if b.chance(0.5):
        return [_contract_in_place(b, outer, lk, ll, mat, flipped)]
    mode = b.rng.randrange(rank)  # which mode of the tensor is contracted
    tensor = b.operand((*params[:mode], pk, *params[mode:-1]))
    b.nest_product_reads.add(tensor.name)
    out = b.target([*its_of(outer[:mode]), lk.it, *its_of(outer[mode:])])
    l1 = [b.rect(it.name, it.param) for it in (*its_of(outer), lk.it)]
    init_its = its_of(l1)
    init_target = b.at(out, [*init_its[:mode], init_its[-1], *init_its[mode:-1]], l1)
    init = chain(l1, [b.scale(init_target) if b.chance(0.3) else Stmt("assign", init_target, [])])
    order = [*outer, lk, ll]
    b.rng.shuffle(order)
    its = its_of(outer)
    x = b.at(tensor, [*its[:mode], ll.it, *its[mode:]], order)
    c = b.at(mat, [lk.it, ll.it] if flipped else [ll.it, lk.it], order)
    w = b.weights(1)[0]
    acc = Stmt("accumulate", b.at(out, [*its[:mode], lk.it, *its[mode:]], order),
               [Term(abs(w) if b.dtype != "int" else w, (x, c))], (ll,), style=b.rng.randint(0, 2))
    return [init, chain(order, [acc])]


def _contract_in_place(b: Builder, outer: list[Loop], lk: Loop, ll: Loop, mat: Var, flipped: bool) -> Loop:
    """X[..][k] = sum_l X[..][l] C[l][k] for each row, through a buffer S[k]: the row is read whole first."""
    b.tags.add("imperfect")
    x = b.target([*its_of(outer), lk.it])
    b.nest_product_reads.add(x.name)
    buf = b.target([lk.it])
    its = its_of(outer)
    k_outer = b.chance(0.6)  # a dot product per k, or axpys along k for each l
    env = [*outer, lk, ll] if k_outer else [*outer, ll, lk]
    c = b.at(mat, [lk.it, ll.it] if flipped else [ll.it, lk.it], env)
    w = b.weights(1)[0]
    term = Term(abs(w) if b.dtype != "int" else w, (b.at(x, [*its, ll.it], env), c))
    acc = Stmt("accumulate", b.at(buf, [lk.it], env), [term], (ll,), style=b.rng.randint(0, 2))
    if k_outer:
        row = [chain([lk], [Stmt("assign", b.at(buf, [lk.it], [*outer, lk]), []), chain([ll], [acc])])]
    else:
        first = b.rect("k", lk.it.param)
        row = [chain([first], [Stmt("assign", b.at(buf, [first.it], [*outer, first]), [])]), chain([ll, lk], [acc])]
    back = b.rect("k", lk.it.param)
    env = [*outer, back]
    row.append(chain([back], [b.mix(b.at(x, [*its, back.it], env), [1.0], [b.at(buf, [back.it], env)])]))
    return chain(outer, row)


FAMILIES: dict[str, tuple[int, Callable[[Builder, int], list[Node]], int]] = {
    # name: (smallest depth, builder, weight), as patterns.PATTERNS
    "trisolve": (2, trisolve, 3),
    "factorization": (3, factorization, 3),
    "product_chain": (3, product_chain, 2),
    "normalisation": (2, normalisation, 3),
    "relaxation": (3, relaxation, 1),
    "coupled_fields": (2, coupled_fields, 2),
    "line_sweep": (2, line_sweep, 2),
    "contraction": (3, contraction, 2),
}
