"""Malformed and non-affine regions: each gives one FrontendError at the right line, and nothing else escapes."""

from __future__ import annotations

import re

import pytest

from frontend import FrontendError, read_scop, read_scops

# Each case is the body of a region; the line marked `// <-` is where the error must be reported.
HEADER = """\
void kernel(int n, int m, double x, double A[n][n], double B[n], int P[n], double *p) {
  int i, j, k;
  double s, t;
#pragma scop
"""
FOOTER = """\
#pragma endscop
}
"""

CASES: dict[str, str] = {
    "indirect subscript": """
  for (i = 0; i < n; i++)
    B[P[i]] = 0.0;  // <-
""",
    "product of iterators in a bound": """
  for (i = 0; i < n; i++)
    for (j = 0; j < i * j; j++)  // <-
      B[j] = 0.0;
""",
    "product with a parameter in a bound": """
  for (i = 0; i < n * m; i++)  // <-
    B[i] = 0.0;
""",
    "data-dependent if": """
  for (i = 0; i < n; i++)
    if (B[i] > 0)  // <-
      B[i] = 0.0;
""",
    "while loop": """
  i = 0;
  while (i < n)  // <-
    B[i] = 0.0;
""",
    "do loop": """
  do {  // <-
    s = 1.0;
  } while (s < 0);
""",
    "goto": """
  for (i = 0; i < n; i++) {
    goto out;  // <-
  }
""",
    "break": """
  for (i = 0; i < n; i++) {
    B[i] = 1.0;
    break;  // <-
  }
""",
    "continue": """
  for (i = 0; i < n; i++) {
    continue;  // <-
  }
""",
    "return": """
  for (i = 0; i < n; i++)
    return;  // <-
""",
    "switch": """
  switch (n) {  // <-
    default: s = 1.0;
  }
""",
    "pointer dereference": """
  for (i = 0; i < n; i++)
    *p = B[i];  // <-
""",
    "pointer member": """
  for (i = 0; i < n; i++)
    s = p->x;  // <-
""",
    "step by two": """
  for (i = 0; i < n; i += 2)  // <-
    B[i] = 0.0;
""",
    "iterator assigned in its loop": """
  for (i = 0; i < n; i++) {
    B[i] = 0.0;
    i = i + 1;  // <-
  }
""",
    "iterator used after its loop": """
  for (i = 0; i < n; i++)
    B[i] = 0.0;
  B[i] = 1.0;  // <-
""",
    "call as a statement": """
  for (i = 0; i < n; i++)
    update(B, i);  // <-
""",
    "increment as a statement": """
  for (i = 0; i < n; i++)
    s++;  // <-
""",
    "missing semicolon": """
  for (i = 0; i < n; i++)
    B[i] = 0.0 B[i] = 1.0;  // <-
""",
    "non-affine modulo in a condition": """
  for (i = 0; i < n; i++)
    if (i % m == 0)  // <-
      B[i] = 0.0;
""",
    "floating bound": """
  for (i = 0; i < 2.5; i++)  // <-
    B[i] = 0.0;
""",
    "not-equal loop condition": """
  for (i = 0; i != n; i++)  // <-
    B[i] = 0.0;
""",
    "condition on the wrong side": """
  for (i = n; i < 100; i--)  // <-
    B[i] = 0.0;
""",
    "comma operator": """
  for (i = 0, j = 0; i < n; i++)  // <-
    B[i] = 0.0;
""",
    "conditional compilation inside": """
  for (i = 0; i < n; i++)
#ifdef FAST  // <-
    B[i] = 0.0;
#endif
""",
    "local array": """
  for (i = 0; i < n; i++) {
    double tmp[4];  // <-
    B[i] = 0.0;
  }
""",
    "written scalar as a bound": """
  k = 5;
  for (i = 0; i < k; i++)  // <-
    B[i] = 0.0;
""",
    "function call in a bound": """
  for (i = 0; i < count(n); i++)  // <-
    B[i] = 0.0;
""",
    "address-of": """
  for (i = 0; i < n; i++)
    p = &B[i];  // <-
""",
    "array without subscripts": """
  for (i = 0; i < n; i++)
    s = s + B;  // <-
""",
    "inconsistent dimensions": """
  for (i = 0; i < n; i++)
    B[i] = A[i];  // <-
""",
    "division by a parameter in a subscript": """
  for (i = 0; i < n; i++)
    B[i / m] = 0.0;  // <-
""",
    "loop without condition": """
  for (i = 0; ; i++)  // <-
    B[i] = 0.0;
""",
    "stray character": """
  for (i = 0; i < n; i++)
    B[i] = 0.0 @ 1;  // <-
""",
    "step of another variable": """
  for (i = 0; i < n; j++)  // <-
    B[i] = 0.0;
""",
    "nested loops share an iterator": """
  for (i = 0; i < n; i++)
    for (i = 0; i < n; i++)  // <-
      B[i] = 0.0;
""",
    "increment inside an expression": """
  for (i = 0; i < n; i++)
    B[i] = s++;  // <-
""",
    "assignment inside an expression": """
  for (i = 0; i < n; i++)
    B[i] = (s = 3.0) + 1.0;  // <-
""",
    "unbalanced braces": """
  for (i = 0; i < n; i++) {  // <-
    B[i] = 0.0;
""",
    "floating scalar as a bound": """
  for (i = 0; i < x; i++)  // <-
    B[i] = 0.0;
""",
    "subscript reads an array in a min": """
  for (i = 0; i < min(n, P[0]); i++)  // <-
    B[i] = 0.0;
""",
    "struct member": """
  for (i = 0; i < n; i++)
    s = t.re;  // <-
""",
    "else without if": """
  for (i = 0; i < n; i++)
    B[i] = 0.0;
  else  // <-
    B[0] = 1.0;
""",
    "dangling operator": """
  for (i = 0; i < n; i++)
    B[i] = s + ;  // <-
""",
    "misspelt keyword": """
  fro (i = 0; i < n; i++)  // <-
    B[i] = 0.0;
""",
    "unterminated string": """
  for (i = 0; i < n; i++)
    B[i] = 0.0;
  s = "abc;  // <-
""",
    "stray backslash": """
  for (i = 0; i < n; i++)
    B[i] = \\ 1.0;  // <-
""",
    "number with two points": """
  for (i = 0; i < n; i++)
    B[i] = 1.2.3;  // <-
""",
    "mismatched brackets": """
  for (i = 0; i < n; i++)
    B[i) = 0.0;  // <-
""",
    "closing brace never opened": """
  for (i = 0; i < n; i++)
    B[i] = 0.0;
  }  // <-
""",
    "unknown type": """
  for (i = 0; i < n; i++) {
    real_t r = B[i];  // <-
    B[i] = r;
  }
""",
    "non-ASCII identifier": """
  for (i = 0; i < n; i++)
    B[i] = \u00e9t\u00e9;  // <-
""",
    "call through a pointer variable": """
  for (i = 0; i < n; i++)
    B[i] = p(B[i]);  // <-
""",
    "call through a dereferenced pointer": """
  for (i = 0; i < n; i++)
    B[i] = (*p)(B[i]);  // <-
""",
    "integer constant too large": """
  for (i = 0; i < n; i++)
    B[i] = 99999999999999999999999;  // <-
""",
    "macro standing for a loop header": """
  LOOP(i, n)  // <-
    B[i] = 0.0;
""",
}


