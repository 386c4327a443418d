"""`looper dataset agreement A.db B.db`: how alike two labellings of the same schedules are.

For the schedules labelled `ok` in both data sets (same program, same fingerprint), split into all,
serial and parallel schedules (a `parallelize` step):
- spearman: per program with at least 3 such schedules, the rank correlation of A's and B's
  speedups; the mean over programs;
- pairwise: over pairs of schedules of one program more than 10% apart (costmodel.evaluate.APART;
  by the geometric mean of their two labels, so that neither labelling decides alone which pairs
  count), the share that A and B order alike;
- mape: mean |A - B| / B over the schedules (B the reference).
This is how label quality is reported: two labellings of the same schedules, hours apart.
`averaged` makes one labelling of several: the geometric mean of each schedule's speedups, for
the schedules usable in every one (`looper evaluate --data A.db --data B.db`).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

from costmodel.dataset import MAX_SPREAD, SampleRow, ok_samples, open_db
from costmodel.evaluate import metrics, ordered_alike, spearman

MIN_SCHEDULES = 3  # a program's Spearman needs at least this many common schedules
SPLITS = {"all": lambda parallel: True, "serial": lambda parallel: not parallel, "parallel": lambda parallel: parallel}


# program -> fingerprint -> (parallel?, label)
Labels = dict[str, dict[str, tuple[bool, float]]]


def labels(rows: dict[str, list[SampleRow]]) -> Labels:
    """The speedups of `ok` samples (costmodel.dataset.ok_samples), by program and fingerprint."""
    return {key: {r.fingerprint: (r.parallel, r.speedup) for r in group} for key, group in rows.items()}


def read(path: Path) -> tuple[Labels, list[str]]:
    """Every `ok` label of a data set (steady or not), and the harness versions it holds."""
    conn = open_db(path, create=False)
    try:
        try:
            harnesses = [r[0] for r in conn.execute("SELECT DISTINCT harness FROM samples ORDER BY harness")]
        except sqlite3.OperationalError:  # never written since the column came: the old harness's
            harnesses = ["process-1"]
        return labels(ok_samples(conn, None)), harnesses
    finally:
        conn.close()


def averaged(paths: Sequence[Path], max_spread: float | None = MAX_SPREAD) -> Labels:
    """The schedules `ok` (and steady, runs spread at most `max_spread`) in every data set of `paths`,
    labelled with the geometric mean of their speedups: labels averaged over several timing runs."""
    return _mean([labels(_ok(path, max_spread)) for path in paths])


def averaged_labels(paths: Sequence[Path]) -> dict[int, float]:
    """`averaged` as `looper evaluate` takes labels: the first data set's sample id -> averaged label."""
    rows = [_ok(path, MAX_SPREAD) for path in paths]
    mean = _mean([labels(r) for r in rows])
    return {r.id: mean[key][r.fingerprint][1] for key, group in rows[0].items() for r in group
            if r.fingerprint in mean.get(key, {})}


def _ok(path: Path, max_spread: float | None) -> dict[str, list[SampleRow]]:
    """A data set's `ok` samples (steady ones, with `max_spread`), by program."""
    with closing(open_db(path, create=False)) as conn:
        return ok_samples(conn, max_spread)


def _mean(every: list[Labels]) -> Labels:
    """The schedules labelled in all of `every`, with the geometric mean of their labels."""
    first, rest = every[0], every[1:]
    out: Labels = {}
    for key, schedules in first.items():
        common = {f: (parallel, math.prod([x, *(other[key][f][1] for other in rest)]) ** (1 / len(every)))
                  for f, (parallel, x) in schedules.items() if all(f in other.get(key, {}) for other in rest)}
        if common:
            out[key] = common
    return out


def agreement(a: Path, b: Path) -> dict:
    """The figures of the module docstring for two data sets, and what each holds."""
    first, first_harness = read(a)
    second, second_harness = read(b)
    return {"a": str(a), "b": str(b), "harness_a": first_harness, "harness_b": second_harness,
            **figures(first, second)}


def figures(first: Labels, second: Labels) -> dict:
    """Per split (all, serial, parallel): programs, schedules, mean Spearman, pairwise agreement, MAPE."""
    report = {}
    for split, wanted in SPLITS.items():
        rhos, errors = [], []
        programs = pairs = alike = 0
        for key in sorted(first.keys() & second.keys()):
            theirs = second[key]
            rows = [(x, theirs[f][1]) for f, (parallel, x) in first[key].items() if f in theirs and wanted(parallel)]
            if not rows:
                continue
            programs += 1
            errors += [abs(x - y) / y for x, y in rows]
            xs, ys = [x for x, _ in rows], [y for _, y in rows]
            if len(rows) >= MIN_SCHEDULES and not math.isnan(rho := spearman(xs, ys)):
                rhos.append(rho)
            counted = ordered_alike(xs, ys, [math.sqrt(x * y) for x, y in rows])
            pairs, alike = pairs + counted[0], alike + counted[1]
        report[split] = {
            "programs": programs, "schedules": len(errors), "spearman_programs": len(rhos),
            "spearman": sum(rhos) / len(rhos) if rhos else None, "pairs": pairs,
            "pairwise": alike / pairs if pairs else None, "mape": sum(errors) / len(errors) if errors else None}
    return report


def second_labelling(first: Labels, again: Path) -> dict[str, float]:
    """`looper evaluate`'s metrics with `again`'s labels as the predictions of the labels `first`, on the
    schedules both labelled: what a perfect model could reach against labels this noisy."""
    second, _ = read(again)
    groups = {}
    for key in first.keys() & second.keys():
        common = [f for f in first[key] if f in second[key]]
        if common:
            groups[key] = ([second[key][f][1] for f in common], [first[key][f][1] for f in common])
    return metrics(groups)


def format_agreement(report: dict) -> str:
    """The report as a small table."""

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    lines = [f"{report['a']} ({', '.join(report['harness_a'])}) against {report['b']} "
             f"({', '.join(report['harness_b'])}), the schedules labelled in both:",
             f"{'':<9} {'programs':>8} {'schedules':>9} {'spearman':>8} {'pairwise':>8} {'pairs':>7} {'mape':>6}"]
    for split in SPLITS:
        r = report[split]
        lines.append(f"{split:<9} {r['programs']:>8} {r['schedules']:>9} {cell(r['spearman']):>8} "
                     f"{cell(r['pairwise']):>8} {r['pairs']:>7} {cell(r['mape']):>6}")
    return "\n".join(lines)
