"""Which statistic of a variant's timed runs makes two labellings of the same schedules agree best?

Two data sets hold the same schedules labelled hours apart (`looper dataset generate`, then `looper
dataset remeasure`). Each sample keeps its timed runs; within a program every variant shares the
original, so ranking by 1 / statistic(runs) is ranking by speedup. For each statistic of
codegen.harness.policy.STATISTICS (and for the first N runs only, to see what fewer runs cost), the
figures of `looper dataset agreement` are recomputed from the runs.

    python benchmarks/label_statistics.py run1.db run2.db [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codegen.harness.policy import STATISTICS
from costmodel.agreement import Labels, figures
from costmodel.dataset import open_db


def runs(path: Path) -> dict[str, dict[str, tuple[bool, list[float]]]]:
    """Every ok sample's timed runs, by program and fingerprint, and whether it runs a loop in parallel."""
    conn = open_db(path, create=False)
    out: dict[str, dict[str, tuple[bool, list[float]]]] = {}
    for program, fingerprint, schedule, times in conn.execute(
            "SELECT program, fingerprint, schedule, times FROM samples WHERE status = 'ok' AND speedup > 0"):
        steps = json.loads(schedule).get("steps", [])
        parallel = any(step["kind"] == "parallelize" for step in steps)
        out.setdefault(program, {})[fingerprint] = (parallel, json.loads(times or "[]"))
    conn.close()
    return out


def relabel(data: dict[str, dict[str, tuple[bool, list[float]]]], statistic: str, first: int | None) -> Labels:
    """Labels 1 / statistic of each sample's (first `first`) runs."""
    return {key: {f: (parallel, 1.0 / STATISTICS[statistic](times[:first])) for f, (parallel, times) in rows.items()
                  if times}
            for key, rows in data.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, nargs=2, help="the two labellings")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    a, b = (runs(p) for p in args.data)
    results = {}
    for statistic in STATISTICS:
        for first in (None, 2, 3):
            name = statistic if first is None else f"{statistic} of the first {first} runs"
            results[name] = figures(relabel(a, statistic, first), relabel(b, statistic, first))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'statistic':<34} {'spearman':>8} {'pairwise':>8} {'serial sp':>9} {'parallel sp':>11}")
    for name, r in results.items():
        print(f"{name:<34} {r['all']['spearman'] or 0:8.3f} {r['all']['pairwise'] or 0:8.3f} "
              f"{r['serial']['spearman'] or 0:9.3f} {r['parallel']['spearman'] or 0:11.3f}")


if __name__ == "__main__":
    main()
