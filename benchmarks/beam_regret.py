"""Top-1 regret of the cost model among the beam's candidates, per PolyBench kernel, measured.

For each kernel: the hybrid search (the model's beam search, then its `--top-k` best distinct
candidates built and timed; isl's schedule too). The model's regret is how much slower its
favourite is than the fastest of the candidates it ranked: max(timed) / timed(favourite) - 1.

    python benchmarks/beam_regret.py [--size MEDIUM] [--top-k 8] [--repeat 5] [--kernels gemm lu ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from looper.api import model_evaluator, optimize
from polybench import KERNELS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="MEDIUM")
    parser.add_argument("--top-k", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per candidate")
    parser.add_argument("--kernels", nargs="*", default=sorted(KERNELS))
    parser.add_argument("--model", help="cost-model checkpoint (default: the shipped one)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    _, which = model_evaluator(args.model)
    print(f"evaluator: {which}; top {args.top_k} of the beam search timed, {args.repeat} runs each, {args.size}\n")
    print("| kernel | favourite | best of top-k | regret | isl | favourite's rank by time |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = []
    for name in args.kernels:
        result = optimize(KERNELS[name].source, search="hybrid", top_k=args.top_k, repeat=args.repeat,
                          model=args.model, defines={f"{args.size}_DATASET": None})
        timed = result.regions[0].timed
        speedups = [s for origin, _, s in timed if origin == "model"]
        # None: isl's schedule is one of the model's candidates (the hybrid search times it once).
        isl = next((s for origin, _, s in timed if origin == "isl"), None)
        favourite, best = speedups[0], max(speedups)
        rank = 1 + sum(s > favourite for s in speedups)
        regret = best / favourite - 1
        rows.append({"kernel": name, "favourite": favourite, "best": best, "regret": regret,
                     "isl": isl, "rank": rank, "candidates": len(speedups)})
        isl_text = "among them" if isl is None else f"{isl:.2f}x"
        print(f"| {name} | {favourite:.2f}x | {best:.2f}x | {regret:.2f} | {isl_text} | "
              f"{rank} of {len(speedups)} |", flush=True)
    regrets = [r["regret"] for r in rows]
    print(f"\nmean regret {statistics.mean(regrets):.2f}, median {statistics.median(regrets):.2f}; favourite "
          f"fastest in {sum(r['rank'] == 1 for r in rows)} of {len(rows)} kernels")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
