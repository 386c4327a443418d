"""C text of a generated program: statement spellings (with size-dependent weights) and the PolyBench frame."""

from __future__ import annotations

import math
from collections.abc import Mapping

from costmodel.generator.model import TSTEPS, Guard, Loop, Node, Stmt, Term, Var, statements

MOD = 1009  # integer results are reduced modulo this prime: |value| < 1009, so products of two fit easily
PROD_CAP = 4.0  # a product summand is scaled down to at most this magnitude
ACC_CAP = 2.0  # one accumulation adds at most this much to an element over its whole run
C_TYPES = {"double": "double", "float": "float", "int": "int"}
FORMATS = {"double": "%.17g ", "float": "%.9g ", "int": "%d "}


def nice_floor(x: float) -> float:
    """The largest 1, 2 or 5 times a power of ten that is <= x (weights that read well)."""
    e = 10.0 ** math.floor(math.log10(x))
    return next(m * e for m in (5, 2, 1) if m * e <= x * (1 + 1e-12))


def literal(x: float, dtype: str) -> str:
    """A C constant of the program's element type."""
    if dtype == "int":
        return str(int(x))
    text = f"{x:.6g}"
    if "." not in text and "e" not in text:
        text += ".0"
    return text + ("f" if dtype == "float" else "")


class Renderer:
    """Spells statements once sizes are known, tracking how large each array's values can get."""

    def __init__(self, dtype: str, sizes: Mapping[str, int]) -> None:
        self.dtype = dtype
        self.sizes = sizes

    def magnitude(self, term: Term) -> float:
        m = abs(term.factor.value) if term.factor else 1.0
        for ref in term.refs:
            m *= ref.var.bound
        return m

    def term_text(self, weight: float, term: Term) -> str:
        parts = [] if abs(weight) == 1 else [literal(abs(weight), self.dtype)]
        parts += [term.factor.name] if term.factor else []
        parts += [r.render() for r in term.refs]
        return " * ".join(parts)

    def sum_text(self, weighted: list[tuple[float, Term]]) -> str:
        out = ""
        for w, t in weighted:
            text = self.term_text(w, t)
            out += (f"-{text}" if w < 0 else text) if not out else (f" - {text}" if w < 0 else f" + {text}")
        return out

    def render(self, st: Stmt) -> None:
        """Set st.text and raise the bound of the written variable."""
        x = st.target.render()
        var = st.target.var
        is_int = self.dtype == "int"
        zero = literal(0, self.dtype)
        if st.kind == "assign":
            if not st.terms:
                st.text = f"{x} = {zero}"
                return
            weighted = []
            for t in st.terms:
                w, m = t.weight, self.magnitude(t)
                if not is_int and len(t.refs) > 1 and abs(w) * m > PROD_CAP:
                    w = math.copysign(min(abs(w), nice_floor(PROD_CAP / m)), w)
                weighted.append((w, t))
            rhs = self.sum_text(weighted)
            st.text = f"{x} = ({rhs}) % {MOD}" if is_int else f"{x} = {rhs}"
            var.bound = max(var.bound, sum(abs(w) * self.magnitude(t) for w, t in weighted))
        elif st.kind == "accumulate":
            rest = sum(abs(t.weight) * self.magnitude(t) for t in st.terms)
            updates = math.prod(lp.trips(self.sizes) for lp in st.update)
            f = 1.0 if is_int or updates * rest <= ACC_CAP else nice_floor(ACC_CAP / (updates * rest))
            weighted = [(t.weight if is_int else _round(t.weight * f), t) for t in st.terms]
            rhs = self.sum_text(weighted)
            if is_int:
                st.text = f"{x} = ({x} + {rhs}) % {MOD}"
            elif st.style == 0 and weighted[0][0] > 0:
                st.text = f"{x} += {rhs}"
            elif st.style == 1:
                st.text = f"{x} = {x} + {rhs}"
            else:
                st.text = f"{x} = {rhs} + {x}" if weighted[0][0] > 0 else f"{x} = {x} + {rhs}"
            var.bound += updates * rest * f
        elif st.kind == "average":
            refs = " + ".join(t.refs[0].render() for t in st.terms)
            k = len(st.terms)
            if is_int or st.style == 1:
                st.text = f"{x} = ({refs}) / {literal(k, self.dtype)}"
            else:
                w = math.floor(1e5 / k) / 1e5  # below 1/k: the average never grows
                st.text = f"{x} = {literal(w, self.dtype)} * ({refs})"
            var.bound = max(var.bound, *(t.refs[0].var.bound for t in st.terms))
        elif st.kind == "select":
            a, b = (t.refs[0].render() for t in st.terms)
            st.text = f"{x} = {a} {'>' if st.style == 0 else '<'} {b} ? {a} : {b}"
            var.bound = max(var.bound, *(t.refs[0].var.bound for t in st.terms))
        elif st.kind == "relax":  # x = min(x, (a + b) / 2), or max: never beyond the bounds it reads
            a, c = (r.render() for r in st.terms[1].refs)
            half = f"({a} + {c}) / 2" if is_int else f"{literal(0.5, self.dtype)} * ({a} + {c})"
            st.text = f"{x} = {x} {'<' if st.style == 0 else '>'} {half} ? {x} : {half}"
            var.bound = max(var.bound, *(r.var.bound for t in st.terms for r in t.refs))
        elif st.kind == "scale":
            factor = st.terms[0].factor
            assert factor is not None  # a scale statement's one term always has its scalar (Builder.scale)
            if is_int:
                st.text = f"{x} = ({factor.name} * {x}) % {MOD}"
            else:
                st.text = f"{x} *= {factor.name}" if st.style == 0 else f"{x} = {factor.name} * {x}"
        else:
            raise ValueError(st.kind)


