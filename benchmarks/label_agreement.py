"""How well a cost model ranks each program's schedules, against how well the labels rank themselves.

Programs are grouped by the spread of their measured speedups (standard deviation of the log-speedup
of their steady samples). Per group: the model's mean per-program Spearman, and the same figure
between two halves of each sample's timed runs (runs 1, 3, 5, ... against runs 2, 4, ...), a lower
bound on the labels' own consistency: each half has fewer runs than the label's median.

    python benchmarks/label_agreement.py --data test.db [--model costmodel/pretrained/model.pt] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from costmodel.dataset import load_dataset, open_db
from costmodel.evaluate import predict, spearman
from costmodel.inference import load_model

BANDS = (0.2, 0.4, 0.8, math.inf)  # upper edges of the spread bands


def halves(times: list[float]) -> tuple[float, float]:
    """Medians of the odd-numbered and the even-numbered runs."""
    return statistics.median(times[0::2]), statistics.median(times[1::2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a measured data set (e.g. a held-out split)")
    parser.add_argument("--model", type=Path, default=Path(__file__).resolve().parents[1] / "costmodel" / "pretrained"
                        / "model.pt")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    dataset = load_dataset(args.data, progress=False)
    predicted = predict(load_model(args.model), [e.sample for e in dataset.examples])
    conn = open_db(args.data, create=False)
    times = {r["id"]: json.loads(r["times"]) for r in conn.execute("SELECT id, times FROM samples")}
    conn.close()
    programs: dict[str, list[tuple[float, float, tuple[float, float]]]] = {}
    for example, p in zip(dataset.examples, predicted, strict=True):
        programs.setdefault(example.program, []).append((float(p), example.speedup, halves(times[example.id])))
    bands: list[dict[str, list[float]]] = [{"model": [], "halves": []} for _ in BANDS]
    for rows in programs.values():
        if len(rows) < 3:
            continue
        spread = float(np.std(np.log([y for _, y, _ in rows])))
        band = bands[next(i for i, edge in enumerate(BANDS) if spread < edge)]
        # Shorter time = faster, so the halves are ranked by their negated medians.
        for name, rho in (("model", spearman([p for p, _, _ in rows], [y for _, y, _ in rows])),
                          ("halves", spearman([-a for _, _, (a, _) in rows], [-b for _, _, (_, b) in rows]))):
            if not math.isnan(rho):
                band[name].append(rho)
    result = []
    low = 0.0
    for edge, band in zip(BANDS, bands, strict=True):
        result.append({"spread_from": low, "spread_to": edge, "programs": len(band["model"]),
                       "model": float(np.mean(band["model"])) if band["model"] else math.nan,
                       "halves": float(np.mean(band["halves"])) if band["halves"] else math.nan})
        low = edge
    every = [rho for band in bands for rho in band["halves"]]
    summary = {"data": str(args.data), "model": str(args.model), "bands": result,
               "halves_all": float(np.mean(every)) if every else math.nan}
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
        return
    print("| spread of log-speedups | programs | model | half against half |")
    print("|---|---|---|---|")
    for r in result:
        to = f"{r['spread_to']:g}" if math.isfinite(r["spread_to"]) else ""
        label = f"{r['spread_from']:g}-{to}" if to else f">= {r['spread_from']:g}"
        print(f"| {label} | {r['programs']} | {r['model']:.2f} | {r['halves']:.2f} |")
    print(f"\nhalf against half, every program: {summary['halves_all']:.3f}")


if __name__ == "__main__":
    main()
