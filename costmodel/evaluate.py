"""How good a cost model is on held-out programs: accuracy (MAPE) and, per program, how well it ranks
schedules (Spearman, nDCG@k) and what choosing its favourite costs (top-1 regret).

Definitions (per program p with measured speedups y and predictions s over its schedules):
- MAPE: mean over all samples of |s - y| / y.
- Spearman: rank correlation of s and y (average ranks for ties); programs with fewer than two
  samples or constant y or s are left out of the mean.
- nDCG@k: DCG = sum over the model's top k of y / log2(rank + 1); divided by the DCG of the best
  possible order. nDCG@1 = y(model's favourite) / max y.
- top-1 regret: max y / y(model's favourite) - 1: how much slower the chosen schedule is than the
  best measured one (0 = the model found the best).
- pairwise: over the pairs of one program's schedules whose measured speedups differ by more than
  10%, the share the predictions order the same way (pairs closer than that are within the labels'
  own noise: `looper dataset agreement`).
Against a second labelling of the same schedules (`looper evaluate --again B.db`), the same metrics
with B's labels as the predictions say what a perfect model could reach on labels this noisy. With
several labellings of one data set (`--data A.db --data B.db`), each schedule's label is the geometric
mean of its speedups in all of them, over the schedules usable in all (costmodel.agreement.averaged_labels).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

Values = Sequence[float] | np.ndarray  # a program's speedups: a list or a 1-d array
if TYPE_CHECKING:
    from costmodel.dataset import Example, SampleRow

T = TypeVar("T", "Example", "SampleRow")  # a labelled sample: its id and its speedup
APART = 1.1  # pairs of schedules whose speedups differ by more than this factor count for `pairwise`


def ranks(values: Values) -> np.ndarray:
    """1-based ranks, ties sharing their average rank."""
    a = np.asarray(values, dtype=np.float64)
    order = np.argsort(a, kind="mergesort")
    r = np.empty(len(a))
    sorted_a = a[order]
    i = 0
    while i < len(a):
        j = i
        while j + 1 < len(a) and sorted_a[j + 1] == sorted_a[i]:
            j += 1
        r[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(a: Values, b: Values) -> float:
    """Spearman's rank correlation; nan when undefined (fewer than 2 values or a constant side)."""
    if len(a) < 2:
        return math.nan
    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = math.sqrt(float((ra * ra).sum()) * float((rb * rb).sum()))
    return float((ra * rb).sum() / den) if den > 0 else math.nan


def ndcg(predicted: Values, measured: Values, k: int) -> float:
    """nDCG@k with the measured speedups as gains, in the order of the predictions."""
    y = np.asarray(measured, dtype=np.float64)
    order = np.argsort(-np.asarray(predicted, dtype=np.float64), kind="mergesort")[:k]
    discounts = 1.0 / np.log2(np.arange(2, len(order) + 2))
    dcg = float((y[order] * discounts).sum())
    ideal = float((np.sort(y)[::-1][: len(order)] * discounts).sum())
    return dcg / ideal if ideal > 0 else math.nan


def top1_regret(predicted: Values, measured: Values) -> float:
    """max measured / measured of the model's favourite - 1."""
    y = np.asarray(measured, dtype=np.float64)
    best = int(np.argmax(np.asarray(predicted, dtype=np.float64)))
    return float(y.max() / y[best] - 1.0)


def ordered_alike(a: Values, b: Values, by: Values) -> tuple[int, int]:
    """Over the pairs more than APART apart by `by`: how many there are, and how many a and b order alike."""
    pairs = alike = 0
    for i, j in combinations(range(len(by)), 2):
        if max(by[i], by[j]) > APART * min(by[i], by[j]):
            pairs += 1
            alike += bool((a[i] > a[j]) == (b[i] > b[j]))
    return pairs, alike


def metrics(groups: Mapping[str, tuple[Sequence[float], Sequence[float]]]) -> dict[str, float]:
    """All metrics from per-program (predicted, measured) speedups."""
    errors, rhos, n1, n5, regrets = [], [], [], [], []
    n = pairs = alike = 0
    for pred, meas in groups.values():
        p, y = np.asarray(pred, dtype=np.float64), np.asarray(meas, dtype=np.float64)
        n += len(y)
        counted = ordered_alike(p, y, y)
        pairs, alike = pairs + counted[0], alike + counted[1]
        errors += list(np.abs(p - y) / y)
        rho = spearman(p, y)
        if not math.isnan(rho):
            rhos.append(rho)
        if len(y) >= 2:
            n1.append(ndcg(p, y, 1))
            n5.append(ndcg(p, y, 5))
            regrets.append(top1_regret(p, y))
    mean = lambda xs: float(np.mean(xs)) if xs else math.nan
    return {
        "samples": n,
        "programs": len(groups),
        "mape": mean(errors),
        "spearman": mean(rhos),
        "pairwise": alike / pairs if pairs else math.nan,
        "pairs": pairs,
        "ndcg@1": mean(n1),
        "ndcg@5": mean(n5),
        "top1_regret": mean(regrets),
        "top1_regret_median": float(np.median(regrets)) if regrets else math.nan,
    }


