"""Frontend speed: median time to read each PolyBench kernel into a Scop (a benchmark, not a test).

    python benchmarks/frontend_speed.py [--runs 5] [--no-utilities]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from frontend import FrontendError, read_scops
from frontend.parse import _parser
from polybench.manifest import KERNELS, UTILITIES


def main() -> None:
    """Print one line per kernel (median and max of the runs) and a summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-utilities", action="store_true", help="do not put polybench/utilities on the include path")
    args = ap.parse_args()
    include = [] if args.no_utilities else [UTILITIES]
    start = time.perf_counter()
    _parser()
    print(f"lark parser built once per process: {1000 * (time.perf_counter() - start):.1f} ms")
    print(f"{'kernel':16s} {'stmts':>5s} {'median ms':>10s} {'max ms':>8s}")
    medians = {}
    for name, k in KERNELS.items():
        if not k.source.exists():
            print(f"{name:16s} (missing)")
            continue
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            entries = read_scops(k.source, include_dirs=include)
            times.append(time.perf_counter() - t0)
        errors = [e for e in entries if isinstance(e, FrontendError)]
        stmts = sum(len(e.statements) for e in entries if not isinstance(e, FrontendError))
        medians[name] = statistics.median(times)
        note = f"  ERROR {errors[0]}" if errors else ""
        print(f"{name:16s} {stmts:5d} {1000 * medians[name]:10.1f} {1000 * max(times):8.1f}{note}")
    if medians:
        worst = max(medians, key=medians.__getitem__)
        print(
            f"\n{len(medians)} kernels: median of medians {1000 * statistics.median(medians.values()):.1f} ms, "
            f"max median {1000 * medians[worst]:.1f} ms ({worst})"
        )


if __name__ == "__main__":
    main()
