"""Unit tests of the frontend: macros, #if, regions, domains, accesses, schedules, bodies, JSCoP."""

from __future__ import annotations

import json

import islpy as isl
import pytest

from frontend import FrontendError, dump_scops, read_scop, read_scops, to_jscop
from frontend.macros import Expander, eval_if, parse_define, pp_tokens
from frontend.preprocess import Preprocessor, strip_comments
from frontend.source import Source, SourceError
from looper.expr import Assign, Call, Index, Name
from polybench.manifest import KERNELS, UTILITIES


def _macros(*defines: str) -> dict:
    out = {}
    for d in defines:
        m = parse_define(d, 0, len(d))
        out[m.name] = m
    return out


def _expand(text: str, *defines: str) -> str:
    return " ".join(t.text for t in Expander(_macros(*defines)).expand(pp_tokens(text)))


def _count(s: isl.Set, **params: int) -> int:
    text = "[" + ", ".join(params) + "] -> { : " + " and ".join(f"{k} = {v}" for k, v in params.items()) + " }"
    return int(s.intersect_params(isl.Set(text)).count_val().to_python())


def _region(body: str, params: str = "int n, int m, double A[n][n], double B[n], double x") -> str:
    return f"void f({params}) {{\n  int i, j, k;\n  double s;\n#pragma scop\n{body}\n#pragma endscop\n}}\n"


# Macro expansion.
def test_object_and_function_macros() -> None:
    assert _expand("N + 1", "N 100") == "100 + 1"
    assert _expand("MAX(a, b+1)", "MAX(x,y) ((x)>(y)?(x):(y))") == "( ( a ) > ( b + 1 ) ? ( a ) : ( b + 1 ) )"
    assert _expand("F (1)", "F(x) x*2") == "1 * 2"  # a space before `(` at the use is fine
    assert _expand("G", "G (x)") == "( x )"  # ... but not in the definition: G is object-like


def test_nested_and_recursive_macros() -> None:
    assert _expand("_PB_N", "_PB_N POLYBENCH_LOOP_BOUND(N, n)", "POLYBENCH_LOOP_BOUND(x, y) y") == "n"
    assert _expand("A", "A B + 1", "B A * 2") == "A * 2 + 1"  # hide sets stop the recursion
    assert _expand("f(f(1))", "f(x) (x+1)") == "( ( 1 + 1 ) + 1 )"
    assert _expand("LOOP", "LOOP LOOP") == "LOOP"


def test_stringify_paste_and_variadic() -> None:
    assert _expand("SCALAR_VAL(1.5)", "SCALAR_VAL(x) x##f") == "1.5f"
    assert _expand("CAT(a, b)", "CAT(x, y) x ## y") == "ab"
    assert _expand("STR(a + b)", "STR(x) #x") == '"a + b"'
    assert _expand("V(1, 2, 3)", "V(a, ...) a + f(__VA_ARGS__)") == "1 + f ( 2 , 3 )"


def test_macro_errors() -> None:
    with pytest.raises(SourceError, match="takes 2 argument"):
        _expand("MAX(1)", "MAX(a, b) a")
    with pytest.raises(SourceError, match="too large"):
        _expand("A0", *[f"A{k} A{k + 1} A{k + 1}" for k in range(20)])


# #if evaluation.
@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("1", True),
        ("0", False),
        ("defined(X)", True),
        ("defined Y", False),
        ("!defined(Y) && X == 3", True),
        ("X * 2 + 1 == 7", True),
        ("(X << 2) > 11 || 0", True),
        ("UNDEFINED_NAME", False),
        ("X > 2 ? 0 : 1", False),
        ("-1 < 0", True),
        ("7 / 2 == 3 && -7 / 2 == -3 && -7 % 2 == -1", True),
        ("0x10 == 16 && 010 == 8 && 10UL == 10", True),
        ("'a' == 97", True),
    ],
)
def test_if_evaluator(expr: str, value: bool) -> None:
    assert eval_if(pp_tokens(expr), _macros("X 3")) is value


