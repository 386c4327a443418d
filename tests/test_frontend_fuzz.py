"""Property: whatever a mutated kernel looks like, the frontend answers with Scops or FrontendErrors only."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontend import FrontendError, read_scops, to_jscop
from looper.ir import Scop
from polybench.manifest import KERNELS, UTILITIES

SEEDS = ["gemm", "lu", "nussinov", "jacobi-2d", "correlation", "durbin", "adi", "floyd-warshall"]
SOURCES = {n: KERNELS[n].source.read_text() for n in SEEDS if KERNELS[n].source.exists()}

# Tokens that are likely to break something interesting when dropped into C.
JUNK = [
    "for",
    "if",
    "else",
    "while",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ";",
    ",",
    "=",
    "+=",
    "++",
    "--",
    "*",
    "/",
    "%",
    "&&",
    "||",
    "!",
    "?",
    ":",
    "->",
    ".",
    "#pragma scop\n",
    "#pragma endscop\n",
    "#if 0\n",
    "#endif\n",
    "#define N (",
    "/*",
    "*/",
    "//",
    '"',
    "'",
    "\\\n",
    "0",
    "1.5e",
    "0x",
    "i",
    "j",
    "_PB_N",
    "A[i][j]",
    "min(",
    "\x00",
    "\u00e9",
    "\t",
    "\n",
    "int",
    "double",
    "return",
    "i * j",
    "A[B[i]]",
    "goto x;",
    "POLYBENCH_2D(",
]


@st.composite
def mutated(draw) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(SOURCES)))
    text = SOURCES[name]
    region = text.index("#pragma scop")
    for _ in range(draw(st.integers(1, 4))):
        # Mostly inside or near the region, where the frontend does most of its work.
        lo, hi = (region - 200, region + 1500) if draw(st.booleans()) else (0, len(text))
        lo = max(0, min(lo, len(text)))
        hi = max(lo, min(hi, len(text)))
        a = draw(st.integers(lo, hi))
        b = draw(st.integers(a, min(len(text), a + draw(st.sampled_from([1, 3, 10, 60])))))
        op = draw(st.sampled_from(["delete", "duplicate", "replace", "insert", "truncate", "swap"]))
        if op == "delete":
            text = text[:a] + text[b:]
        elif op == "duplicate":
            text = text[:b] + text[a:b] + text[b:]
        elif op == "replace":
            text = text[:a] + draw(st.sampled_from(JUNK)) + text[b:]
        elif op == "insert":
            junk = draw(st.one_of(st.sampled_from(JUNK), st.text(min_size=1, max_size=8)))
            text = text[:a] + junk + text[a:]
        elif op == "truncate":
            text = text[:a]
        else:
            c = draw(st.integers(0, len(text)))
            text = text[:a] + text[c : c + (b - a)] + text[b:]
    return name, text


def _check(text: str, include_dirs) -> None:
    try:
        entries = read_scops(text, include_dirs=include_dirs)
    except FrontendError:
        return
    assert isinstance(entries, list)
    for e in entries:
        assert isinstance(e, Scop | FrontendError), type(e)
        if isinstance(e, FrontendError):
            assert e.line >= 1 and e.column >= 1 and str(e).count(": error: ") >= 1
        else:
            to_jscop(e)  # every isl object prints
            for s in e.statements:
                s.body.to_c()


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_kernels_give_scops_or_frontend_errors(case: tuple[str, str]) -> None:
    name, text = case
    _check(text, [KERNELS[name].source.parent, UTILITIES])


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_random_text_in_a_region(body: str) -> None:
    _check(f"void f(int n, double A[n]) {{\n  int i;\n#pragma scop\n{body}\n#pragma endscop\n}}\n", [])
