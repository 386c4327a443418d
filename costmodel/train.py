"""Training: program-disjoint split, batches of schedules grouped by program, a checkpoint every epoch
(resumable), early stopping on validation, loss curves and a predicted-vs-measured plot.

Losses (the model predicts log-speedup p; y is the measured speedup):
- mape: |exp(p) - y| / y, LOOPer's loss;
- log:  (p - log y)^2, mean squared error in log space (a 2x error counts the same both ways);
- rank: pairwise logistic loss on pairs of schedules of one program, weighted by their measured
  log-speedup gap, plus RANK_CALIBRATION * the log loss to keep predictions on the speedup scale;
- pairs: every pair of a program alike, each pulled towards the probability of its measured order;
- lambda: LambdaRank's pairwise logistic loss, each pair weighted by how much swapping the two would
  change the program's nDCG (gain: speedup over the program's best; discount: by predicted rank), so
  that the order at the top of each program's list counts most; plus the same calibration.
`compare_losses()` trains one model per loss and reports their validation metrics.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import cast

import numpy as np
import torch

from costmodel import features as F
from costmodel.dataset import Dataset, Example, iter_program_batches, load_dataset, split_programs
from costmodel.evaluate import evaluate_examples, predict
from costmodel.inference import load_model, save_model, threads
from costmodel.model import CostModel, Ensemble, ModelConfig
from looper.progress import Progress

LOSSES = ("mape", "log", "rank", "pairs", "lambda")
RANK_CALIBRATION = 0.5  # weight of the log loss inside the rank loss (0.1 left MAPE near 1 on the synthetic set)
# Standard deviation of the difference of two labels' log-speedups measured in different sessions
# (TRAINING.md, "Measured alone": one label's median |change| is 0.04 serial, 0.08 parallel).
PAIR_NOISE = 0.1


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of a training run (stored in the checkpoints)."""

    epochs: int = 60
    batch_size: int = 256
    loss: str = "rank"  # best on held-out measured programs (costmodel/TRAINING.md)
    seed: int = 0
    val_fraction: float = 0.15
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 25  # epochs without validation improvement; validation sets of a few dozen programs are noisy
    per_program: int = 32  # schedules of one program per batch chunk
    threads: int = 1
    # Fine-tuning: start from this checkpoint's weights and feature normalization (its architecture too);
    # member `init_member` of an ensemble checkpoint (an ensemble's member k starts from its member k).
    init: str = ""
    init_member: int = 0


def loss_value(name: str, pred: torch.Tensor, speedup: torch.Tensor, group: torch.Tensor) -> torch.Tensor:
    """The named loss of predicted log-speedups against measured speedups (group: program ids)."""
    target = torch.log(speedup)
    if name == "mape":
        return (torch.exp(pred.clamp(-8, 8)) - speedup).abs().div(speedup).mean()
    if name == "log":
        return (pred - target).pow(2).mean()
    if name == "rank":
        gap = target[:, None] - target[None, :]
        mask = (group[:, None] == group[None, :]) & (gap > 0.01)
        calibration = RANK_CALIBRATION * (pred - target).pow(2).mean()
        if not bool(mask.any()):
            return calibration
        diff = pred[:, None] - pred[None, :]
        weight = gap[mask]
        pairs = torch.nn.functional.softplus(-diff[mask])
        return (weight * pairs).sum() / weight.sum() + calibration
    if name == "pairs":
        # Every pair of one program counts alike, as in Spearman; its target is the probability that
        # the order measured is the true one under label noise, so near-ties pull the scores together.
        gap = target[:, None] - target[None, :]
        mask = (group[:, None] == group[None, :]) & ~torch.eye(len(target), dtype=torch.bool)
        calibration = RANK_CALIBRATION * (pred - target).pow(2).mean()
        if not bool(mask.any()):
            return calibration
        p = 0.5 * (1 + torch.erf(gap[mask] / (PAIR_NOISE * math.sqrt(2))))
        # A logistic with slope 1.7 / noise is close to the normal CDF, so exact scores fit exactly.
        diff = (pred[:, None] - pred[None, :])[mask] * (1.7 / PAIR_NOISE)
        return torch.nn.functional.binary_cross_entropy_with_logits(diff, p) + calibration
    if name == "lambda":
        return _lambda_loss(pred, speedup, group) + RANK_CALIBRATION * (pred - target).pow(2).mean()
    raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")


