"""Run time of generated programs at their default sizes (gcc -O3): is each about 1-50 ms?

    python benchmarks/generator_timing.py [--start 0] [--count 50] [--repeat 3] [--details]

Builds the programs in parallel, then runs them one at a time (timings from POLYBENCH_TIME, the
kernel only, median of the repeats) and prints the distribution and the estimate/measure ratio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codegen.build import Compiler, compile_text
from codegen.harness import harness_sources
from costmodel.generator import GeneratedProgram, generate

COMPILER = Compiler(flags=("-O3", "-march=native"), openmp=False, defines={"POLYBENCH_TIME": None})


def build(prog: GeneratedProgram) -> Path:
    """An -O3 timing binary of a program."""
    extra, dirs = harness_sources(prog.source, [])
    return compile_text(prog.source, COMPILER.with_(include_dirs=tuple(dirs)), name=prog.name, extra_sources=extra)


def seconds(binary: Path, repeat: int) -> float:
    """Median kernel seconds over some runs."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([str(binary)], capture_output=True, text=True, check=True, timeout=300).stdout
        runs.append(float(out.split()[-1]))
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> None:
    """Print per-program times (with --details) and the distribution."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--details", action="store_true", help="one line per program")
    args = ap.parse_args(argv)
    progs = [generate(s) for s in range(args.start, args.start + args.count)]
    with ThreadPoolExecutor(2) as pool:
        binaries = list(pool.map(build, progs))
    ms, ratios = [], []
    for prog, binary in zip(progs, binaries, strict=True):
        t = seconds(binary, args.repeat) * 1e3
        est = prog.estimated_seconds * 1e3
        ms.append(t)
        ratios.append(t / est)
        if args.details:
            print(f"seed {prog.seed:5d} {prog.dtype:6s} {t:9.2f} ms  est {est:7.2f} ms  x{t / est:5.2f}  "
                  f"{prog.sizes} {' '.join(prog.pattern_tags)}")
    a = np.array(ms)
    r = np.array(ratios)
    print(f"{len(a)} programs, kernel time at default sizes (gcc -O3 -march=native):")
    print(f"  median {np.median(a):.2f} ms, p5 {np.percentile(a, 5):.2f} ms, p95 {np.percentile(a, 95):.2f} ms, "
          f"min {a.min():.3f} ms, max {a.max():.1f} ms")
    print(f"  in 1-50 ms: {np.mean((a >= 1) & (a <= 50)) * 100:.0f}%   measured/estimated: "
          f"median {np.median(r):.2f}, p5 {np.percentile(r, 5):.2f}, p95 {np.percentile(r, 95):.2f}")


if __name__ == "__main__":
    main()