def _program(body: str) -> tuple[str, int]:
    text = "#define LOOP(v, n) for (v = 0; v < (n); v++)\n" + HEADER + body.lstrip("\n") + FOOTER
    lines = text.splitlines()
    marked = [k + 1 for k, line in enumerate(lines) if "// <-" in line]
    return text, marked[0]


# The cases that are not C at all (a compiler rejects them); the others are C outside the affine subset.
MALFORMED = {
    "missing semicolon",
    "stray character",
    "unbalanced braces",
    "else without if",
    "dangling operator",
    "misspelt keyword",
    "unterminated string",
    "stray backslash",
    "number with two points",
    "mismatched brackets",
    "closing brace never opened",
}


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", sorted(CASES))
def test_error_at_the_right_line(case: str) -> None:
    text, line = _program(CASES[case])
    entries = read_scops(text)
    assert len(entries) == 1
    (err,) = entries
    assert isinstance(err, FrontendError), f"{case}: extracted instead of failing"
    assert err.line == line, f"{case}: {err}"
    assert err.column >= 1
    assert re.fullmatch(rf"<string>:{line}:\d+: error: .+", str(err)), str(err)
    assert "internal error" not in err.message, str(err)
    assert err.malformed == (case in MALFORMED), f"{case}: malformed={err.malformed}: {err}"
    with pytest.raises(FrontendError):
        read_scop(text)


