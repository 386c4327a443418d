"""`--search measure` against `--search isl` on PolyBench kernels, timed side by side.

For each kernel: optimize with both searches (measurement at the benchmark size), then time the
original, the isl output and the measure output interleaved (`--repeat` rounds), medians.

    python benchmarks/measure_vs_isl.py [--size MEDIUM] [--beam-width 2] [--kernels gemm 2mm ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from codegen.harness import harness_seconds, run_program
from looper.api import optimize
from looper.search import Space
from polybench import KERNELS
from polybench.run import build

DEFAULT = ["gemm", "2mm", "jacobi-2d", "seidel-2d", "lu", "correlation"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="MEDIUM")
    parser.add_argument("--beam-width", type=int, default=2)
    parser.add_argument("--search-repeat", type=int, default=3, help="timed runs per candidate during the search")
    parser.add_argument("--repeat", type=int, default=9, help="interleaved rounds of the final comparison")
    parser.add_argument("--kernels", nargs="*", default=DEFAULT)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="looper-measure-"))
    rows = []
    print("| kernel | original s | isl s | measure s | isl speedup | measure speedup | measure/isl | search s "
          "| schedule |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.kernels:
        k = KERNELS[name]
        defines = {f"{args.size}_DATASET": None}
        isl = optimize(k.source, search="isl", defines=defines)
        t0 = time.perf_counter()
        measured = optimize(k.source, search="measure", defines=defines, beam_width=args.beam_width,
                            repeat=args.search_repeat, space=Space(unimodular_steps=2, fusion_steps=1))
        search_s = time.perf_counter() - t0
        binaries = {"original": build(k, args.size)}
        for label, result in (("isl", isl), ("measure", measured)):
            path = work / f"{name}.{label}.c"
            path.write_text(result.code)
            binaries[label] = build(k, args.size, source=path, openmp=True)
        times: dict[str, list[float]] = {label: [] for label in binaries}
        for _ in range(args.repeat):
            for label, binary in binaries.items():
                times[label].append(harness_seconds(run_program(binary, timeout=600)))
        med = {label: statistics.median(t) for label, t in times.items()}
        row = {"kernel": name, **{f"{k_}_s": v for k_, v in med.items()}, "search_s": search_s,
               "schedule": str(measured.regions[0].schedule), "times": times}
        rows.append(row)
        print(f"| {name} | {med['original']:.5f} | {med['isl']:.5f} | {med['measure']:.5f} | "
              f"{med['original'] / med['isl']:.2f} | {med['original'] / med['measure']:.2f} | "
              f"{med['isl'] / med['measure']:.2f} | {search_s:.0f} | {row['schedule'][:80]} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
