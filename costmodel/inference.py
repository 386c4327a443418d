"""The cost model as a search Evaluator: load a checkpoint once per process, score schedules in batches."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import cast

import torch

from costmodel.features import FEATURE_VERSION, Featurizer, collate
from costmodel.model import CostModel, Ensemble, ModelConfig
from looper.errors import EXIT_INPUT, LooperError
from looper.schedule import Schedule

PRETRAINED = Path(__file__).resolve().parent / "pretrained" / "model.pt"
FORMAT = "looper-costmodel"


class CheckpointError(LooperError, ValueError):
    """A file that is not a usable cost-model checkpoint."""

    exit_code = EXIT_INPUT


def save_model(model: CostModel | Ensemble, path: str | Path, meta: dict | None = None) -> None:
    """Write a model checkpoint (config, weights incl. feature normalization, metadata) atomically; an
    ensemble is stored as the list of its members."""
    path = Path(path)
    data: dict = {"format": FORMAT, "meta": meta or {}}
    if isinstance(model, Ensemble):
        data["members"] = [_part(cast(CostModel, m)) for m in model.members]  # ModuleList items are Modules
    else:
        data.update(_part(model))
    tmp = path.with_name(path.name + ".tmp")
    torch.save(data, tmp)
    tmp.replace(path)


def _part(model: CostModel) -> dict:
    return {"config": asdict(model.config), "state_dict": model.state_dict()}


def load_model(path: str | Path) -> CostModel | Ensemble:
    """Read a checkpoint written by save_model; CheckpointError if it is not one or is incompatible."""
    path = Path(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        first = (str(exc).splitlines() or [""])[0]  # torch's messages run to several lines of advice
        raise CheckpointError(f"{path}: not a cost-model checkpoint ({type(exc).__name__}: {first})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a cost-model checkpoint")
    members = [_member(path, part) for part in data.get("members", [data])]
    model = members[0] if "members" not in data else Ensemble(members)
    model.eval()
    model.meta = data.get("meta", {})
    return model


def _member(path: Path, part: dict) -> CostModel:
    config = ModelConfig(**{"anchored": False, **part["config"]})  # saved before anchoring existed
    if config.feature_version != FEATURE_VERSION:
        raise CheckpointError(f"{path}: trained on feature version {config.feature_version}, this looper computes "
                              f"version {FEATURE_VERSION}; retrain it (looper train)")
    model = CostModel(config)
    model.load_state_dict(part["state_dict"])
    return model


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Run torch with `n` intra-op threads: small batches on a busy 2-core machine run far faster on one
    thread than on two spinning ones."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class ModelEvaluator:
    """Scores schedules with the learned model: predicted speedup over the original schedule."""

    def __init__(self, model: CostModel | Ensemble, *, batch_size: int = 2048, num_threads: int = 1) -> None:
        self.model = model.eval()
        self.batch_size = batch_size
        self.num_threads = num_threads
        self.featurizer = Featurizer()

    def score(self, schedules: Sequence[Schedule]) -> list[float]:
        """Predicted speedups, higher is better; one forward pass per chunk of `batch_size`."""
        out: list[float] = []
        with threads(self.num_threads), torch.no_grad():
            for i in range(0, len(schedules), self.batch_size):
                samples = self.featurizer.schedules(schedules[i : i + self.batch_size])
                out += torch.exp(self.model(collate(samples))).tolist()
        return out


_LOADED: dict[tuple[str, float], ModelEvaluator] = {}


def load_evaluator(path: str | Path | None = None) -> ModelEvaluator | None:
    """The cost model at `path` (or, for None, the shipped costmodel/pretrained/model.pt) as an
    Evaluator, loaded once per process; None when there is no checkpoint there."""
    target = Path(path) if path is not None else PRETRAINED
    if not target.is_file():
        return None
    key = (str(target.resolve()), target.stat().st_mtime)
    evaluator = _LOADED.get(key)
    if evaluator is None:
        try:
            model = load_model(target)
        except CheckpointError as exc:
            if path is not None:
                raise
            print(f"[looper] warning: {exc}; using no cost model", file=sys.stderr)
            return None
        evaluator = _LOADED[key] = ModelEvaluator(model)
    return evaluator