def _lambda_loss(pred: torch.Tensor, speedup: torch.Tensor, group: torch.Tensor) -> torch.Tensor:
    """LambdaRank's loss: softplus(-(p_i - p_j)) over the pairs of one program measured i faster than j
    (by > 1%), weighted by |delta nDCG| of swapping them in the predicted order, per program then averaged."""
    programs, local = torch.unique(group, return_inverse=True)  # 0 .. G-1: index_add_ needs them dense
    same = group[:, None] == group[None, :]
    # the program's best speedup: the gains are fractions of it, so a pair's weight is in the regret's units
    best = torch.where(same, speedup[None, :], torch.zeros_like(speedup)[None, :]).amax(dim=1)
    gain = speedup / best
    with torch.no_grad():
        detached = pred.detach()
        rank = (same & (detached[None, :] > detached[:, None])).sum(dim=1) + 1  # 1 = predicted best
        ideal = (same & (gain[None, :] > gain[:, None])).sum(dim=1) + 1
        discount = 1.0 / torch.log2(1.0 + rank.float())
        ideal_dcg = gain.new_zeros(len(programs)).index_add_(0, local, gain / torch.log2(1.0 + ideal.float()))[local]
        swing = (gain[:, None] - gain[None, :]).abs() * (discount[:, None] - discount[None, :]).abs()
        weight = swing / ideal_dcg[:, None]
    mask = same & (torch.log(speedup)[:, None] - torch.log(speedup)[None, :] > 0.01)
    if not bool(mask.any()):
        return pred.sum() * 0.0
    pairs = torch.nn.functional.softplus(-(pred[:, None] - pred[None, :])[mask])
    w = weight[mask]
    # per program: its weighted mean, so that a program with many schedules does not drown the others
    owner = local[:, None].expand_as(mask)[mask]
    total = pairs.new_zeros(len(programs)).index_add_(0, owner, w * pairs)
    norm = w.new_zeros(len(programs)).index_add_(0, owner, w)
    used = norm > 0
    return (total[used] / norm[used]).mean()


def _normalization(examples: list[Example]) -> tuple[torch.Tensor, ...]:
    comp_sum = np.zeros(F.COMP_DIM)
    comp_sq = np.zeros(F.COMP_DIM)
    loop_sum = np.zeros(F.LOOP_DIM)
    loop_sq = np.zeros(F.LOOP_DIM)
    nc = nl = 0
    for e in examples:
        c = e.sample.comps.astype(np.float64)
        lp = e.sample.loops.astype(np.float64)
        comp_sum += c.sum(0)
        comp_sq += (c * c).sum(0)
        loop_sum += lp.sum(0)
        loop_sq += (lp * lp).sum(0)
        nc += len(c)
        nl += len(lp)
    cm, lm = comp_sum / max(nc, 1), loop_sum / max(nl, 1)
    cs = np.sqrt(np.maximum(comp_sq / max(nc, 1) - cm * cm, 0))
    ls = np.sqrt(np.maximum(loop_sq / max(nl, 1) - lm * lm, 0))
    # Constant features (padding never used in the training data) stay unscaled.
    cs[cs < 1e-3] = 1.0
    ls[ls < 1e-3] = 1.0
    return tuple(torch.tensor(x, dtype=torch.float32) for x in (cm, cs, lm, ls))


def _batch_tensors(batch: list[Example], program_ids: dict[str, int]) -> tuple:
    return (F.collate([e.sample for e in batch]), torch.tensor([e.speedup for e in batch], dtype=torch.float32),
            torch.tensor([program_ids[e.program] for e in batch]))


def _evaluate_loss(model: CostModel, examples: list[Example], loss: str, program_ids: dict[str, int],
                   batch_size: int) -> float:
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in iter_program_batches(Dataset(examples), batch_size, per_program=10**9,
                                          rng=random.Random(0)):
            b, y, g = _batch_tensors(batch, program_ids)
            total += float(loss_value(loss, model(b), y, g)) * len(batch)
            count += len(batch)
    return total / max(count, 1)


def paths(out: Path) -> dict[str, Path]:
    """Where a training run writes its files, next to the model."""
    stem = out.with_suffix("") if out.suffix else out
    return {
        "model": out,
        "state": out.with_name(out.name + ".state"),
        "history": Path(f"{stem}.history.json"),
        "loss_plot": Path(f"{stem}.loss.png"),
        "scatter_plot": Path(f"{stem}.scatter.png"),
    }


