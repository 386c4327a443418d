"""Leave-one-program-out evaluation: every reported figure comes from a program the model never saw.

`looper train --suite polybench` uses it with one fold per PolyBench kernel (leave-one-kernel-out);
`--folds K` groups the programs into K folds instead, for a cheaper estimate. Each fold's result is
written as soon as it is known (`<out-dir>/folds/<name>.json`), so a killed run resumes with the
next fold.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from costmodel.dataset import Dataset, load_dataset, open_db, programs
from costmodel.evaluate import metrics, predict
from costmodel.train import TrainConfig, train


def folds(keys: list[str], names: dict[str, str], count: int | None = None) -> dict[str, list[str]]:
    """Fold name -> program keys: one fold per program, or `count` folds by a stable hash of the key."""
    if not count or count >= len(keys):
        labels = {k: names.get(k) or k for k in keys}
        uses = Counter(labels.values())
        out: dict[str, list[str]] = {}
        for k in sorted(keys):  # a name shared by two programs, or unfit for a file name, gets the key
            label = labels[k]
            if uses[label] > 1 or not label.replace("-", "").replace("_", "").isalnum():
                label = f"{label.replace('/', '_')}-{k[:8]}"
            out[label] = [k]
        return out
    out = {}
    for k in sorted(keys):
        index = int(hashlib.sha256(k.encode()).hexdigest()[:8], 16) % count
        out.setdefault(f"fold-{index}", []).append(k)
    return out


def leave_one_out(data: str | Path, out_dir: str | Path, config: TrainConfig | None = None, *,
                  suite: str | None = None, fold_count: int | None = None, progress: bool | None = None,
                  log: Callable[[str], None] | None = None, final: Path | None = None) -> dict:
    """Train one model per fold on the other folds' programs and evaluate it on the fold's; report
    per-fold metrics and the metrics of all held-out predictions pooled (JSON and markdown). With
    `final`, then train the model to keep on every program of the evaluation, saved there."""
    config = config or TrainConfig()
    out_dir = Path(out_dir)
    (out_dir / "folds").mkdir(parents=True, exist_ok=True)
    conn = open_db(data, create=False)
    try:
        rows = programs(conn)
    finally:
        conn.close()
    dataset = load_dataset(data, progress=progress)
    groups = {k: v for k, v in dataset.by_program().items() if suite is None or rows[k].suite == suite}
    if len(groups) < 2:
        raise ValueError(f"leave-one-out needs at least 2 programs with usable samples, found {len(groups)}")
    names = {k: rows[k].name or k for k in groups}
    results: dict[str, dict] = {}
    pooled: dict[str, tuple[list[float], list[float]]] = {}
    for fold, held in folds(list(groups), names, fold_count).items():
        record = out_dir / "folds" / f"{fold}.json"
        if record.exists():
            saved = json.loads(record.read_text())
        else:
            train_set = Dataset([e for k, rows_ in groups.items() if k not in held for e in rows_])
            test = [e for k in held for e in groups[k]]
            train(train_set, out_dir / "folds" / f"{fold}.pt", config, progress=progress, log=log, plots=False)
            from costmodel.inference import load_model

            model = load_model(out_dir / "folds" / f"{fold}.pt")
            pred = predict(model, [e.sample for e in test])
            saved = {"programs": {k: {"predicted": [float(p) for p, e in zip(pred, test, strict=True)
                                                    if e.program == k],
                                      "measured": [e.speedup for e in test if e.program == k]} for k in held}}
            tmp = record.with_suffix(".tmp")
            tmp.write_text(json.dumps(saved))
            tmp.replace(record)
        for k, pm in saved["programs"].items():
            pooled[k] = (pm["predicted"], pm["measured"])
        results[fold] = metrics({k: (pm["predicted"], pm["measured"]) for k, pm in saved["programs"].items()})
    report: dict[str, Any] = {"data": str(data), "suite": suite, "config": asdict(config), "folds": results,
              "pooled": metrics(pooled)}
    (out_dir / "leave_one_out.json").write_text(json.dumps(report, indent=2, default=_json_safe))
    lines = ["| held out | samples | MAPE | Spearman | nDCG@1 | top-1 regret |", "|---|---|---|---|---|---|"]
    for fold, m in [*results.items(), ("**all, pooled**", report["pooled"])]:
        lines.append(f"| {fold} | {m['samples']} | {m['mape']:.3f} | {m['spearman']:.3f} | {m['ndcg@1']:.3f} | "
                     f"{m['top1_regret']:.3f} |")
    (out_dir / "leave_one_out.md").write_text("\n".join(lines) + "\n")
    if final is not None:
        everything = Dataset([e for rows_ in groups.values() for e in rows_])
        report["final_epochs"] = train(everything, final, config, progress=progress, log=log)["epochs"]
    return report


def _json_safe(x):
    return None if isinstance(x, float) and math.isnan(x) else str(x)