def _round(w: float) -> float:
    """Keep three significant digits so that weights print short."""
    return float(f"{w:.3g}")


def finalize(nests: list[list[Node]], dtype: str, sizes: Mapping[str, int]) -> None:
    """Spell every statement, nest by nest; two passes per nest so that values flowing around a nest count."""
    r = Renderer(dtype, sizes)
    for nest in nests:
        stmts = statements(nest)
        for _ in range(2):
            for st in stmts:
                r.render(st)


# ---- the program frame ---------------------------------------------------------------------------


def _lower(p: str) -> str:
    return p.lower()


def _indent(lines: list[str], n: int) -> list[str]:
    return ["  " * n + line for line in lines]


def nodes_c(nodes: list[Node]) -> list[str]:
    """C lines of loops, guards and statements, indented two spaces per level."""
    out: list[str] = []
    for node in nodes:
        if isinstance(node, Stmt):
            out.append(node.text + ";")
            continue
        head = node.header() if isinstance(node, Loop) else f"if ({node.cond})"
        body = nodes_c(node.body)
        if len(node.body) == 1:
            out += [head, *_indent(body, 1)]
        else:
            out += [head + " {", *_indent(body, 1), "}"]
    return out


def _decl(var: Var, dtype: str) -> str:
    """`double A[N + 2][M]`."""
    return f"{C_TYPES[dtype]} {var.name}" + "".join(f"[{e.render()}]" for e in var.extents())


def _loops_over(var: Var, inner: list[str], *, brace: bool = False) -> list[str]:
    """Loops over every element of an array (runtime sizes, iterators i, j, k), around some lines."""
    lines = []
    for d, e in enumerate(var.extents()):
        c = "ijk"[d]
        lines.append("  " * d + f"for ({c} = 0; {c} < {e.render(_lower)}; {c}++)")
    if brace:
        lines[-1] += " {"
        return [*lines, *_indent(inner, var.rank), "  " * (var.rank - 1) + "}"]
    return lines + _indent(inner, var.rank)


def _init_value(var: Var, dtype: str, salt: int) -> str:
    """A deterministic pseudo-random element value: in [0, 1) for floating point, in [-50, 50] for int."""
    coefs = (3, 7, 11, 13, 5, 17)
    terms = " + ".join(f"{n} * {coefs[(salt + d) % len(coefs)]}" for d, n in enumerate("ijk"[: var.rank]))
    mod = (97, 101, 103, 107, 109, 113)[salt % 6]
    expr = f"({terms} + {salt % 5 + 1}) % {mod}"
    if dtype == "int":
        return f"{expr} - 50"
    return f"({C_TYPES[dtype]})({expr}) / {literal(mod, dtype)}"


