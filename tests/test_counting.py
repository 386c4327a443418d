"""Instance counts by closed form (looper.counting) against isl's enumeration, where that is cheap."""

from __future__ import annotations

import subprocess
import sys
import time

import islpy as isl
import pytest

from frontend import read_scops
from looper.counting import box_count, fix_params, instance_count
from polybench import KERNELS
from polybench.manifest import UTILITIES

EXACT = [
    "{ [i] : 0 <= i < 10 }",
    "{ [] }",
    "[N] -> { [i] : 0 <= i < N and i > N }",
    "{ [i, j, k] : 0 <= i < 100 and 0 <= j <= i and j <= k < 100 and k <= 2i }",
    "[N] -> { [i, j] : 0 <= i < N and 0 <= j < N and i != j }",
    "[N] -> { [i, j] : 0 <= i < N and 0 <= j < N and (i < 3 or j > N - 4) }",
    "[N, M] -> { [t, i, j] : 0 <= t < M and 1 <= i < N - 1 and i <= j <= N - 1 + t }",
    "[N] -> { [i, j, k] : 0 <= i < N and i < j < N and 0 <= k < i - j + N }",
    "[N] -> { [i, j] : 0 <= i < N and j = 2i + 1 }",
    "[N] -> { [i, j] : 0 <= i < N and 0 <= 2j < i }",
    "[N] -> { [ii, i] : 0 <= ii <= floor((N - 1)/32) and 32ii <= i <= min(N - 1, 32ii + 31) }",
]
CLOSE = [  # quasi-affine bounds: counted with floor(e/d) at its average value
    "[N] -> { [i, j] : 0 <= i < N and 0 <= j < N and i + j <= N and 2j >= i }",
    "[N] -> { [i, j] : 0 <= i < N and 3j <= i + 5 and j >= 0 }",
    "[N] -> { [i, j, k] : 0 <= i < N and 0 <= j < N and 0 <= k < N and 7i + 3j + 5k <= 4N }",
]


def _enumerated(text: str, n: int) -> int:
    return fix_params(isl.Set(text), {"N": n, "M": n + 3}, n).count_val().to_python()


@pytest.mark.parametrize("text", EXACT)
@pytest.mark.parametrize("n", [1, 7, 37])
def test_exact_where_bounds_are_affine(text: str, n: int) -> None:
    assert instance_count(isl.Set(text), {"N": n, "M": n + 3}, n) == _enumerated(text, n)


@pytest.mark.parametrize("text", CLOSE)
def test_close_where_bounds_are_quasi_affine(text: str) -> None:
    got, want = instance_count(isl.Set(text), {"N": 60}, 60), _enumerated(text, 60)
    assert abs(got - want) <= 0.02 * want
    assert got < box_count(fix_params(isl.Set(text), {"N": 60}, 60), 60)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_polybench_domains_exact(name: str) -> None:
    scop = read_scops(KERNELS[name].source, include_dirs=[UTILITIES],
                      defines={"POLYBENCH_USE_SCALAR_LB": None, "MINI_DATASET": None})[0]
    assert scop.param_values  # the sizes are known, so the count is of the real domain
    for stmt in scop.statements:
        want = fix_params(stmt.domain, scop.param_values, 32).count_val().to_python()
        assert instance_count(stmt.domain, scop.param_values, 32) == want, stmt.name


def test_ten_deep_nest_of_a_million_iterations_per_loop_is_not_enumerated() -> None:
    loops = " and ".join(f"0 <= i{k} < N" for k in range(10))
    domain = isl.Set(f"[N] -> {{ [{', '.join(f'i{k}' for k in range(10))}] : {loops} and i9 <= i8 }}")
    started = time.perf_counter()
    got = instance_count(domain, {"N": 10**6}, 32)
    assert time.perf_counter() - started < 5
    assert got == pytest.approx(10**48 * (10**12 + 10**6) / 2, rel=1e-9)


def test_analytical_evaluator_on_a_deep_long_nest_finishes() -> None:
    """The evaluator's instance weights on a 10-deep nest of 100 iterations per loop (enumeration
    would visit 10^20 points): in a child process, so that a hang fails instead of blocking."""
    body = "".join(f"for (int i{k} = 0; i{k} < 100; i{k}++)\n" for k in range(10))
    source = f"double s;\nvoid f(void) {{\n#pragma scop\n{body}s = s + i0 + i9;\n#pragma endscop\n}}\n"
    code = ("import sys; from frontend import read_scop; from looper.schedule import Schedule; "
            "from looper.search import AnalyticalEvaluator; "
            "print(AnalyticalEvaluator().score([Schedule(read_scop(sys.stdin.read()))])[0])")
    proc = subprocess.run([sys.executable, "-c", code], input=source, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout) == 1.0
