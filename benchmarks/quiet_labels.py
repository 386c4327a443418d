"""Quiet labels against stored labels as training data: the same programs and schedules, two networks.

`data/remeasured.db` holds schedules of `data/generated.db` timed again on a quiet machine. This
splits it by the held-out hash every split here uses (`looper dataset split --test-fraction 0.2
--seed 0`), copies the training programs once more with their stored labels from the generated data
set, trains one network on each copy with `looper train`, and evaluates both (and any `--model`)
on the held-out programs' quiet and stored labels. (On a partial remeasured.db, train with
`--seed 1`: its first programs were the seed-0 validation programs; costmodel/TRAINING.md.)

    python benchmarks/quiet_labels.py --quiet data/remeasured.db --stored data/generated.db --work DIR
        [--seed 1] [--epochs 100] [--model costmodel/pretrained/model.pt ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from costmodel.dataset import copy_programs, load_dataset, open_db, program_keys, split_database
from costmodel.evaluate import evaluate_examples
from costmodel.inference import load_model


def copy_stored(stored: Path, like: Path, out: Path) -> None:
    """A new data set `out`: the programs of data set `like`, with their samples from `stored`."""
    with closing(open_db(like, create=False)) as conn:
        wanted = program_keys(conn)
    with closing(open_db(stored, create=False)) as conn:
        copy_programs(conn, out, wanted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", type=Path, required=True, help="data set measured again (remeasured.db)")
    parser.add_argument("--stored", type=Path, required=True, help="the data set it was measured from")
    parser.add_argument("--work", type=Path, required=True, help="directory for the splits and models (reused)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--model", type=Path, action="append", default=[], help="another model to evaluate")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    w = args.work
    w.mkdir(parents=True, exist_ok=True)
    if not (w / "quiet_test.db").exists():
        split_database(args.quiet, w / "quiet_train.db", w / "quiet_test.db", test_fraction=0.2, seed=0)
        copy_stored(args.stored, w / "quiet_train.db", w / "stored_train.db")
        copy_stored(args.stored, w / "quiet_test.db", w / "stored_test.db")
    models = []
    for labels in ("quiet", "stored"):
        out, done = w / f"{labels}_model" / "model.pt", w / f"{labels}_model" / "done"
        if not done.exists():  # a killed run continues from its last epoch
            subprocess.run(["looper", "train", "--data", str(w / f"{labels}_train.db"), "--out", str(out),
                            "--seed", str(args.seed), "--epochs", str(args.epochs), "--resume", "--quiet"],
                           check=True, stdout=sys.stderr)  # stdout is this report's
            done.touch()
        models.append(out)
    models += args.model
    held_out = {labels: load_dataset(w / f"{labels}_test.db", progress=False) for labels in ("quiet", "stored")}
    report = {}
    for path in models:
        model = load_model(path)
        report[str(path)] = {labels: evaluate_examples(model, ds.examples) for labels, ds in held_out.items()}
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(f"{'model':48} {'labels':7} {'MAPE':>6} {'rho':>6} {'nDCG@1':>7} {'regret':>7}")
    for path, by in report.items():
        for labels, r in by.items():
            print(f"{path[-48:]:48} {labels:7} {r['mape']:6.3f} {r['spearman']:6.3f} {r['ndcg@1']:7.3f} "
                  f"{r['top1_regret']:7.3f}")


if __name__ == "__main__":
    main()