def program_c(*, name: str, seed: int, dtype: str, sizes: Mapping[str, int], small: Mapping[str, int], vars_: list[Var],
              nests: list[list[Node]], liveouts: list[Var], tags: tuple[str, ...]) -> str:
    """The whole PolyBench-style C file."""
    ctype = C_TYPES[dtype]
    arrays = [v for v in vars_ if v.kind == "array"]
    scalars = [v for v in vars_ if v.kind == "param"]
    temps = [v for v in vars_ if v.kind == "temp"]
    params = [p for p in sizes if p != TSTEPS]
    size_args = ", ".join(f"int {p.lower()}" for p in params)
    lines = [
        f"/* {name}: a random affine program generated by looper's cost-model generator (seed {seed}).",
        f" * patterns: {' '.join(tags)} */",
        "#include <stdio.h>",
        "",
        '#include "polybench.h"',
        "",
        "/* Sizes: -DMINI_DATASET picks small ones (for quick checks), -DN=... overrides one. */",
    ]
    for p, v in sizes.items():
        lines += [f"#ifndef {p}", "#ifdef MINI_DATASET", f"#define {p} {small[p]}", "#else",
                  f"#define {p} {v}", "#endif", "#endif"]
    lines += [f"#define {'_PB_' + p} POLYBENCH_LOOP_BOUND({p}, {p.lower()})" for p in sizes]
    lines.append("")

    # init_array: every element of every array, margins included
    init_args = [size_args] + [f"{ctype} *{s.name}" for s in scalars] + [_decl(a, dtype) for a in arrays]
    lines += [f"static void init_array({', '.join(init_args)})", "{"]
    rank = max(a.rank for a in arrays)
    lines.append(f"  int {', '.join('ijk'[:rank])};")
    lines.append("")
    lines += [f"  *{s.name} = {literal(s.value, dtype)};" for s in scalars]
    for n, a in enumerate(arrays):
        lines += _indent(_loops_over(a, [f"{a.name}{''.join(f'[{c}]' for c in 'ijk'[:a.rank])} = "
                                               f"{_init_value(a, dtype, n)};"]), 1)
    lines += ["}", ""]

    # print_array: the live-out arrays, PolyBench's dump format
    lines += [f"static void print_array({', '.join([size_args] + [_decl(a, dtype) for a in liveouts])})", "{"]
    rank = max(a.rank for a in liveouts)
    lines += [f"  int {', '.join('ijk'[:rank])};", "", "  POLYBENCH_DUMP_START;"]
    for a in liveouts:
        ext = [e.render(_lower) for e in a.extents()]
        flat = "i"
        for d in range(1, a.rank):
            flat = f"({flat}) * ({ext[d]}) + {'ijk'[d]}" if d > 1 else f"i * ({ext[d]}) + j"
        elem = a.name + "".join(f"[{c}]" for c in "ijk"[: a.rank])
        inner = [f"POLYBENCH_DUMP_NEWLINE({flat});", f'fprintf(POLYBENCH_DUMP_TARGET, "{FORMATS[dtype]}", {elem});']
        body = _loops_over(a, inner, brace=True)
        lines += [f'  POLYBENCH_DUMP_BEGIN("{a.name}");', *_indent(body, 1), f'  POLYBENCH_DUMP_END("{a.name}");']
    lines += ["  POLYBENCH_DUMP_FINISH;", "}", ""]

    # the kernel: one scop region
    kargs = [size_args] + (["int tsteps"] if TSTEPS in sizes else [])
    kargs += [f"{ctype} {s.name}" for s in scalars] + [_decl(a, dtype) for a in arrays]
    iters = sorted({lp.it.name for nest in nests for lp in _loops(nest)}, key="tijklr".index)
    lines += [f"static void kernel({', '.join(kargs)})", "{", f"  int {', '.join(iters)};"]
    lines += [f"  {ctype} {t.name} = {literal(0, dtype)};" for t in temps]
    lines += ["", "#pragma scop"]
    for nest in nests:
        lines += _indent(nodes_c(nest), 1)
    lines += ["#pragma endscop", "}", ""]

    # main
    lines += ["int main(int argc, char **argv)", "{"]
    lines += [f"  int {p.lower()} = {p};" for p in sizes]
    lines += [f"  {ctype} {s.name};" for s in scalars]
    for a in arrays:
        extents = a.extents()
        lines.append(f"  POLYBENCH_{a.rank}D_ARRAY_DECL({a.name}, {ctype}, "
                     f"{', '.join(e.render() for e in extents)}, {', '.join(e.render(_lower) for e in extents)});")
    sz = ", ".join(p.lower() for p in params)
    call = lambda fn, first, xs: f"{fn}({', '.join([first, *xs])})"
    lines += ["", "  " + call("init_array", sz, [f"&{s.name}" for s in scalars] +
                               [f"POLYBENCH_ARRAY({a.name})" for a in arrays]) + ";", ""]
    ksz = sz + (", tsteps" if TSTEPS in sizes else "")
    lines += ["  polybench_start_instruments;",
              "  " + call("kernel", ksz, [s.name for s in scalars] + [f"POLYBENCH_ARRAY({a.name})" for a in arrays])
              + ";",
              "  polybench_stop_instruments;", "  polybench_print_instruments;", "",
              "  polybench_prevent_dce(" + call("print_array", sz, [f"POLYBENCH_ARRAY({a.name})" for a in liveouts])
              + ");", ""]
    lines += [f"  POLYBENCH_FREE_ARRAY({a.name});" for a in arrays]
    lines += ["  return 0;", "}", ""]
    return "\n".join(lines)


def _loops(nodes: list[Node]) -> list[Loop]:
    out: list[Loop] = []
    for n in nodes:
        if isinstance(n, Loop):
            out.append(n)
        if isinstance(n, Loop | Guard):
            out += _loops(n.body)
    return out

