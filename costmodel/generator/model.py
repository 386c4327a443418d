"""The generator's program model: size-affine forms, iterators, loops, accesses and statements."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

TSTEPS = "TSTEPS"  # the time-step size parameter of time-iterated nests


def loop_bound(param: str) -> str:
    """How a kernel spells a size in loop bounds and subscripts (PolyBench: `_PB_N` -> the argument `n`)."""
    return f"_PB_{param}"


def _affine_text(parts: list[tuple[int, str]], const: int) -> str:
    """`2 * N + M - 1` from (coefficient, name) pairs and a constant."""
    out = ""
    for coef, name in parts:
        if coef == 0:
            continue
        term = name if abs(coef) == 1 else f"{abs(coef)} * {name}"
        if not out:
            out = term if coef > 0 else f"-{term}"
        else:
            out += f" + {term}" if coef > 0 else f" - {term}"
    if not out:
        return str(const)
    if const:
        out += f" + {const}" if const > 0 else f" - {-const}"
    return out


@dataclass(frozen=True)
class Lin:
    """`const + sum(coef * P)` over size parameters P: array extents and the largest value of an iterator."""

    terms: tuple[tuple[str, int], ...] = ()
    const: int = 0

    @staticmethod
    def of(param: str | None, coef: int = 1, const: int = 0) -> Lin:
        """coef * param + const (just const when param is None)."""
        return Lin(((param, coef),) if param else (), const)

    def plus(self, c: int) -> Lin:
        """This form plus a constant."""
        return Lin(self.terms, self.const + c)

    def times(self, k: int) -> Lin:
        """This form times a non-negative integer."""
        return Lin(tuple((p, c * k) for p, c in self.terms), self.const * k)

    def add(self, other: Lin) -> Lin:
        """The sum of two forms."""
        coefs = dict(self.terms)
        for p, c in other.terms:
            coefs[p] = coefs.get(p, 0) + c
        return Lin(tuple(sorted(coefs.items())), self.const + other.const)

    def join(self, other: Lin) -> Lin:
        """Componentwise maximum: at least both forms for every non-negative size."""
        coefs = dict(self.terms)
        for p, c in other.terms:
            coefs[p] = max(coefs.get(p, 0), c)
        return Lin(tuple(sorted(coefs.items())), max(self.const, other.const))

    def value(self, sizes: Mapping[str, int]) -> int:
        """The form at given sizes."""
        return self.const + sum(c * sizes[p] for p, c in self.terms)

    def render(self, name: Callable[[str], str] = str) -> str:
        """C text, each parameter spelled by `name` (the macro `N`, `_PB_N` or the argument `n`)."""
        return _affine_text([(c, name(p)) for p, c in self.terms], self.const)

    @property
    def single(self) -> str | None:
        """The parameter when the form is exactly `P + c`."""
        return self.terms[0][0] if len(self.terms) == 1 and self.terms[0][1] == 1 else None


@dataclass(frozen=True)
class Iter:
    """A loop iterator and the box it stays in: lo <= it <= hi at every size (used to size arrays)."""

    name: str
    param: str  # the size it runs over
    lo: int  # a constant >= 0
    hi: Lin


@dataclass(frozen=True)
class Bound:
    """An inclusive affine loop bound: `base + const`, base an outer iterator, a size parameter or nothing."""

    base: str | None = None
    is_param: bool = False
    const: int = 0

    def plus(self, c: int) -> Bound:
        """This bound plus a constant."""
        return Bound(self.base, self.is_param, self.const + c)

    def render(self) -> str:
        """C text: `_PB_N - 1`, `i + 1`, `0`."""
        if self.base is None:
            return str(self.const)
        base = loop_bound(self.base) if self.is_param else self.base
        return _affine_text([(1, base)], self.const)


@dataclass
class Loop:
    """A `for` loop stepping by +1 or -1 between two inclusive bounds."""

    it: Iter
    lower: Bound
    upper: Bound
    step: int = 1
    exclusive: bool = False  # spell the test as `i < upper + 1` (or `i > lower - 1` going down)
    triangular: bool = False  # a bound depends on an outer iterator
    body: list[Node] = field(default_factory=list)

    def header(self) -> str:
        """`for (i = 0; i < _PB_N; i++)`."""
        i = self.it.name
        if self.step > 0:
            test = f"{i} < {self.upper.plus(1).render()}" if self.exclusive else f"{i} <= {self.upper.render()}"
            return f"for ({i} = {self.lower.render()}; {test}; {i}++)"
        test = f"{i} > {self.lower.plus(-1).render()}" if self.exclusive else f"{i} >= {self.lower.render()}"
        return f"for ({i} = {self.upper.render()}; {test}; {i}--)"

    def trips(self, sizes: Mapping[str, int]) -> float:
        """Estimated iterations per execution: the iterator's box, halved when triangular."""
        n = max(1, self.it.hi.value(sizes) - self.it.lo + 1)
        return n / 2 if self.triangular else n