@pytest.mark.parametrize("expr", ["1 +", "(1", "1 / 0", "defined(", "1.5", "1 1"])
def test_if_evaluator_errors(expr: str) -> None:
    with pytest.raises(SourceError):
        eval_if(pp_tokens(expr), {})


def test_conditional_chains_pick_the_dataset() -> None:
    text = (
        "#if defined(MINI)\n#define N 10\n#elif defined(SMALL)\n#define N 20\n#else\n#define N 30\n#endif\n"
        "#ifndef M\n#define M (N+1)\n#endif\n#ifdef M\n#undef M\n#define M 7\n#endif\n"
    )
    for defines, n in [({"MINI": None}, "10"), ({"SMALL": 1}, "20"), ({}, "30")]:
        pp = Preprocessor(defines=defines)
        pp.run(Source(text), strip_comments(text), [])
        assert pp.macros["N"].body[0].text == n
        assert pp.macros["M"].body[0].text == "7"


def test_strip_comments_keeps_offsets_and_strings() -> None:
    text = "a = \"/* no */\"; // one\n/* two\n three */ b = '/'; c // x \\\n   continued\nd"
    out = strip_comments(text)
    assert len(out) == len(text) and out.count("\n") == text.count("\n")
    assert '"/* no */"' in out and "one" not in out and "three" not in out and "continued" not in out
    assert out.endswith("d") and "b = '/'" in out


# Regions.
def test_several_regions_per_file_and_byte_exact_offsets() -> None:
    text = (
        "/* a file */\nvoid f(int n, double B[n]) {\n  int i;\n#pragma scop\n  for (i = 0; i < n; i++)\n"
        "    B[i] = 0;\n#pragma endscop\n}\n\nvoid g(int m, double C[m]) {\n  int j;\n  #  pragma   scop\n"
        "  for (j = 0; j < m; j++) C[j] += 1;\n#pragma endscop\n  C[0] = 1;\n}\n#if 0\n#pragma scop\nwhile(1);\n"
        "#pragma endscop\n#endif\n"
    )
    first, second = read_scops(text)
    assert first.region.function == "f" and second.region.function == "g"
    assert first.params == ("n",) and second.params == ("m",)
    for scop, line in [(first, 4), (second, 12)]:
        r = scop.region
        assert r.line == line
        assert text[r.start : r.end].lstrip().startswith("#")
        assert text[r.start : r.end].endswith("endscop\n")
        assert r.start == 0 or text[r.start - 1] == "\n"
    # Everything outside the regions is kept: splicing the regions back gives the file.
    pieces, last = [], 0
    for scop in (first, second):
        pieces += [text[last : scop.region.start], text[scop.region.start : scop.region.end]]
        last = scop.region.end
    assert "".join(pieces) + text[last:] == text
    s = second.statements[0]
    assert text[s.span[0] : s.span[1]] == "C[j] += 1"
    assert (s.line, s.column) == (13, 27)


def test_crlf_file(tmp_path) -> None:
    path = tmp_path / "crlf.c"
    path.write_bytes(
        b"void f(int n, double B[n]) {\r\n  int i;\r\n#pragma scop\r\n  for (i = 0; i < n; i++)\r\n"
        b"    B[i] = 0;\r\n#pragma endscop\r\n}\r\n"
    )
    scop = read_scop(path)
    text = path.read_bytes().decode()
    assert text[scop.region.start : scop.region.end].endswith("#pragma endscop\r\n")
    assert text[slice(*scop.statements[0].span)] == "B[i] = 0"


# Domains and schedules.
def test_if_else_domains() -> None:
    scop = read_scop(
        _region("  for (i = 0; i < n; i++)\n    if (i == 2 || i > m)\n      B[i] = 0;\n    else\n      B[i] = 1;")
    )
    then, other = scop.statements
    assert _count(then.domain, n=10, m=6) == 4  # i = 2, 7, 8, 9
    assert _count(other.domain, n=10, m=6) == 6
    assert then.domain.intersect(other.domain.set_tuple_name("S0")).is_empty()
    assert str(then.schedule).endswith("{ S0[i] -> [0, i, 0] }")
    assert str(other.schedule).endswith("{ S1[i] -> [0, i, 1] }")


