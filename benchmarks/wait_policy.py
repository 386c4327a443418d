"""How steady the labels of parallel variants are under each OpenMP wait policy.

Takes parallel schedules of a measured data set (two per program, seeded), then times them against
their programs' originals with the generator's own procedure (`labels.measure_schedules`) under
OMP_WAIT_POLICY=passive (looper's setting), active, and unset (libgomp's default: spin, then sleep),
policies alternating in rounds so that drift of the machine touches all alike. Reports per policy
the round-to-round spread of a variant's speedup, how far its median is from the stored label, and
the mean log speedup (how fast parallel code runs under that policy).

    python benchmarks/wait_policy.py --data test.db [--programs 12] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from costmodel import datagen
from costmodel.dataset import ok_samples, open_db, programs
from costmodel.labels import measure_schedules
from costmodel.remeasure import chosen, stored_schedules

POLICIES = {"passive": "passive", "active": "active", "unset": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a measured data set")
    parser.add_argument("--programs", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if warning := datagen.busy_warning():
        print(f"warning: {warning}", file=sys.stderr)
    conn = open_db(args.data, create=False)
    progs, grouped = programs(conn), ok_samples(conn)
    conn.close()
    rng = np.random.default_rng(args.seed)
    picked = []
    for key in chosen(list(grouped), None, args.seed):
        parallel = [r for r in grouped[key] if r.parallel]
        if len(parallel) >= 2:
            picked.append((key, [parallel[i] for i in rng.choice(len(parallel), 2, replace=False)]))
        if len(picked) == args.programs:
            break
    speedups: dict[str, dict[str, list[float]]] = {}
    stored = {f"{key}:{r.fingerprint}": r.speedup for key, rows in picked for r in rows}
    built = [(key, rows, *stored_schedules(progs[key], rows)) for key, rows in picked]  # parsed once
    for _ in range(args.rounds):
        for policy, value in POLICIES.items():
            for key, rows, spec, schedules in built:
                for r, m in zip(rows, measure_schedules(spec, schedules, wait_policy=value), strict=True):
                    if m.speedup:
                        speedups.setdefault(f"{key}:{r.fingerprint}", {}).setdefault(policy, []).append(m.speedup)
    report = {"variants": len(speedups), "rounds": args.rounds}
    for policy in POLICIES:
        runs = {k: np.log(v[policy]) for k, v in speedups.items() if len(v.get(policy, [])) == args.rounds}
        report[policy] = {
            "round_to_round_sd": float(np.median([r.std() for r in runs.values()])),
            "median_abs_log_vs_stored": float(np.median([abs(np.median(r) - np.log(stored[k]))
                                                         for k, r in runs.items()])),
            "mean_log_speedup": float(np.mean([np.median(r) for r in runs.values()])),
        }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['variants']} parallel variants, {args.rounds} rounds (median over variants):")
    for policy in POLICIES:
        r = report[policy]
        print(f"  {policy:8s} round-to-round sd of log speedup {r['round_to_round_sd']:.3f}, "
              f"|log(median / stored)| {r['median_abs_log_vs_stored']:.3f}, "
              f"mean log speedup {r['mean_log_speedup']:+.3f}")


if __name__ == "__main__":
    main()
