"""Model-guided search time per PolyBench kernel (the default `looper-opt` search), and its decisions.

Reports, per kernel, the wall-clock time of `search="model"` (beam search scored by the cost
model, or by the analytical stand-in when no model ships) at the size `looper bench` uses
(LARGE unless `--size`), the candidates generated / legal / scored, and the median over the suite.

`--record FILE` writes every kernel's chosen schedule (steps and fingerprint), its score, the final
beam and the search's candidate counts as JSON; `--compare FILE` checks them against such a file and
exits 1 on any difference: a change that only makes the search faster must leave them all as they
were. The script runs itself with PYTHONHASHSEED=0, so that no order of a set of strings can differ
between the runs compared (the beam keeps its seeds in their given order).

    python benchmarks/search_speed.py [--size LARGE] [--beam-width 4] [--fusion-width 64] [--kernels gemm lu ...]
                                      [--model model.pt] [--record FILE | --compare FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from looper.api import model_evaluator, optimize
from looper.search.beam import FUSION_WIDTH
from polybench import KERNELS
from polybench.manifest import UTILITIES

COUNTS = ("generated", "duplicates", "not_applicable", "illegal", "legal", "scored")


def decisions(name: str, size: str, beam_width: int, fusion_width: int, model: str | None) -> tuple[dict, float]:
    """One kernel's search outcome (what must not change) and its wall-clock seconds."""
    t0 = time.perf_counter()
    result = optimize(KERNELS[name].source, search="model", beam_width=beam_width, fusion_width=fusion_width,
                      model=model, defines={f"{size}_DATASET": None}, include_dirs=[UTILITIES])
    elapsed = time.perf_counter() - t0
    region = result.regions[0]
    assert region.search is not None
    stats = region.search.stats
    record: dict[str, Any] = {
        "fingerprint": region.schedule.fingerprint(),
        "steps": region.schedule.to_json()["steps"],
        "score": round(float(region.search.score), 6),
        "beam": [s.fingerprint() for s, _ in region.search.beam],
        **{k: getattr(stats, k) for k in COUNTS},
        "scoring_s": stats.seconds.get("scoring", 0.0),
    }
    return record, elapsed


def differences(name: str, before: dict, after: dict) -> list[str]:
    """What differs between two records of one kernel (the score within rounding)."""
    found = [f"{name}: {k} {before.get(k)!r} -> {after.get(k)!r}"
             for k in ("fingerprint", "steps", "beam", *COUNTS) if before.get(k) != after.get(k)]
    if abs(before.get("score", 0.0) - after.get("score", 0.0)) > 1e-5:
        found.append(f"{name}: score {before.get('score')} -> {after.get('score')}")
    return found


def main() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":  # see the module docstring
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="LARGE", help="dataset size the kernels are read at (default LARGE)")
    parser.add_argument("--beam-width", type=int, default=4)
    parser.add_argument("--fusion-width", type=int, default=FUSION_WIDTH, help="of the fusion levels")
    parser.add_argument("--kernels", nargs="*", default=sorted(KERNELS))
    parser.add_argument("--model", help="cost-model checkpoint (default: the shipped one, else the stand-in)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--record", type=Path, help="write each kernel's decisions to this JSON file")
    group.add_argument("--compare", type=Path, help="compare each kernel's decisions with this JSON file")
    args = parser.parse_args()
    _, which = model_evaluator(args.model)
    print(f"evaluator: {which}, size {args.size}\n")
    expected = json.loads(args.compare.read_text())["kernels"] if args.compare else {}
    print("| kernel | search s | generated | legal | scored | scored/s |")
    print("|---|---|---|---|---|---|")
    times, records, problems = [], {}, []
    for name in args.kernels:
        record, elapsed = decisions(name, args.size, args.beam_width, args.fusion_width, args.model)
        times.append(elapsed)
        records[name] = record
        rate = record["scored"] / record["scoring_s"] if record["scoring_s"] else float("inf")
        print(f"| {name} | {elapsed:.1f} | {record['generated']} | {record['legal']} | {record['scored']} "
              f"| {rate:.0f} |", flush=True)
        if args.compare:
            if name not in expected:
                problems.append(f"{name}: not in {args.compare}")
            else:
                problems += differences(name, expected[name], record)
    print(f"\nmedian search time: {statistics.median(times):.1f} s (max {max(times):.1f} s) over {len(times)} kernels")
    if args.record:
        settings = {"size": args.size, "beam_width": args.beam_width, "fusion_width": args.fusion_width,
                    "model": args.model or which}
        for record in records.values():
            del record["scoring_s"]
        args.record.write_text(json.dumps({"settings": settings, "kernels": records}, indent=1) + "\n")
        print(f"decisions of {len(records)} kernels written to {args.record}")
    if args.compare:
        for line in problems:
            print(f"DIFFERENT {line}")
        print(f"{len(args.kernels) - len({p.split(':')[0] for p in problems})} of {len(args.kernels)} kernels "
              f"decide as recorded in {args.compare}")
        sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