def test_missing_endscop(tmp_path) -> None:
    path = tmp_path / "k.c"
    path.write_text(
        "void f(int n, double B[n]) {\n  int i;\n#pragma scop\n  for (i = 0; i < n; i++)\n    B[i] = 0;\n}\n"
    )
    (err,) = read_scops(path)
    assert isinstance(err, FrontendError)
    assert (err.path, err.line, err.column) == (str(path), 3, 1)
    assert str(err).startswith(f"{path}:3:1: error: ")
    assert "endscop" in err.message


def test_stray_endscop_and_a_good_region() -> None:
    text = (
        "void f(int n, double B[n]) {\n  int i;\n#pragma endscop\n"
        "#pragma scop\n  for (i = 0; i < n; i++)\n    B[i] = 0;\n#pragma endscop\n}\n"
    )
    err, scop = read_scops(text)
    assert isinstance(err, FrontendError) and err.line == 3
    assert not isinstance(scop, FrontendError) and len(scop.statements) == 1


def test_a_bad_region_does_not_spoil_the_next() -> None:
    text = HEADER + "  while (1) s = 1;\n" + FOOTER + HEADER.replace("kernel", "other") + "  s = 2;\n" + FOOTER
    bad, good = read_scops(text)
    assert isinstance(bad, FrontendError) and bad.line == 5
    assert not isinstance(good, FrontendError) and good.region.function == "other"


def test_unreadable_inputs(tmp_path) -> None:
    with pytest.raises(FrontendError) as missing:
        read_scops(tmp_path / "nope.c")
    assert "cannot read" in missing.value.message
    bad = tmp_path / "latin1.c"
    bad.write_bytes(b"int x;\n/* caf\xe9 */\n#pragma scop\nx = 1;\n#pragma endscop\n")
    with pytest.raises(FrontendError) as undecodable:
        read_scops(bad)
    assert undecodable.value.line == 2


def test_bad_if_in_the_file_spoils_later_regions_only() -> None:
    text = "#pragma scop\nx = 1;\n#pragma endscop\n#if 1 +\n#endif\n#pragma scop\nx = 2;\n#pragma endscop\n"
    first, second = read_scops(text)
    assert not isinstance(first, FrontendError)
    assert isinstance(second, FrontendError) and second.line == 4


def test_runaway_conditions_stop_with_an_error() -> None:
    """Nested `!=`/`%` conditions multiply isl's disjuncts; the reader gives up instead of hanging."""
    import time

    import islpy as isl

    depth = 20
    body = "".join(f"if (i != {k} && i % {k + 2} != 1) {{\n" for k in range(depth))
    body += "B[i] = 0;\n" + "} else { B[i] = 1; }\n" * depth
    text = HEADER + "  for (i = 0; i < n; i++) {\n" + body + "}\n" + FOOTER
    start = time.perf_counter()
    (err,) = read_scops(text)
    assert time.perf_counter() - start < 20
    assert isinstance(err, FrontendError) and "too complex" in err.message
    assert isl.DEFAULT_CONTEXT.get_max_operations() == 0  # the limit is lifted afterwards


@pytest.mark.parametrize(
    ("use", "line", "column", "words"),
    [
        ("  for (i = 0; i < n; i++)\n    B[IDX] = 0;\n", 8, 7, "reads array P"),
        ("  for (i = 0; i < SQUARE(n); i++)\n    B[i] = 0;\n", 7, 19, "multiplies two non-constant"),
    ],
)
def test_errors_inside_macro_expansions_point_at_the_use(use: str, line: int, column: int, words: str) -> None:
    text = "#define IDX (P[i])\n#define SQUARE(a) ((a) * (a))\n" + HEADER + use + FOOTER
    (err,) = read_scops(text)
    assert isinstance(err, FrontendError)
    assert (err.line, err.column) == (line, column), str(err)
    assert words in err.message


