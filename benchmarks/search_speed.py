"""Model-guided search time per PolyBench kernel (the default `looper-opt` search).

Reports, per kernel, the wall-clock time of `search="model"` (beam search scored by the cost
model, or by the analytical stand-in when no model ships), the candidates generated / legal /
scored, and the median over the suite.

    python benchmarks/search_speed.py [--beam-width 4] [--fusion-width 64] [--kernels gemm lu ...] [--model model.pt]
"""

from __future__ import annotations

import argparse
import statistics
import time

from looper.api import model_evaluator, optimize
from looper.search.beam import FUSION_WIDTH
from polybench import KERNELS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beam-width", type=int, default=4)
    parser.add_argument("--fusion-width", type=int, default=FUSION_WIDTH, help="of the fusion levels")
    parser.add_argument("--kernels", nargs="*", default=sorted(KERNELS))
    parser.add_argument("--model", help="cost-model checkpoint (default: the shipped one, else the stand-in)")
    args = parser.parse_args()
    _, which = model_evaluator(args.model)
    print(f"evaluator: {which}\n")
    print("| kernel | search s | generated | legal | scored | scored/s |")
    print("|---|---|---|---|---|---|")
    times = []
    for name in args.kernels:
        t0 = time.perf_counter()
        result = optimize(KERNELS[name].source, search="model", beam_width=args.beam_width,
                          fusion_width=args.fusion_width, model=args.model)
        elapsed = time.perf_counter() - t0
        times.append(elapsed)
        stats = result.regions[0].search.stats
        scoring = stats.seconds.get("scoring", 0.0)
        rate = stats.scored / scoring if scoring else float("inf")
        print(f"| {name} | {elapsed:.1f} | {stats.generated} | {stats.legal} | {stats.scored} | {rate:.0f} |",
              flush=True)
    print(f"\nmedian search time: {statistics.median(times):.1f} s (max {max(times):.1f} s) over {len(times)} kernels")


if __name__ == "__main__":
    main()