def train(data: str | Path | Dataset, out: str | Path, config: TrainConfig = TrainConfig(), *,
          model_config: ModelConfig | None = None, resume: bool = False, progress: bool | None = None,
          log: Callable[[str], None] | None = None, plots: bool = True) -> dict:
    """Train a cost model on a data set (a database path or a loaded Dataset) and save the best
    epoch's model at `out`, with loss and scatter plots beside it unless `plots` is False.
    Returns a summary (epochs run, best validation metrics, file paths)."""
    model_config = model_config or ModelConfig()
    if config.loss not in LOSSES:
        raise ValueError(f"unknown loss {config.loss!r}; choose one of {', '.join(LOSSES)}")
    say = log or (lambda text: print(text, file=sys.stderr))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)  # before the data are read, not at the first checkpoint
    files = paths(out)
    dataset = data if isinstance(data, Dataset) else load_dataset(data, progress=progress)
    groups = dataset.by_program()
    if not groups:
        raise ValueError("the data set has no usable samples (status 'ok' with a speedup)")
    train_keys, val_keys, _ = split_programs(groups, config.val_fraction, 0.0, config.seed)
    if not val_keys:
        say("[looper] warning: too few programs for a validation split; validating on the training programs")
        val_keys = train_keys
    train_set = [e for k in train_keys for e in groups[k]]
    val_set = [e for k in val_keys for e in groups[k]]
    program_ids = {k: i for i, k in enumerate(sorted(groups))}
    torch.manual_seed(config.seed)
    if config.init:
        model = initial_model(config.init, config.init_member)
        model_config = model.config
    else:
        model = CostModel(model_config)
        model.set_normalization(*_normalization(train_set))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=max(1, config.patience // 3))
    history: list[dict] = []
    start_epoch, best, bad = 0, math.inf, 0
    if resume and files["state"].exists():
        state = torch.load(files["state"], map_location="cpu", weights_only=False)
        free = ("epochs", "patience", "threads")  # a resumed run may run longer or stop differently
        saved = {k: v for k, v in state["config"].items() if k not in free}
        if saved != {k: v for k, v in asdict(config).items() if k not in free} or \
                state["model_config"] != asdict(model_config):
            raise ValueError(f"{files['state']}: saved by a run with other settings ({saved}); remove it or "
                             "match them")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, best, bad, history = state["epoch"] + 1, state["best"], state["bad"], state["history"]
        torch.set_rng_state(state["torch_random"])
        say(f"[looper] resuming at epoch {start_epoch + 1} (best validation loss {best:.4f})")
    elif resume:
        say(f"[looper] nothing to resume ({files['state']} does not exist): starting afresh")
    say(f"[looper] training on {len(train_set)} samples of {len(train_keys)} programs, validating on "
        f"{len(val_set)} samples of {len(val_keys)} programs; loss {config.loss}")
    meta_base = {"loss": config.loss, "data": str(data) if not isinstance(data, Dataset) else "<dataset>",
                 "train_programs": len(train_keys), "val_programs": len(val_keys), "train_samples": len(train_set),
                 "val_samples": len(val_set), "train_config": asdict(config)}
    n_batches = math.ceil(len(train_set) / config.batch_size)
    with threads(config.threads):
        for epoch in range(start_epoch, config.epochs):
            if bad >= config.patience:
                break
            started = time.perf_counter()
            model.train()
            total, count = 0.0, 0
            rng = random.Random(config.seed * 1_000_003 + epoch)  # per epoch: a resumed run repeats it exactly
            with Progress(n_batches, f"epoch {epoch + 1}/{config.epochs}", enabled=progress) as bar:
                for batch in iter_program_batches(Dataset(train_set), config.batch_size,
                                                  per_program=config.per_program, rng=rng):
                    b, y, g = _batch_tensors(batch, program_ids)
                    loss = loss_value(config.loss, model(b), y, g)
                    optimizer.zero_grad()
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                    optimizer.step()
                    total += loss.item() * len(batch)
                    count += len(batch)
                    bar.advance(label=f"epoch {epoch + 1}/{config.epochs} loss {total / count:.4f}")
            val_loss = _evaluate_loss(model, val_set, config.loss, program_ids, 1024)
            val = evaluate_examples(model, val_set)
            scheduler.step(val_loss)
            record = {"epoch": epoch + 1, "train_loss": total / max(count, 1), "val_loss": val_loss,
                      "val_spearman": val["spearman"], "val_mape": val["mape"], "val_regret": val["top1_regret"],
                      "seconds": time.perf_counter() - started}
            history.append(record)
            improved = val_loss < best - 1e-6
            if improved:
                best, bad = val_loss, 0
                save_model(model, files["model"], {**meta_base, "epoch": epoch + 1, "val": val})
            else:
                bad += 1
            say(f"[looper] epoch {epoch + 1}: train {record['train_loss']:.4f}  val {val_loss:.4f}  "
                f"spearman {val['spearman']:.3f}  mape {val['mape']:.3f}  regret {val['top1_regret']:.3f}"
                f"{'  *' if improved else ''}  ({record['seconds']:.1f}s)")
            _save_state(files["state"], model, optimizer, scheduler, epoch, best, bad, history, config,
                        model_config)
            files["history"].write_text(json.dumps(history, indent=1))
        best_model = _load_single(files["model"])
        offset = calibrate(best_model, val_set)
        save_model(best_model, files["model"], {**best_model.meta, "log_offset": offset})
        val = evaluate_examples(best_model, val_set)
        if plots:
            _plots(history, best_model, val_set, files, config.loss)
    return {"epochs": len(history), "best_val_loss": best, "val": val, "files": {k: str(v) for k, v in files.items()},
            "train_programs": len(train_keys), "val_programs": len(val_keys)}


def initial_model(path: str | Path, member: int = 0) -> CostModel:
    """The network a fine-tuning run starts from: a single checkpoint, or member `member` (modulo the
    count) of an ensemble checkpoint, in training mode with its own feature normalization."""
    loaded = load_model(path)
    members = [cast(CostModel, m) for m in loaded.members] if isinstance(loaded, Ensemble) else [loaded]
    model = members[member % len(members)]
    model.log_offset.zero_()  # training learns uncalibrated; calibrate() sets the offset at the end
    model.train()
    return model


def _load_single(path: Path) -> CostModel:
    """A checkpoint that train() wrote: one model, never an ensemble."""
    model = load_model(path)
    assert isinstance(model, CostModel)
    return model


def calibrate(model: CostModel, examples: list[Example]) -> float:
    """Shift every log prediction of `model` by the offset with the least MAPE on `examples` (the
    validation set) and return it. The rank loss learns order, and its log-space term aims at the
    geometric mean; MAPE is least a little lower, since over-predicting a slow schedule costs most.
    One shift of every prediction, the original's too, keeps every ranking: it is a device for MAPE, not
    the bar a schedule must clear to beat the original (uncalibrated, the shipped model's predictions are
    about median-unbiased on held-out sets; as a bar, the offset cost PolyBench LARGE regret). The least
    sum of |e^(p+b) - y| / y is at b = log of the median of y / e^p weighted by e^p / y."""
    model.log_offset.zero_()
    if not examples:
        return 0.0
    predicted = predict(model, [e.sample for e in examples]).astype(np.float64)
    measured = np.array([e.speedup for e in examples], dtype=np.float64)
    ratio, weight = measured / predicted, predicted / measured
    order = np.argsort(ratio)
    cumulative = np.cumsum(weight[order])
    offset = float(np.log(ratio[order][np.searchsorted(cumulative, cumulative[-1] / 2)]))
    model.log_offset.fill_(offset)
    return offset


def member_path(out: Path, k: int) -> Path:
    """Where member k of an ensemble trained for `out` is written (with its own plots and state)."""
    return out.with_name(f"{out.with_suffix('').name}.member{k}{out.suffix or '.pt'}")


def train_ensemble(data: str | Path, out: str | Path, config: TrainConfig = TrainConfig(), *, members: int = 2,
                   jobs: int = 1, model_config: ModelConfig | None = None, resume: bool = False,
                   progress: bool | None = None, plots: bool = True) -> dict:
    """Train `members` models with seeds config.seed, config.seed + 1, ... (each its own validation
    split and initialization), `jobs` at a time, and save them at `out` as one Ensemble. Member k is
    exactly `train(data, member_path(out, k), replace(config, seed=config.seed + k, init_member=k))`; with `resume`,
    finished members are only reloaded."""
    if members < 1:
        raise ValueError("an ensemble needs at least 1 member")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    dataset = load_dataset(data, progress=progress)  # featurizes once; parallel members read the cache
    runs = [(k, str(member_path(out, k)), replace(config, seed=config.seed + k, init_member=k))
            for k in range(members)]
    if jobs <= 1:
        summaries = [train(dataset, path, cfg, model_config=model_config, resume=resume, progress=progress,
                           plots=plots) for _, path, cfg in runs]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: a fresh interpreter per worker, not a fork of this process's torch threads.
        tasks = [(str(data), path, cfg, model_config, resume, plots, k) for k, path, cfg in runs]
        with ProcessPoolExecutor(min(jobs, members), mp_context=multiprocessing.get_context("spawn")) as pool:
            summaries = list(pool.map(_train_member, tasks))
    loaded = [_load_single(member_path(out, k)) for k in range(members)]
    ensemble = Ensemble(loaded)
    meta = {"ensemble": members, "data": str(data), "train_config": asdict(config),
            "members": [m.meta for m in loaded]}
    save_model(ensemble, out, meta)
    return {"members": summaries, "files": {"model": str(out)}}


def _train_member(task: tuple) -> dict:
    data, out, config, model_config, resume, plots, k = task
    return train(data, out, config, model_config=model_config, resume=resume, progress=False, plots=plots,
                 log=lambda text: print(f"[member {k}] {text}", file=sys.stderr, flush=True))


def _save_state(path: Path, model, optimizer, scheduler, epoch, best, bad, history, config, model_config) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "epoch": epoch, "best": best, "bad": bad, "history": history, "config": asdict(config),
                "model_config": asdict(model_config), "torch_random": torch.get_rng_state()}, tmp)
    tmp.replace(path)