# Not C, or C outside the subset? gcc decides: whatever it rejects must be `malformed`, whatever it
# accepts must not be. Every name is declared, so that gcc judges the syntax only.
ORACLE_HEADER = """\
#include <stdio.h>
typedef double real_t;
struct pt { double x, y; };
double f(double);
void update(double *a, int i);
void kernel(int n, double A[100], double B[100], int P[100], double *p, struct pt s, double (*fp)(double)) {
  int i, j;
  double t = 0.0;
  FILE *fh = stdout;
#pragma scop
"""
ORACLE_SNIPPETS = [
    "for (i = 0; i < n; i++) A[i] = B[i];",
    "while (i < n) { A[i] = 0.0; i++; }",
    "do { i += 1; } while (i < n);",
    "for (i = 0, j = 0; i < n; i++, j++) A[i] = B[j];",
    "switch (n) { case 1: t = 1.0; break; default: t = 2.0; }",
    "for (i = 0; i < n; i++) { if (i > 5) goto out; A[i] = 0.0; } out: ;",
    "*p = B[0]; p[1] = *(p + 2);",
    "A[P[0]] = s.x + fp(B[0]) + (*fp)(B[1]);",
    "update(A, 0); fprintf(fh, \"%d\\n\", n);",
    "{ real_t r = (real_t) B[0]; double *q = &A[0]; *q = r; }",
    "t = sizeof(double) + sizeof t + (n > 0 ? 1 : 2);",
    "t = (double)(int)B[0]; t = -(t) * (t);",
    "struct pt u = { .x = 1.0, .y = 2.0 }; t = u.x;",
    "enum { RED = 1, BLUE, } c = BLUE; struct { double x; int b : 3; } w; w.x = c; t = w.x;",
    "struct { double x; } *; t = 0.0;",
    "enum = 1;",
    "for (int k = 0; k < n; k++) A[k] = 0.0;",
    "double u[3] = {1.0, 2.0, 3.0}; A[0] = u[1];",
    "t = f(B[0]) + f(f(B[1]));",
    "A[0] = B[0] B[1] = 0.0;",
    "A[0] = B[0] + ;",
    "for (i = 0; i < n) A[i] = 0.0;",
    "if i > 0 A[0] = 1.0;",
    "else A[0] = 1.0;",
    "A[0] = (B[0];",
    "A[0] = B[0]);",
    "{ A[0] = 0.0;",
    "A[0] = 1.0; }",
    "fro (i = 0; i < n; i++) A[i] = 0.0;",
    "do { A[0] = 0.0; } while (n > 0)",
    "int u v = 1;",
    "A[0] = 0.0 ;; B[0] = 1.0",
    "t = 1.2.3;",
    "t = 09;",
    "t = B[0] @ 2;",
    "for (i = 0; i < n; i++) A[i] = B[i] +\n  1.0;",
    "goto;",
]
# Not judged: `break`, `continue` and `case` outside a loop or switch of the region, which are C when the
# region sits in one (the recognizer sees the region only).


def _gcc_accepts(text: str, tmp_path) -> bool:
    import subprocess

    src = tmp_path / "oracle.c"
    src.write_text(text)
    proc = subprocess.run(["gcc", "-fsyntax-only", "-w", "-std=gnu11", str(src)], capture_output=True)
    return proc.returncode == 0


@pytest.mark.parametrize("snippet", ORACLE_SNIPPETS)
def test_not_c_exactly_when_gcc_rejects_it(snippet: str, tmp_path) -> None:
    text = ORACLE_HEADER + "  " + snippet + "\n" + FOOTER
    accepted = _gcc_accepts(text, tmp_path)
    (entry,) = read_scops(text)
    malformed = isinstance(entry, FrontendError) and entry.malformed
    assert malformed == (not accepted), f"gcc {'accepts' if accepted else 'rejects'} it; looper: {entry}"


def test_the_oracle_cases_go_both_ways(tmp_path) -> None:
    verdicts = {_gcc_accepts(ORACLE_HEADER + "  " + s + "\n" + FOOTER, tmp_path) for s in ORACLE_SNIPPETS}
    assert verdicts == {True, False}


def _reading(text: str):
    from frontend import read_file

    return read_file(text)