def predict(model, samples: Sequence, *, batch_size: int = 2048) -> np.ndarray:
    """Predicted speedups of featurized samples (in order)."""
    import torch

    from costmodel.features import collate

    out = []
    model.eval()
    with torch.no_grad():
        for i in range(0, len(samples), batch_size):
            out.append(torch.exp(model(collate(samples[i : i + batch_size]))).numpy())
    return np.concatenate(out) if out else np.zeros(0)


def evaluate_examples(model, examples: Sequence) -> dict[str, float]:
    """Metrics of a model on featurized examples (costmodel.dataset.Example)."""
    pred = predict(model, [e.sample for e in examples])
    groups: dict[str, tuple[list[float], list[float]]] = {}
    for e, p in zip(examples, pred, strict=True):
        g = groups.setdefault(e.program, ([], []))
        g[0].append(float(p))
        g[1].append(e.speedup)
    return metrics(groups)


Relabelled = Mapping[int, float]  # sample id -> label (costmodel.agreement.averaged_labels)


def relabelled(samples: Sequence[T], labels: Relabelled | None) -> list[T]:
    """Examples or sample rows with the labels `labels` gives them, those it does not label left out
    (all as they are without `labels`)."""
    if labels is None:
        return list(samples)
    return [replace(s, speedup=labels[s.id]) for s in samples if s.id in labels]


def evaluate(model_path: str | Path, data: str | Path, *, labels: Relabelled | None = None,
             progress: bool | None = None) -> dict[str, float]:
    """Metrics of a checkpoint on every usable sample of a data set; with `labels` (e.g. averaged over
    several labellings), on the samples they label, against them."""
    from costmodel.dataset import load_dataset
    from costmodel.inference import load_model

    model = load_model(model_path)
    dataset = load_dataset(data, progress=progress)
    result = evaluate_examples(model, relabelled(dataset.examples, labels))
    result["skipped_programs"] = len(dataset.skipped_programs)
    result["skipped_samples"] = dataset.skipped_samples
    return result


def evaluate_scorer(scorer, data: str | Path, *, labels: Relabelled | None = None,
                    progress: bool | None = None) -> dict[str, float]:
    """Metrics of any search Evaluator (e.g. the analytical stand-in) on the usable samples of a data
    set, on exactly the samples and labels `evaluate` uses, so a model can be compared with what it replaces."""
    from costmodel.dataset import MAX_SPREAD, frontend_loader, ok_samples, open_db, programs
    from looper.progress import Progress
    from looper.schedule import Schedule

    conn = open_db(data, create=False)
    try:
        progs, grouped = programs(conn), ok_samples(conn, MAX_SPREAD)
    finally:
        conn.close()
    grouped = {key: kept for key, rows in grouped.items() if (kept := relabelled(rows, labels))}
    groups: dict[str, tuple[list[float], list[float]]] = {}
    skipped = 0
    with Progress(len(grouped), "scoring programs", enabled=progress) as bar:
        for key, rows in grouped.items():
            bar.advance()
            try:
                scop = frontend_loader(progs[key].source, progs[key].defines)
                schedules = [Schedule.from_json(scop, r.schedule) for r in rows]
            except Exception:  # the same programs load_dataset would skip
                skipped += 1
                continue
            groups[key] = ([float(x) for x in scorer.score(schedules)], [r.speedup for r in rows])
    result = metrics(groups)
    result["skipped_programs"] = skipped
    return result


def format_metrics(m: Mapping[str, float], again: Mapping[str, float] | None = None) -> str:
    """A small aligned table; with `again`, a second column: the second labelling's metrics."""
    def text(value: float | int | None) -> str:
        return "" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)

    if again is None:
        return "\n".join(f"{key:>20}  {text(value)}" for key, value in m.items())
    return "\n".join([f"{'':>20}  {'model':>10}  {'2nd labelling':>13}"]
                     + [f"{key:>20}  {text(value):>10}  {text(again.get(key)):>13}" for key, value in m.items()])
