"""The random program generator: deterministic, diverse, and every program compiles, runs and extracts."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from codegen.build import BuildError, Compiler, compile_text
from costmodel.generator import GeneratedProgram, generate, programs, write_program
from looper.verify import harness_sources
from polybench.dump import parse
from polybench.manifest import UTILITIES

# -Werror: a generated program must compile without a single warning.
STRICT = Compiler(flags=("-O2", "-Wall", "-Wno-unknown-pragmas", "-Werror"), openmp=False,
                  defines={"POLYBENCH_DUMP_ARRAYS": None})
TAGS = {
    "elementwise", "reduction_array", "reduction_scalar", "matmul", "stencil_1d", "stencil_2d", "stencil_3d",
    "time_iterated", "jacobi", "gauss_seidel", "transposed", "strided", "offset", "triangular", "decrementing",
    "guard", "imperfect", "scalar_temp", "generic", "minmax", "products",
}
RUN_SEEDS = range(1000, 1040)


@cache
def sample(n: int = 200) -> tuple[GeneratedProgram, ...]:
    return tuple(programs(0, n))


def test_same_seed_same_program() -> None:
    for seed in (0, 7, 123456):
        assert generate(seed) == generate(seed)
    assert len({generate(s).source for s in range(20)}) == 20


def test_diversity_over_200_seeds() -> None:
    progs = sample()
    tags = set().union(*(p.pattern_tags for p in progs))
    assert not TAGS - tags, f"never generated: {TAGS - tags}"
    assert {p.dtype for p in progs} == {"double", "float", "int"}
    assert {d for p in progs for d in p.nest_depths} == {1, 2, 3, 4, 5}
    assert set(Counter(len(p.nest_depths) for p in progs)) == {1, 2, 3, 4}
    assert all(p.liveouts for p in progs)


def test_use_scale_spans_the_caches_at_measurable_run_times() -> None:
    small = {generate(s).source for s in range(5)}
    use = [generate(s, scale="use") for s in range(120)]
    assert not small & {p.source for p in use[:5]}  # another random stream: no training program repeats
    assert use[3] == generate(3, scale="use") and use[3].name == "gen3u"
    mib = sorted(p.footprint_bytes / 2**20 for p in use)
    assert mib[-1] <= 128 and sum(m > 32 for m in mib) >= 12 and sum(m < 1 for m in mib) >= 12  # L2 to 4x LLC
    seconds = [p.estimated_seconds for p in use]
    assert sum(0.005 <= t <= 0.2 for t in seconds) >= 0.75 * len(use) and max(seconds) <= 0.2
    assert max(max(v for k, v in p.sizes.items() if k != "TSTEPS") for p in use) >= 2000
    with pytest.raises(ValueError, match="scale 'huge'"):
        generate(1, scale="huge")


def test_limits_and_small_sizes() -> None:
    for seed in range(30):
        p = generate(seed, max_nests=2, max_depth=3)
        assert len(p.nest_depths) in (1, 2) and max(p.nest_depths) <= 3
        small = p.small_defines()
        assert small == p.small_defines() and set(small) == set(p.sizes)
        assert all(2 <= v <= 4 if k == "TSTEPS" else 5 <= v <= 12 for k, v in small.items())
        for name, value in p.sizes.items():  # every size is a macro that -D overrides
            assert f"#ifndef {name}\n#ifdef MINI_DATASET\n#define {name} {small[name]}\n#else\n" \
                   f"#define {name} {value}\n#endif\n#endif" in p.source
        assert p.source.count("#pragma scop") == 1


@pytest.mark.parametrize("args", [["1", "--max-depth", "9"], ["1", "--max-nests", "0"],
                                  ["1", "-o", "out", "--count", "0"]])
def test_command_rejects_bad_limits_in_one_line(tmp_path: Path, args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "costmodel.generator", *args], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert f"error: argument {args[-2]}: " in proc.stderr.strip().splitlines()[-1]
    assert list(tmp_path.iterdir()) == []


def test_write_program(tmp_path: Path) -> None:
    p = write_program(5, tmp_path)
    assert (tmp_path / "gen5.c").read_text() == p.source == generate(5).source


def _run(prog: GeneratedProgram, defines: dict[str, int | None]) -> str:
    """Build with -Werror (at some sizes) and run; return the dump (stderr)."""
    extra, dirs = harness_sources(prog.source, [])
    cc = STRICT.with_(include_dirs=tuple(dirs), defines={**STRICT.defines, **defines})
    try:
        binary = compile_text(prog.source, cc, name=prog.name, extra_sources=extra)
    except BuildError as exc:
        pytest.fail(f"seed {prog.seed} does not compile cleanly:\n{exc}")
    proc = subprocess.run([str(binary)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"seed {prog.seed} exited with {proc.returncode}"
    return proc.stderr


def _check_dump(prog: GeneratedProgram, dump: str, full: bool) -> None:
    assert "==BEGIN DUMP_ARRAYS==" in dump and "==END   DUMP_ARRAYS==" in dump, f"seed {prog.seed}: no dump"
    assert re.findall(r"begin dump: (\S+)", dump) == list(prog.liveouts), f"seed {prog.seed}: wrong arrays"
    assert not re.search(r"nan|inf", dump), f"seed {prog.seed}: non-finite values"
    if full:
        for name, values in parse(dump).items():
            assert values.size and np.all(np.isfinite(values)), f"seed {prog.seed}: array {name}"


@pytest.mark.parametrize("size", ["default", "small"])
def test_programs_compile_and_run(size: str) -> None:
    progs = [generate(s) for s in RUN_SEEDS]

    def one(prog: GeneratedProgram) -> None:
        small = size == "small"
        _check_dump(prog, _run(prog, prog.small_defines() if small else {}), full=small)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, progs))


def test_frontend_extracts_every_program() -> None:
    frontend = pytest.importorskip("frontend")
    for prog in sample():
        scop = frontend.read_scop(prog.source, include_dirs=[UTILITIES])
        assert scop.statements, f"seed {prog.seed}: no statements"
        written = {a.array for st in scop.statements for a in st.writes}
        assert set(prog.liveouts) <= written, f"seed {prog.seed}"


def test_mini_dataset_runs_the_small_sizes() -> None:
    """looper.verify builds with -DMINI_DATASET: a generated program then runs at its small sizes."""
    from looper.verify import verify_sources

    for seed in (2, 3):
        prog = generate(seed)
        assert verify_sources(prog.source, prog.source, directory=UTILITIES)
        mini = _run(prog, {"MINI_DATASET": None})
        assert parse(mini).keys() == parse(_run(prog, prog.small_defines())).keys()


def test_in_bounds_and_no_overflow_under_sanitizers() -> None:
    """AddressSanitizer and UBSan (signed overflow, bad shifts, ...) find nothing at the small sizes."""
    run_under_sanitizers([generate(s) for s in range(2000, 2006)])


def run_under_sanitizers(progs: list[GeneratedProgram]) -> None:
    """Build each program with AddressSanitizer and UBSan at its small sizes and run it: nothing found."""
    san = STRICT.with_(flags=("-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"))

    def one(prog: GeneratedProgram) -> None:
        extra, dirs = harness_sources(prog.source, [])
        cc = san.with_(include_dirs=tuple(dirs), defines={**san.defines, **prog.small_defines()})
        binary = compile_text(prog.source, cc, name=prog.name, extra_sources=extra)
        proc = subprocess.run([str(binary)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"seed {prog.seed}:\n{proc.stderr[-2000:]}"

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, progs))