def test_min_max_floord_bounds() -> None:
    scop = read_scop(
        _region(
            "  for (i = 0; i < n; i++)\n    for (j = max(0, i - 2); j <= min(n - 1, i + 2); j++)\n      A[i][j] = 0;\n"
            "  for (i = floord(n, 2); i < ceild(3 * n, 2) && i < n; i++)\n    B[i] = 1;"
        )
    )
    band, half = scop.statements
    assert _count(band.domain, n=10, m=1) == 10 * 5 - 2 * 3
    assert _count(half.domain, n=9, m=1) == 9 - 4


def test_min_macro_and_affine_macro_in_bounds() -> None:
    text = "#define MIN(a,b) ((a) < (b) ? (a) : (b))\n#define LAST (N - 1)\n#define N 100\n" + _region(
        "  for (i = 0; i < MIN(n, LAST); i++)\n    B[i] = 0;"
    )
    scop = read_scop(text)
    assert scop.params == ("n", "N")
    assert scop.param_values == {"N": 100}
    assert _count(scop.statements[0].domain, n=50, N=100) == 50
    assert _count(scop.statements[0].domain, n=500, N=100) == 99


def test_decrementing_loops_reverse_the_schedule() -> None:
    scop = read_scop(
        _region(
            "  for (i = n - 1; i >= 0; i--)\n    for (j = n; j > i; --j)\n      A[i][j - 1] = 0;\n"
            "  for (k = n; k >= 1; k -= 1) B[k - 1] = 1;\n  for (k = 0; k < n; k = k + 1) B[k] = 2;"
        )
    )
    s0, s1, s2 = scop.statements
    assert str(s0.domain).endswith("{ S0[i, j] : i >= 0 and i < j <= n }")
    assert str(s0.schedule).endswith("{ S0[i, j] -> [0, -i, 0, -j, 0] }")
    assert str(s1.schedule).endswith("{ S1[k] -> [1, -k, 0, 0, 0] }")
    assert str(s2.schedule).endswith("{ S2[k] -> [2, k, 0, 0, 0] }")
    order = scop.schedule_map.lex_lt_union_map(scop.schedule_map)  # a -> b: a runs before b
    assert isl.UnionMap("[n] -> { S0[i, j] -> S0[0, 1] : n = 5 and i = 4 and j = 5 }").is_subset(order)
    assert isl.UnionMap("[n] -> { S1[k] -> S1[k - 1] : n = 5 and 2 <= k <= 5 }").is_subset(order)


def test_for_declarations_and_step_spellings() -> None:
    scop = read_scop(
        _region("  for (int ii = 0; ii < n; ++ii)\n    for (long jj = ii; jj < n; jj += 1)\n      A[ii][jj] = 0;")
    )
    assert scop.statements[0].iterators == ("ii", "jj")
    assert _count(scop.statements[0].domain, n=4, m=1) == 10


def test_standard_integer_types_need_no_header() -> None:
    # int64_t and size_t as loop variables and casts, with no <stdint.h> in sight: a cast to an integer
    # type keeps the subscript affine.
    scop = read_scop(_region("  for (int64_t ii = 0; ii < n; ii++)\n    for (size_t jj = 0; jj < n; jj++)\n"
                             "      A[ii][(uint32_t)jj] = B[(ptrdiff_t)ii];"))
    (stmt,) = scop.statements
    assert stmt.iterators == ("ii", "jj") and _count(stmt.domain, n=3, m=1) == 9
    assert [str(a.relation).split("->")[-1].strip() for a in stmt.accesses] == ["A[ii, jj] }", "B[ii] }"]


