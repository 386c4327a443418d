"""Test-retest agreement of a data set's labels: measure stored schedules again and compare.

The split-half check (label_agreement.py) compares runs taken seconds apart under the same machine
load. This one measures the stored steady schedules of a seeded sample of programs again, now, into
a database of the same schema (resumable: finished programs are skipped), then reports per program
the Spearman between the stored and the new speedups, and the model's Spearman against each. Samples
with a parallel loop are compared apart from the rest: their speedup depends most on what else runs.

    python benchmarks/label_retest.py --data test.db --out retest.db [--programs 40] [--seed 0] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from costmodel.dataset import load_dataset, ok_samples, open_db
from costmodel.evaluate import predict, spearman
from costmodel.inference import load_model
from costmodel.remeasure import chosen, remeasure
from looper.progress import Progress


def _mean(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else math.nan


def compare(data: Path, out: Path, keys: list[str], model: Path) -> dict:
    """Per-program agreement of the stored and the new labels, and of the model with each."""
    conn, new_conn = open_db(data, create=False), open_db(out, create=False)
    old, new = ok_samples(conn), ok_samples(new_conn)
    conn.close()
    new_conn.close()
    wanted = set(keys)
    dataset = load_dataset(data, progress=False)
    examples = [e for e in dataset.examples if e.program in wanted]
    predicted = dict(zip((e.id for e in examples), predict(load_model(model), [e.sample for e in examples]),
                         strict=True))
    rho = {"stored_vs_new": [], "model_vs_stored": [], "model_vs_new": []}
    ratios: dict[bool, list[float]] = {True: [], False: []}
    for key in keys:
        again = {r.fingerprint: r.speedup for r in new.get(key, [])}
        rows = [(r, again[r.fingerprint]) for r in old.get(key, []) if r.fingerprint in again and r.id in predicted]
        if len(rows) < 3:
            continue
        before, after = [r.speedup for r, _ in rows], [a for _, a in rows]
        guess = [predicted[r.id] for r, _ in rows]
        rho["stored_vs_new"].append(spearman(before, after))
        rho["model_vs_stored"].append(spearman(guess, before))
        rho["model_vs_new"].append(spearman(guess, after))
        for r, a in rows:
            ratios[r.parallel].append(math.log(a / r.speedup))

    def spread(logs: list[float]) -> dict:
        a = np.abs(np.asarray(logs))
        return {"samples": len(logs), "median_abs_log_ratio": float(np.median(a)) if len(a) else math.nan,
                "mean_log_ratio": float(np.mean(logs)) if logs else math.nan,
                "share_off_by_20pct": float(np.mean(a > math.log(1.2))) if len(a) else math.nan}

    return {"data": str(data), "retest": str(out), "programs": len(rho["stored_vs_new"]),
            **{k: _mean(v) for k, v in rho.items()},
            "parallel": spread(ratios[True]), "serial": spread(ratios[False])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a measured data set (e.g. a held-out split)")
    parser.add_argument("--out", type=Path, required=True, help="database for the new measurements (resumable)")
    parser.add_argument("--programs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0, help="which programs are drawn")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per variant, as the generator's")
    parser.add_argument("--model", type=Path, default=Path(__file__).resolve().parents[1] / "costmodel" / "pretrained"
                        / "model.pt")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    conn = open_db(args.data, create=False)
    keys = chosen([k for k, rows in ok_samples(conn).items() if len(rows) >= 3], args.programs, args.seed)
    conn.close()
    with Progress(len(keys), "re-measuring programs") as bar:
        remeasure(args.data, args.out, keys, repeat=args.repeat, steady_only=True, progress=bar.advance)
    summary = compare(args.data, args.out, keys, args.model)
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{summary['programs']} programs, mean per-program Spearman:")
    print(f"  stored labels against new ones: {summary['stored_vs_new']:.3f}")
    print(f"  model against stored labels:    {summary['model_vs_stored']:.3f}")
    print(f"  model against new labels:       {summary['model_vs_new']:.3f}")
    for kind in ("parallel", "serial"):
        s = summary[kind]
        print(f"  {kind}: {s['samples']} samples, median |log(new/stored)| {s['median_abs_log_ratio']:.3f}, "
              f"mean log(new/stored) {s['mean_log_ratio']:+.3f}, off by >20%: {s['share_off_by_20pct']:.1%}")


if __name__ == "__main__":
    main()
