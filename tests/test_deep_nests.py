"""Loop nests deeper than the cost model's MAX_DEPTH (6): every search mode, --verify, the features'
depth policy (costmodel/FEATURES.md), and nothing that grows with the number of iterations."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from costmodel import features as F
from frontend import read_scop
from looper import transforms as T
from looper.api import SEARCHES
from looper.schedule import Schedule


def _loops(depth: int, bound: str) -> str:
    return "".join("  " * (k + 1) + f"for (int i{k} = 0; i{k} < {bound}; i{k}++)\n" for k in range(depth))


def accumulation(depth: int, extent: int | str) -> str:
    """A nest of trivial loops whose one statement uses every iterator, into a scalar."""
    its = " + ".join(f"i{k}" for k in range(depth))
    return (f"#include <stdio.h>\ndouble s;\nstatic void kernel(void) {{\n#pragma scop\n{_loops(depth, str(extent))}"
            f"{'  ' * (depth + 1)}s = s + 0.5 * ({its});\n#pragma endscop\n}}\n"
            "int main(void) {\n  s = 0;\n  kernel();\n  printf(\"%.6f\\n\", s);\n  return 0;\n}\n")


def array_update(depth: int, extent: int) -> str:
    """A `depth`-dimensional array updated in place by a nest of that depth (bounds a parameter n)."""
    idx = "".join(f"[i{k}]" for k in range(depth))
    its = " + ".join(f"i{k}" for k in range(depth))
    return (f"#include <stdio.h>\nstatic double A{f'[{extent}]' * depth};\n"
            f"static void kernel(int n) {{\n#pragma scop\n{_loops(depth, 'n')}"
            f"{'  ' * (depth + 1)}A{idx} = A{idx} * 0.5 + i0 - i{depth - 1} + 0.25 * ({its});\n#pragma endscop\n}}\n"
            f"int main(void) {{\n  double *p = (double *)A;\n  long total = {extent ** depth};\n"
            "  for (long k = 0; k < total; k++) p[k] = (double)(k % 7);\n"
            f"  kernel({extent});\n  kernel({extent});\n  double s = 0;\n"
            "  for (long k = 0; k < total; k++) s += p[k] * (double)(k % 13 + 1);\n"
            "  printf(\"%.6f\\n\", s);\n  return 0;\n}\n")


def two_depths(extent: int) -> str:
    """An 8-deep reduction under a 2-deep initialization: fusion, distribution and interchange at depth."""
    n = extent
    return (f"#include <stdio.h>\nstatic double B[{n}][{n}], C[{n}][{n}][{n}], D[{n}][{n}][{n}];\n"
            f"static void kernel(void) {{\n#pragma scop\n{_loops(2, str(n))}"
            "    {\n      B[i0][i1] = 0.0;\n"
            + "".join("  " * (k + 1) + f"for (int i{k} = 0; i{k} < {n}; i{k}++)\n" for k in range(2, 8))
            + "                B[i0][i1] += C[i2][i3][i4] * D[i5][i6][i7] + i0 - i1;\n    }\n"
            "#pragma endscop\n}\n"
            "int main(void) {\n"
            f"  for (int a = 0; a < {n}; a++) for (int b = 0; b < {n}; b++) for (int c = 0; c < {n}; c++) {{\n"
            "    C[a][b][c] = (a + 2 * b + 3 * c) % 5; D[a][b][c] = (3 * a + b + c) % 7; }\n"
            "  kernel();\n  double s = 0;\n"
            f"  for (int a = 0; a < {n}; a++) for (int b = 0; b < {n}; b++) s += B[a][b] * (a + 1) * (b + 2);\n"
            "  printf(\"%.6f\\n\", s);\n  return 0;\n}\n")


PROGRAMS = {
    "accumulation-10": accumulation(10, 3),
    "array-8": array_update(8, 3),
    "two-depths-8": two_depths(3),
}
# Measuring builds and times every candidate: a small space keeps that to a few dozen builds.
SMALL = {"unimodular_steps": 1, "fusion_steps": 1, "tile_sizes": [8], "unroll_factors": [2]}


def _optimize_in_child(source: str, timeout: float, **options: object) -> dict:
    """optimize() in a child process with a time limit, so that a search that hangs (enumerating
    iterations, or code generation of a pathological schedule) fails instead of blocking the suite."""
    code = ("import json, sys\nfrom looper.api import optimize\nfrom looper.search.candidates import Space\n"
            "o = json.loads(sys.argv[1])\n"
            "if 'space' in o:\n"
            "    o['space'] = Space(**{k: tuple(v) if isinstance(v, list) else v for k, v in o['space'].items()})\n"
            "r = optimize(sys.stdin.read(), **o)\n"
            "v = r.verification\n"
            "print(json.dumps({'regions': len(r.regions), 'skipped': len(r.skipped), 'code': r.code,\n"
            "                  'verified': v.ok if v else None, 'message': v.message if v else ''}))\n")
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(options)], input=source, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("search", SEARCHES)
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_every_search_mode_verifies(name: str, search: str) -> None:
    measured = search in ("measure", "hybrid")
    # Narrow beams keep the test short; the default beam meets deep nests in test_long_deep_nest_*.
    options = {"search": search, "verify": True, "repeat": 1, "top_k": 2, "beam_width": 1 if measured else 2,
               "fusion_width": 4, **({"space": SMALL} if measured else {})}
    out = _optimize_in_child(PROGRAMS[name], 300, **options)
    assert out["regions"] == 1 and not out["skipped"]
    assert out["verified"], out["message"]


def test_cli_verify(tmp_path: Path) -> None:
    for name in ("accumulation-10", "array-8"):
        src = tmp_path / f"{name}.c"
        src.write_text(PROGRAMS[name])
        proc = subprocess.run([sys.executable, "-m", "looper.cli", str(src), "-o", str(tmp_path / "out.c"), "--verify",
                               "--explain"], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
        assert "verified: outputs match" in proc.stderr


LONG = {  # 100 iterations per loop is 10^20 points; a million per loop, 10^60
    "constant-100": accumulation(10, 100),
    "parameter": accumulation(10, "n").replace("static void kernel(void)", "static void kernel(int n)")
                                      .replace("kernel();", "kernel(100);"),
    "constant-1e6": accumulation(10, 10**6),
}


@pytest.mark.parametrize(("name", "options"), [
    *((name, {"search": "isl"}) for name in sorted(LONG)),
    *((name, {}) for name in sorted(LONG)),  # the default search, with the shipped cost model
    ("constant-1e6", {"search": "model", "model": "analytical"}),  # the evaluator that enumerated
], ids=lambda x: x if isinstance(x, str) else (x.get("model") or x.get("search") or "default"))
def test_long_deep_nest_is_not_enumerated(name: str, options: dict) -> None:
    out = _optimize_in_child(LONG[name], 90, **options)  # generous: seconds on a quiet machine
    assert out["regions"] == 1 and "for (" in out["code"]


# --- the features' depth policy -----------------------------------------------------------------
def _deep_scop(depth: int = 10):
    return read_scop(array_update(depth, 2))


def test_described_positions() -> None:
    assert F.described(4, 6) == (0, 1, 2, 3)
    assert F.described(6, 6) == (0, 1, 2, 3, 4, 5)
    assert F.described(10, 6) == (0, 1, 2, 3, 4, 9)
    assert F.described(13, 9) == (0, 1, 2, 3, 4, 5, 6, 7, 12)


def test_deep_features_describe_the_outer_loops_and_the_innermost() -> None:
    scop = _deep_scop(10)
    fz = F.Featurizer()
    x = fz.schedule(Schedule(scop))
    assert x.comps.shape == (1, F.COMP_DIM) and np.isfinite(x.comps).all() and np.isfinite(x.loops).all()
    o = F.OFFSET["domain"]
    domain = x.comps[0, o : o + F.MAX_CONSTRAINTS * F.CONSTRAINT_COLS].reshape(F.MAX_CONSTRAINTS, F.CONSTRAINT_COLS)
    # 0 <= ik < n for the six described iterators: 12 rows, none on an undescribed one.
    assert np.count_nonzero(np.abs(domain[:, 1:-1]).sum(1)) == 12
    o = F.OFFSET["transform"]
    assert np.array_equal(x.comps[0, o : o + 36].reshape(6, 6), np.eye(6))
    o = F.OFFSET["loops"]
    rows = x.comps[0, o : o + F.MAX_LOOPS * F.LOOP_ROW].reshape(F.MAX_LOOPS, F.LOOP_ROW)
    assert rows[:, 0].sum() == F.MAX_LOOPS  # nine loop rows of ten: the outer eight and the innermost
    assert np.array_equal(rows[-1, 1:7], [0, 0, 0, 0, 0, 1])  # the innermost row is i9, in the last column
    o = F.OFFSET["tags"]
    assert x.comps[0, o + 14] == 1.0  # depth / 6, clipped at the described depth


def test_deep_interchange_matrices() -> None:
    scop = _deep_scop(10)
    fz = F.Featurizer()
    outer_inner = fz.schedule(Schedule(scop).then(T.Interchange("S0", 0, 9)))
    o = F.OFFSET["transform"]
    t = outer_inner.comps[0, o : o + 36].reshape(6, 6)
    assert t[0, 5] == 1 and t[5, 0] == 1 and t[0, 0] == 0  # i9 outermost, i0 innermost
    assert outer_inner.unimod_len[0] == 2
    assert np.array_equal(outer_inner.unimod[0, 1].reshape(6, 6), np.eye(6)[[5, 1, 2, 3, 4, 0]])
    middle = fz.schedule(Schedule(scop).then(T.Interchange("S0", 6, 7)))
    assert middle.unimod_len[0] == 1  # no matrix for loops the features do not describe...
    o = F.OFFSET["tags"]
    assert middle.comps[0, o + 13] == 1.0  # ...but the interchange is counted: log2(1 + 1)
    assert F.step_matrix(T.Interchange("S0", 6, 7), 10) is None
    assert F.step_matrix(T.Interchange("S0", 4, 5)) is not None  # up to six loops, as before


def test_deep_strides_use_every_iterator() -> None:
    """The cost block's bytes per innermost iteration come from the whole access matrix: moving the
    outermost loop innermost makes A's innermost access jump 2^9 elements."""
    scop = _deep_scop(10)
    fz = F.Featurizer()
    o = F.OFFSET["cost"]
    before = fz.schedule(Schedule(scop)).comps[0, o]
    after = fz.schedule(Schedule(scop).then(T.Interchange("S0", 0, 9))).comps[0, o]
    assert before == pytest.approx(np.log2(1 + 8))
    assert after == pytest.approx(np.log2(1 + 8 * 2**9))


def test_model_scores_deep_schedules() -> None:
    from costmodel.inference import load_evaluator

    evaluator = load_evaluator()
    if evaluator is None:
        pytest.skip("no shipped checkpoint")
    scop = _deep_scop(8)
    schedules = [Schedule(scop), Schedule(scop).then(T.Interchange("S0", 0, 7)),
                 Schedule(scop).then(T.Parallelize("S0", 0)), Schedule(scop).then(T.Tile("S0", 5, (8, 8), (0, 1)))]
    scores = evaluator.score(schedules)
    assert all(np.isfinite(scores)) and all(s > 0 for s in scores)