# Accesses.
def test_scalars_and_compound_assignment() -> None:
    scop = read_scop(_region("  s = 0;\n  for (i = 0; i < n; i++)\n    s += B[i] * x;\n  B[0] = s;"))
    s0, s1, s2 = scop.statements
    assert [(a.array, a.is_write) for a in s0.accesses] == [("s", True)]
    assert [(a.array, a.is_write) for a in s1.accesses] == [("s", False), ("s", True), ("B", False), ("x", False)]
    assert str(s1.accesses[0].relation).endswith("{ S1[i] -> s[] }")
    assert [(a.array, a.is_write) for a in s2.accesses] == [("B", True), ("s", False)]
    assert scop.arrays["s"].sizes == () and scop.arrays["x"].is_scalar
    assert scop.arrays["B"].sizes == ("n",) and "A" not in scop.arrays
    assert scop.params == ("n",)  # x is read only: a scalar, not a parameter


def test_parameter_read_in_a_body_is_not_an_access() -> None:
    scop = read_scop(_region("  for (i = 0; i < n; i++)\n    B[i] = n * 2.0 + i + M_PI;"))
    assert [a.array for a in scop.statements[0].accesses] == ["B"]


def test_local_declarations() -> None:
    scop = read_scop(
        _region("  for (i = 0; i < n; i++) {\n    double t = B[i], u;\n    u = t * t;\n    B[i] = u;\n  }")
    )
    assert scop.locals == {"t": "double", "u": "double"}
    s0, s1, s2 = scop.statements
    assert s0.body.to_c() == "t = B[i]"
    assert [(a.array, a.is_write) for a in s2.accesses] == [("B", True), ("u", False)]
    assert [(a.array, a.is_write) for a in s1.accesses] == [("u", True), ("t", False), ("t", False)]
    assert scop.arrays["t"].element_type == "double"


def test_body_is_printed_with_new_iterators() -> None:
    scop = read_scop(
        _region(
            "  for (i = 0; i < n; i++)\n    for (j = 0; j < n; j++)\n"
            "      A[i][j] = SQRT((double)A[j][i]) / (1.0e-3f + x) + (i > j ? 'a' : 2UL);"
        )
    )
    body = scop.statements[0].body
    assert isinstance(body, Assign) and isinstance(body.target, Index)
    assert isinstance(body.value.left.left, Call)
    assert body.to_c({"i": "c0", "j": "c1 + 1"}) == (
        # substituted iterator expressions are parenthesized only where C precedence needs it
        "A[c0][c1 + 1] = SQRT((double)A[c1 + 1][c0]) / (1.0e-3f + x) + (c0 > c1 + 1 ? 'a' : 2UL)"
    )
    assert Name("x") in list(body.walk())


def test_pragmas_and_comments_inside_the_region() -> None:
    scop = read_scop(
        _region(
            "  // a comment\n#pragma omp parallel for\n  for (i = 0; i < n; i++) /* x */\n"
            "    #pragma ivdep\n    B[i] = 0; // done"
        )
    )
    assert len(scop.statements) == 1


def test_declarations_vla_pointer_rows_globals_polybench(tmp_path) -> None:
    text = (
        "#define NN 64\ndouble G[NN][NN + 1];\n"
        "void f(int n, double V[n][2 * n], float (*R)[NN], DATA_TYPE POLYBENCH_2D(P, NN, NN, n, n), double *q) {\n"
        "  int i;\n#pragma scop\n  for (i = 0; i < n; i++) {\n    G[i][i] = V[i][i] + R[i][i] + P[i][i];\n"
        "    q[i] = 0;\n  }\n#pragma endscop\n}\n"
    )
    scop = read_scop(text)
    a = scop.arrays
    assert a["G"].sizes == ("NN", "NN + 1") and a["G"].resolved_type == "double"
    assert a["V"].sizes == ("n", "2 * n")
    assert a["R"].sizes == ("", "NN") and a["R"].element_type == "float"
    assert a["P"].sizes == ("NN", "NN") and a["P"].element_type == "DATA_TYPE" and a["P"].resolved_type is None
    assert a["q"].sizes == ("",)


