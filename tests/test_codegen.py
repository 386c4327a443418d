"""Code generation details that decide whether gcc vectorizes and unrolls what looper asks for."""

from __future__ import annotations

import re
import subprocess

from codegen.ast_c import HELPER_MACROS, generate
from frontend import read_scop
from looper import transforms as T
from looper.deps import compute_dependences
from looper.schedule import Schedule
from looper.search.seeds import plain
from polybench import KERNELS


def test_an_unrolled_loop_with_a_min_bound_keeps_its_annotation(tmp_path) -> None:
    scop = read_scop(KERNELS["gemm"].source)
    schedule = Schedule(scop).then(T.Interchange("S1", 1, 2), T.Tile("S1", 1, (32, 32)), T.Unroll("S1", 4, 4))
    code = generate(schedule).code
    assert "#pragma GCC unroll 4" in code and "c9_end = looper_min(" in code
    source = tmp_path / "unrolled.c"
    source.write_text(HELPER_MACROS + "void kernel(int _PB_NI, int _PB_NJ, int _PB_NK, double alpha, double beta,"
                      " double C[100][100], double A[100][100], double B[100][100]) {\n" + code + "}\n")
    # gcc ignores a `#pragma GCC` loop annotation on a loop whose condition is a conditional expression.
    proc = subprocess.run(["gcc", "-O3", "-Wall", "-Werror", "-c", str(source), "-o", str(tmp_path / "u.o")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_innermost_loops_hold_no_guard() -> None:
    # Pluto's jacobi-2d fuses two statements shifted by one: without "separate" innermost loops, isl
    # guards each statement inside the innermost loop, which gcc then does not vectorize.
    scop = read_scop(KERNELS["jacobi-2d"].source)
    code = generate(plain(Schedule(scop), compute_dependences(scop))).code
    lines = code.splitlines()
    for k, line in enumerate(lines):
        if line.strip().startswith("for (int c11"):
            body = []
            for inner in lines[k + 1:]:
                if inner.strip() == "}":
                    break
                body.append(inner)
            assert body and not any(re.match(r"\s*if \(", b) for b in body), "\n".join(body)