def test_math_calls_pass_and_other_calls_are_assumed_pure_with_a_warning() -> None:
    from looper.ir import Scop

    text = (
        "#define SQRT_FUN(x) sqrt(x)\n#define TWICE(x) (2 * (x))\n#define NORM(x) other(x)\ndouble scale(double);\n"
        + HEADER
        + "  for (i = 0; i < n; i++)\n"
        "    B[i] = SQRT_FUN(fabs(B[i])) + expf(TWICE(B[i])) + pow(B[i], 2.0);\n"
        "  for (i = 0; i < n; i++)\n"
        "    B[i] = scale(B[i]) + scale(1.0) + NORM(B[i]) + helper(B[i]);\n" + FOOTER
    )
    reading = _reading(text)
    assert [type(e) for e in reading.entries] == [Scop]
    # One warning per function and region, at its first call; none for math functions, even through macros.
    assert [(w.line, w.column) for w in reading.warnings] == [(12, 12), (12, 39), (12, 52)]
    messages = [w.message for w in reading.warnings]
    assert "'scale'" in messages[0] and "assumed to have no side effects" in messages[0]
    assert "'other' (called by the macro 'NORM')" in messages[1] and "'helper'" in messages[2]
    assert all(str(w).startswith("<string>:12:") and ": warning: " in str(w) for w in reading.warnings)


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("int x;\n/* never closed\n" + HEADER + "  s = 1.0;\n" + FOOTER, 2, 1, "unterminated comment"),
        (HEADER + "  s = 1.0;\n" + FOOTER + "#ifdef X\nint y;\n", 8, 1, "#if without #endif"),
        (HEADER + "  s = 1.0;\n" + FOOTER + "#endif\n", 8, 7, "#endif without #if"),
        ("#define\n" + HEADER + "  s = 1.0;\n" + FOOTER, 1, 8, "macro name missing"),
        (HEADER + "#pragma scop\n  s = 1.0;\n" + FOOTER, 4, 1, "still open"),
    ],
)
def test_broken_files_and_markup_are_malformed(text: str, line: int, column: int, words: str) -> None:
    errors = [e for e in read_scops(text) if isinstance(e, FrontendError) and e.malformed]
    assert errors, read_scops(text)
    assert (errors[0].line, errors[0].column) == (line, column), str(errors[0])
    assert words in errors[0].message


def test_an_empty_region_is_c_but_not_a_scop() -> None:
    (err,) = read_scops(HEADER + FOOTER)
    assert isinstance(err, FrontendError) and not err.malformed and err.line == 4
    assert "no statements" in err.message


def test_a_missing_quoted_header_is_a_warning_and_a_missing_system_header_is_not(tmp_path) -> None:
    src = tmp_path / "k.c"
    src.write_text('#include <nowhere_system.h>\n#include "nowhere.h"\n' + HEADER + "  s = 1.0;\n" + FOOTER)
    from frontend import read_file

    reading = read_file(src)
    assert not any(isinstance(e, FrontendError) for e in reading.entries)
    (warning,) = reading.warnings
    assert (warning.line, warning.column) == (2, 10) and '"nowhere.h"' in warning.message


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
def test_undecodable_bytes_are_reported_at_their_line_and_character(end: bytes, tmp_path) -> None:
    path = tmp_path / "k.c"
    path.write_bytes(end.join([b"int x;", "/* \u00e9t\u00e9 */ /* caf\u00e9".encode() + b"\xe9 */", b""]))
    with pytest.raises(FrontendError) as bad:
        read_scops(path)
    assert (bad.value.line, bad.value.column) == (2, 18) and bad.value.malformed
    assert "0xe9" in bad.value.message and "UTF-8" in bad.value.message


@pytest.mark.parametrize("end", ["\r\n", "\r"])
def test_crlf_and_lone_cr_files_read_like_lf_files(end: str, tmp_path) -> None:
    text = "#define N 10\n" + HEADER + "  for (i = 0; i < N; i++)\n    B[i] = 1.0;\n" + FOOTER
    path = tmp_path / "k.c"
    path.write_bytes(text.replace("\n", end).encode())
    (scop,) = read_scops(path)
    assert not isinstance(scop, FrontendError), str(scop)
    assert scop.param_values == {"N": 10} and scop.region.line == 5
    assert [s.line for s in scop.statements] == [7]
    assert path.read_bytes()[scop.region.start : scop.region.end].endswith(f"#pragma endscop{end}".encode())


def test_a_byte_order_mark_does_not_hide_the_first_directive(tmp_path) -> None:
    path = tmp_path / "k.c"
    path.write_bytes(b"\xef\xbb\xbf#define N 10\n" + (HEADER + "  for (i = 0; i < N; i++)\n    B[i] = 1.0;\n"
                                                   + FOOTER).encode())
    (scop,) = read_scops(path)
    assert not isinstance(scop, FrontendError) and scop.param_values == {"N": 10}


def test_frontend_errors_keep_their_kind_through_pickling() -> None:
    import pickle

    err = FrontendError("x", "k.c", 3, 4, malformed=True)
    again = pickle.loads(pickle.dumps(err))
    assert (again.malformed, str(again)) == (True, "k.c:3:4: error: x")
    assert again.as_warning("note") == "k.c:3:4: warning: x (note)"
