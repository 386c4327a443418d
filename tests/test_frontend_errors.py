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
  for (i = 0; i < n; i++) {
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
}


def _program(body: str) -> tuple[str, int]:
    text = HEADER + body.lstrip("\n") + FOOTER
    lines = text.splitlines()
    marked = [k + 1 for k, line in enumerate(lines) if "// <-" in line]
    # Unbalanced braces are only noticed where the region ends.
    line = marked[0] if marked else next(k + 1 for k, s in enumerate(lines) if "endscop" in s)
    return text, line


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
