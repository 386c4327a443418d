"""`looper train` and `looper evaluate`: the cost-model commands (wired in looper.cli.main)."""

from __future__ import annotations

import argparse
import json
import math
import os
import sqlite3
import sys
from pathlib import Path

from looper.argtypes import at_least, positive, probability
from looper.errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK


def train_parser(parser_cls: type[argparse.ArgumentParser] = argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `looper train` command line."""
    from costmodel.train import LOSSES, TrainConfig

    d = TrainConfig()
    p = parser_cls(prog="looper train",
                   description="Train the cost model on a measured data set (SQLite): a checkpoint, its loss and "
                               "scatter plots and its history; optionally an ensemble, a comparison of losses, or "
                               "a leave-one-out evaluation.")
    p.add_argument("--data", type=Path, required=True, help="data set database (programs + samples tables)")
    p.add_argument("--out", type=Path, required=True, help="model checkpoint to write (plots and history beside it)")
    p.add_argument("--epochs", type=at_least(1), default=d.epochs,
                   help=f"at most this many epochs (default: {d.epochs})")
    p.add_argument("--batch-size", type=at_least(1), default=d.batch_size,
                   help=f"schedules per training batch (default: {d.batch_size})")
    p.add_argument("--loss", choices=LOSSES, default=d.loss, help=f"training loss (default: {d.loss})")
    p.add_argument("--seed", type=int, default=d.seed,
                   help=f"seed of the validation split, initialization and batches (default: {d.seed})")
    p.add_argument("--val-fraction", type=probability, default=d.val_fraction,
                   help=f"fraction of programs held out for validation (default: {d.val_fraction})")
    p.add_argument("--lr", type=positive, default=d.lr, help=f"learning rate (default: {d.lr})")
    p.add_argument("--patience", type=at_least(1), default=d.patience,
                   help=f"stop after this many epochs without a better validation loss (default: {d.patience})")
    p.add_argument("--threads", type=at_least(1), default=d.threads, help=f"torch threads (default: {d.threads})")
    p.add_argument("--resume", action="store_true", help="continue from the last epoch's checkpoint (<out>.state)")
    p.add_argument("--unanchored", action="store_true",
                   help="predict each schedule's speedup on its own, not relative to the program's original schedule")
    p.add_argument("--init", type=Path, metavar="CHECKPOINT",
                   help="fine-tune: start from this checkpoint's weights, architecture and feature normalization "
                        "(an ensemble's member k for member k; e.g. the shipped model, costmodel/pretrained/model.pt; "
                        "default: none, a fresh network)")
    p.add_argument("--ensemble", type=at_least(1), default=1, metavar="K",
                   help="train K models with seeds SEED..SEED+K-1 (<out stem>.memberK.pt) and save their "
                        "ensemble (mean log prediction) at --out (default: 1, one model)")
    p.add_argument("--jobs", type=at_least(1), default=1,
                   help="with --ensemble: members trained at once, one process each (default: 1)")
    p.add_argument("--compare-losses", action="store_true",
                   help="train one model per loss into the directory of --out and report validation metrics")
    p.add_argument("--suite", help="train on this suite's programs only (e.g. polybench), with leave-one-out "
                                   "evaluation: one model per held-out program, reported in the directory of --out "
                                   "(default: every program of --data)")
    p.add_argument("--leave-one-out", action="store_true",
                   help="leave-one-program-out evaluation (implied by --suite) before training the final model")
    p.add_argument("--folds", type=at_least(2),
                   help="with leave-one-out: K folds of programs (default: one fold per program)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def evaluate_parser(parser_cls: type[argparse.ArgumentParser] = argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `looper evaluate` command line."""
    p = parser_cls(prog="looper evaluate",
                   description="Evaluate a cost model on held-out measured data: MAPE, and per program Spearman, "
                               "pairwise accuracy on pairs >10% apart, nDCG@1, nDCG@5 and top-1 regret, "
                               "averaged over programs.")
    p.add_argument("--model", type=Path, default=None,
                   help="model checkpoint, or 'analytical' for the hand-written stand-in (a baseline); "
                        "default: the shipped model, as looper-opt uses")
    p.add_argument("--data", type=Path, required=True, action="append",
                   help="data set database; given more than once, labellings of the same schedules (looper "
                        "dataset remeasure): each schedule's label is the geometric mean of its speedups, over "
                        "the schedules usable in all")
    p.add_argument("--again", type=Path, default=None, metavar="B.db",
                   help="a second labelling of the same schedules (looper dataset remeasure): the same metrics "
                        "with its labels as the predictions, beside the model's (the ceiling noisy labels "
                        "allow; default: none)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def guard(run, argv, parser_cls, name: str) -> int:
    """Run a `looper` cost-model subcommand: bad input and internal errors as one line, never a traceback."""
    try:
        return run(argv, parser_cls)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away: looper.cli.main stops quietly
        raise
    except (FileNotFoundError, ValueError, sqlite3.DatabaseError) as exc:
        print(f"looper {name}: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:
        if os.environ.get("LOOPER_DEBUG"):
            raise
        print(f"looper {name}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


def main_train(argv: list[str], parser_cls: type[argparse.ArgumentParser] = argparse.ArgumentParser) -> int:
    """Entry point of `looper train`."""
    return guard(_train, argv, parser_cls, "train")


def main_evaluate(argv: list[str], parser_cls: type[argparse.ArgumentParser] = argparse.ArgumentParser) -> int:
    """Entry point of `looper evaluate`."""
    return guard(_evaluate, argv, parser_cls, "evaluate")


def _train(argv: list[str], parser_cls) -> int:
    from costmodel.model import ModelConfig
    from costmodel.train import TrainConfig, compare_losses, train

    args = train_parser(parser_cls).parse_args(argv)
    if not args.data.is_file():
        print(f"{args.data}: error: no such data set", file=sys.stderr)
        return EXIT_INPUT
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, loss=args.loss, seed=args.seed,
                         val_fraction=args.val_fraction, lr=args.lr, patience=args.patience, threads=args.threads,
                         init=str(args.init or ""))
    model_config = ModelConfig(anchored=not args.unanchored)
    many_models = args.suite or args.leave_one_out or args.compare_losses  # not one model or one ensemble
    if args.init and (args.unanchored or many_models):
        print("looper train: error: --init applies to plain and --ensemble training, with the checkpoint's "
              "architecture (not --unanchored)", file=sys.stderr)
        return EXIT_INPUT
    if args.init and not args.init.is_file():
        print(f"{args.init}: error: no such checkpoint", file=sys.stderr)
        return EXIT_INPUT
    if args.unanchored and many_models:
        print("looper train: error: --unanchored applies to plain and --ensemble training only", file=sys.stderr)
        return EXIT_INPUT
    if args.ensemble != 1 and many_models:
        print("looper train: error: --ensemble trains one ensemble; it does not combine with --suite, "
              "--leave-one-out or --compare-losses", file=sys.stderr)
        return EXIT_INPUT
    progress = False if args.quiet else None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.suite or args.leave_one_out:
        from costmodel.crossval import leave_one_out

        report = leave_one_out(args.data, args.out.parent, config, suite=args.suite, fold_count=args.folds,
                               progress=progress, final=args.out)
        print((args.out.parent / "leave_one_out.md").read_text(), end="")
        print(f"model on every {args.suite or 'usable'} program: {args.out} ({report['final_epochs']} epochs)")
        return EXIT_OK
    if args.compare_losses:
        report = compare_losses(args.data, args.out.parent, config, progress=progress)
        print((args.out.parent / "loss_comparison.md").read_text(), end="")
        print(f"best loss: {report['best']} (models in {args.out.parent})")
        return EXIT_OK
    if args.ensemble != 1:
        from costmodel.train import train_ensemble

        report = train_ensemble(args.data, args.out, config, members=args.ensemble, jobs=args.jobs,
                                model_config=model_config, resume=args.resume, progress=progress)
        for k, summary in enumerate(report["members"]):
            print(f"member {k}: {summary['files']['model']} {_outcome(summary)}")
        print(f"model: {args.out} (ensemble of {args.ensemble})")
        return EXIT_OK
    summary = train(args.data, args.out, config, model_config=model_config, resume=args.resume, progress=progress)
    print(f"model: {args.out} {_outcome(summary)}")
    print(f"plots: {summary['files']['loss_plot']}, {summary['files']['scatter_plot']}")
    return EXIT_OK


def _outcome(summary: dict) -> str:
    """A trained model's epochs and best validation figures, for one line of output."""
    val = summary["val"]
    return (f"({summary['epochs']} epochs; validation on {summary['val_programs']} programs: spearman "
            f"{val['spearman']:.3f}, mape {val['mape']:.3f}, top-1 regret {val['top1_regret']:.3f})")


def _evaluate(argv: list[str], parser_cls) -> int:
    from costmodel.agreement import averaged, averaged_labels, second_labelling
    from costmodel.evaluate import evaluate, evaluate_scorer, format_metrics
    from looper.search.strategies import STANDIN

    args = evaluate_parser(parser_cls).parse_args(argv)
    if args.model is None:
        from costmodel.inference import PRETRAINED

        args.model = PRETRAINED
    standin = str(args.model) == STANDIN
    data = args.data[0]
    for path in [*(() if standin else (args.model,)), *args.data, *((args.again,) if args.again else ())]:
        if not path.is_file():
            print(f"{path}: error: no such file", file=sys.stderr)
            return EXIT_INPUT
    progress = False if args.quiet else None
    labels = averaged_labels(args.data) if len(args.data) > 1 else None  # several labellings: their mean
    if standin:
        from looper.search.evaluators import AnalyticalEvaluator

        result = evaluate_scorer(AnalyticalEvaluator(), data, labels=labels, progress=progress)
    else:
        result = evaluate(args.model, data, labels=labels, progress=progress)
    again = second_labelling(averaged(args.data, None), args.again) if args.again else None
    if args.json:
        clean = lambda m: {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in m.items()}
        print(json.dumps({**clean(result), "again": clean(again)} if again else clean(result), indent=2))
    else:
        print(format_metrics(result, again))
    return EXIT_OK