@dataclass
class Guard:
    """An `if` with an affine condition around some statements."""

    cond: str
    body: list[Node] = field(default_factory=list)
    share: float = 0.5  # estimated fraction of iterations that pass it


@dataclass
class Var:
    """An array, a scalar temporary (local of the kernel) or a read-only scalar argument."""

    name: str
    dims: tuple[str, ...]  # nominal size parameter per dimension; () for scalars
    kind: str = "array"  # "array" | "temp" | "param"
    need: list[Lin] = field(default_factory=list)  # extent each dimension needs (grown by accesses)
    value: float = 0.0  # a scalar argument's value
    bound: float = 1.0  # largest magnitude its elements can hold (floating-point programs)
    written: bool = False
    _extents: tuple[tuple[Lin, ...], list[Lin]] | None = field(default=None, repr=False, compare=False)

    @property
    def rank(self) -> int:
        return len(self.dims)

    def extents(self) -> list[Lin]:
        """Declared extents: what the accesses need, never below the nominal size."""
        key = tuple(self.need)
        if self._extents is None or self._extents[0] != key:  # cached: size estimation asks very often
            self._extents = (key, [Lin.of(p).join(n) for p, n in zip(self.dims, self.need, strict=True)])
        return self._extents[1]


@dataclass(frozen=True)
class Sub:
    """One subscript: its text, the extent it needs (largest value + 1), the iterators in it, its form."""

    text: str
    need: Lin
    iters: tuple[str, ...]
    form: str  # plain | offset | strided | reversed | sum | const


def constant(c: int) -> Sub:
    """The subscript `c`: one fixed row or column (a face, a first element)."""
    return Sub(str(c), Lin(const=c + 1), (), "const")


@dataclass(frozen=True)
class Ref:
    """A read or written element: `A[i][j + 1]`, or a scalar."""

    var: Var
    subs: tuple[Sub, ...] = ()

    def render(self) -> str:
        return self.var.name + "".join(f"[{s.text}]" for s in self.subs)


@dataclass
class Term:
    """weight * factor * refs[0] * refs[1] ...: one summand of a right-hand side."""

    weight: float
    refs: tuple[Ref, ...]
    factor: Var | None = None  # a read-only scalar argument (alpha)


@dataclass
class Stmt:
    """An assignment, kept structured until sizes are known (float weights depend on them)."""

    kind: str  # assign | accumulate | average | select | relax | scale
    target: Ref
    terms: list[Term]
    update: tuple[Loop, ...] = ()  # accumulate: the loops along which one element is updated
    style: int = 0  # which C spelling (`+=` or `x = x + ...`, min or max, ...)
    text: str = ""  # the C statement, set by emit


Node = Loop | Guard | Stmt


def statements(nodes: list[Node]) -> list[Stmt]:
    """The statements under some nodes, in textual order."""
    out: list[Stmt] = []
    for node in nodes:
        if isinstance(node, Stmt):
            out.append(node)
        else:
            out.extend(statements(node.body))
    return out


def depth(nodes: list[Node]) -> int:
    """The deepest loop nesting under some nodes."""
    return max((depth(n.body) + isinstance(n, Loop) for n in nodes if not isinstance(n, Stmt)), default=0)
