"""Engine speed and the `--search isl` speedup, per PolyBench kernel.

For each kernel: dependence analysis time; median legality-check and code-generation time per
candidate (over sampled legal schedules); and the run time of the original and of the
`--search isl` output at the chosen size (gcc -O3 -march=native, runs interleaved, medians).

    python benchmarks/engine_speed.py [--size MEDIUM] [--repeat 5] [--candidates 20] [--kernels gemm lu]
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

from codegen.ast_c import generate
from codegen.harness import harness_seconds, run_program
from frontend import read_scop
from looper.api import optimize
from looper.deps import compute_dependences
from looper.legality import check
from looper.schedule import Schedule
from looper.search.sampler import samples
from polybench import KERNELS
from polybench.manifest import UTILITIES
from polybench.run import build


def _ms(seconds: list[float]) -> float:
    return 1000 * statistics.median(seconds) if seconds else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="MEDIUM")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--kernels", nargs="*", default=sorted(KERNELS))
    args = parser.parse_args()
    print("| kernel | deps ms | legality ms/cand | codegen ms/cand | original s | isl s | isl speedup |")
    print("|---|---|---|---|---|---|---|")
    speedups, per_candidate = [], []
    workdir = Path(tempfile.mkdtemp(prefix="looper-engine-"))
    for name in args.kernels:
        k = KERNELS[name]
        scop = read_scop(k.source, include_dirs=[UTILITIES])
        t0 = time.perf_counter()
        deps = compute_dependences(scop)
        t_deps = time.perf_counter() - t0
        legal_t, gen_t = [], []
        for s in samples(Schedule(scop), deps, args.candidates, seed=1):
            fresh = Schedule(scop, s.steps)  # no cached lowering: time the whole check
            t0 = time.perf_counter()
            check(fresh, deps)
            legal_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            generate(fresh)
            gen_t.append(time.perf_counter() - t0)
        per_candidate += [a + b for a, b in zip(legal_t, gen_t, strict=True)]
        result = optimize(k.source, search="isl", defines={f"{args.size}_DATASET": None})
        variant = workdir / f"{name}.looper.c"
        variant.write_text(result.code)
        original = build(k, args.size)
        optimized = build(k, args.size, source=variant, openmp=True)
        times: dict[str, list[float]] = {"orig": [], "isl": []}
        for _ in range(args.repeat):  # interleaved: drift hits both alike
            times["orig"].append(harness_seconds(run_program(original, timeout=600)))
            times["isl"].append(harness_seconds(run_program(optimized, timeout=600)))
        orig, isl = statistics.median(times["orig"]), statistics.median(times["isl"])
        speedups.append(orig / isl)
        print(f"| {name} | {t_deps * 1000:.1f} | {_ms(legal_t):.1f} | {_ms(gen_t):.1f} | {orig:.4f} | {isl:.4f} "
              f"| {orig / isl:.2f} |", flush=True)
    geo = math.exp(sum(map(math.log, speedups)) / len(speedups))
    print(f"\nlegality + codegen per candidate: median {_ms(per_candidate):.1f} ms over {len(per_candidate)} "
          f"candidates; --search isl geometric-mean speedup at {args.size}: {geo:.2f}x")


if __name__ == "__main__":
    main()