def test_includes_defines_and_param_values(tmp_path) -> None:
    (tmp_path / "inc").mkdir()
    (tmp_path / "k.h").write_text('#include "sizes.h"\n#define _PB_N POLYBENCH_LOOP_BOUND(N, n)\n')
    (tmp_path / "inc" / "sizes.h").write_text("#ifndef N\n#define N 40\n#endif\n#define POLYBENCH_LOOP_BOUND(x, y) x\n")
    src = tmp_path / "k.c"
    src.write_text('#include "k.h"\n#include <stdio.h>\n' + _region("  for (i = 0; i < _PB_N; i++)\n    B[i] = 0;"))
    assert read_scop(src).param_values == {}  # sizes.h is not found
    assert read_scop(src, include_dirs=[tmp_path / "inc"]).param_values == {"_PB_N": 40}
    assert read_scop(src, include_dirs=[tmp_path / "inc"], defines={"N": 7}).param_values == {"_PB_N": 7}
    assert read_scop(src, include_dirs=[tmp_path / "inc"], defines=["N=9"]).param_values == {"_PB_N": 9}


def test_context_is_each_parameter_at_least_one_or_its_value() -> None:
    scop = read_scop("#define LB 0\n" + _region("  for (i = LB; i < n - 1; i++)\n    B[i] = 0;"))
    assert scop.params == ("LB", "n")
    assert scop.context.is_equal(isl.Set("[LB, n] -> { : LB >= 0 and n >= 1 }"))


# Interop.
def test_jscop_parses_back_with_isl() -> None:
    scop = read_scop(KERNELS["gemm"].source, include_dirs=[UTILITIES])
    doc = to_jscop(scop)
    assert doc["name"] == "kernel_gemm"
    assert isl.Set(doc["context"]).is_equal(scop.context)
    assert [a["name"] for a in doc["arrays"]] == list(scop.arrays)
    assert doc["arrays"][0] == {"name": "C", "type": "double", "sizes": ["NI", "NJ"]}
    for st, js in zip(scop.statements, doc["statements"], strict=True):
        assert isl.Set(js["domain"]).is_equal(st.domain)
        assert isl.Map(js["schedule"]).is_equal(st.schedule)
        assert [a["kind"] for a in js["accesses"]] == ["write" if a.is_write else "read" for a in st.accesses]
        for a, ja in zip(st.accesses, js["accesses"], strict=True):
            assert isl.Map(ja["relation"]).is_equal(a.relation)
    dumped = dump_scops(KERNELS["gemm"].source, [UTILITIES], {})
    assert json.loads(dumped) == json.loads(json.dumps(doc))


def test_dump_scops_reports_bad_regions(tmp_path) -> None:
    path = tmp_path / "two.c"
    path.write_text("#pragma scop\nwhile (1) x = 1;\n#pragma endscop\n#pragma scop\nx = 2;\n#pragma endscop\n")
    docs = [json.loads(d) for d in dump_scops(path).split("\n\n")]
    assert docs[0]["line"] == 2 and "while" in docs[0]["error"]
    assert docs[1]["statements"][0]["domain"] == "{ S0[] }"


def test_read_scop_without_a_region() -> None:
    with pytest.raises(FrontendError, match="no '#pragma scop'"):
        read_scop("int main(void) { return 0; }\n")
    assert read_scops("int x;\n") == []


def test_polybench_scalar_loop_bounds_give_parameter_values() -> None:
    source = KERNELS["gemm"].source
    scop = read_scop(source, include_dirs=[UTILITIES], defines=["POLYBENCH_USE_SCALAR_LB", "MINI_DATASET"])
    assert scop.param_values == {"_PB_NI": 20, "_PB_NJ": 25, "_PB_NK": 30}
    assert read_scop(source, include_dirs=[UTILITIES]).param_values == {}  # `_PB_NI` -> `ni`: symbolic