def _plots(history: list[dict], model: CostModel, val_set: list[Example], files: dict[str, Path], loss: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if history:
        fig, ax = plt.subplots(figsize=(6, 4))
        epochs = [h["epoch"] for h in history]
        ax.plot(epochs, [h["train_loss"] for h in history], label="train")
        ax.plot(epochs, [h["val_loss"] for h in history], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{loss} loss")
        ax.set_yscale("log")
        ax.legend()
        ax.set_title("cost model training")
        fig.subplots_adjust(left=0.15, bottom=0.13, right=0.97, top=0.92)
        fig.savefig(files["loss_plot"], dpi=110)
        plt.close(fig)
    if val_set:
        pred = predict(model, [e.sample for e in val_set])
        meas = np.array([e.speedup for e in val_set])
        fig, ax = plt.subplots(figsize=(5, 5))
        ax.scatter(meas, pred, s=6, alpha=0.5)
        lo, hi = float(min(meas.min(), pred.min())), float(max(meas.max(), pred.max()))
        ax.plot([lo, hi], [lo, hi], color="gray", linewidth=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("measured speedup")
        ax.set_ylabel("predicted speedup")
        ax.set_title(f"validation programs ({len(val_set)} schedules)")
        fig.subplots_adjust(left=0.15, bottom=0.12, right=0.97, top=0.93)
        fig.savefig(files["scatter_plot"], dpi=110)
        plt.close(fig)


def compare_losses(data: str | Path, out_dir: str | Path, config: TrainConfig = TrainConfig(), *,
                   losses: tuple[str, ...] = LOSSES, model_config: ModelConfig | None = None,
                   progress: bool | None = None, log: Callable[[str], None] | None = None,
                   plots: bool = True) -> dict:
    """Train one model per loss on the same split and report validation metrics (JSON and markdown in
    `out_dir`); the winner is the loss with the best mean validation Spearman (then lowest regret)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset = load_dataset(data, progress=progress)
    results = {}
    for name in losses:
        summary = train(dataset, out_dir / f"model-{name}.pt", replace(config, loss=name),
                        model_config=model_config, progress=progress, log=log, plots=plots)
        results[name] = {"epochs": summary["epochs"], **summary["val"]}
    winner = max(results, key=lambda k: (_finite(results[k]["spearman"]),
                                         -_finite(results[k]["top1_regret"], math.inf)))
    report = {"data": str(data), "config": asdict(config), "results": results, "best": winner}
    (out_dir / "loss_comparison.json").write_text(json.dumps(report, indent=2))
    lines = ["| loss | epochs | MAPE | Spearman | nDCG@1 | nDCG@5 | top-1 regret |", "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name}{' (best)' if name == winner else ''} | {r['epochs']} | {r['mape']:.3f} | "
                     f"{r['spearman']:.3f} | {r['ndcg@1']:.3f} | {r['ndcg@5']:.3f} | {r['top1_regret']:.3f} |")
    (out_dir / "loss_comparison.md").write_text("\n".join(lines) + "\n")
    return report


def _finite(x: float, default: float = -1.0) -> float:
    return x if isinstance(x, float) and math.isfinite(x) else default
