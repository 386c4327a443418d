"""LOOPer's cost model: computation embeddings aggregated bottom-up over the loop tree by LSTMs.

Each computation (statement) vector goes through an MLP together with the final state of an LSTM
over its expression tokens and of one over its unimodular step matrices. Each loop feeds its
children's embeddings (computations and inner loops, in program order) through an LSTM and combines
the result with its own loop features; the root (the whole program) does the same, and a regression
head turns its embedding into a score. Anchored (the default), the predicted log-speedup is the
schedule's score minus that of the program's original schedule, evaluated in the same batch. The
tree is evaluated level by level (all loops of equal height across the whole batch at once), so a
batch may mix programs and trees.

Differences from LOOPer: one LSTM reads a loop's children (statements and inner loops) in program
order instead of one LSTM per kind, so the order that fusion and distribution change is visible;
the expression is a post-order token sequence rather than a tree; inputs are standardized with the
training set's statistics, kept in the checkpoint; LOOPer predicts a schedule's speedup from that
schedule alone, where the anchored model subtracts the original's score.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from costmodel import features as F


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the network (stored in every checkpoint)."""

    hidden: int = 128  # computation and loop embedding size
    comp_hidden: int = 384
    token_embedding: int = 24
    expr_hidden: int = 48
    unimod_hidden: int = 32
    dropout: float = 0.1
    # Predict head(schedule) - head(its original schedule): the original is exactly 1x, and what the
    # schedules of a program share cancels (costmodel/TRAINING.md, "Anchored"). Checkpoints from before
    # this option load unanchored.
    anchored: bool = True
    feature_version: int = F.FEATURE_VERSION


def _mlp(sizes: list[int], dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes[:-1]):
        layers += [nn.Linear(a, b), nn.ELU(), nn.Dropout(dropout)]
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


def _last_state(lstm: nn.LSTM, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The LSTM's hidden state after each sequence's last real element."""
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    _, (h, _) = lstm(packed)
    return h[-1]


class CostModel(nn.Module):
    """Predicts log(speedup) of a batch of (program, schedule) samples."""

    # Buffers (register_buffer), which nn.Module's attribute lookup types as Tensor | Module.
    comp_mean: torch.Tensor
    comp_std: torch.Tensor
    loop_mean: torch.Tensor
    loop_std: torch.Tensor
    log_offset: torch.Tensor
    meta: dict  # the checkpoint's metadata, set by costmodel.inference.load_model

    def __init__(self, config: ModelConfig = ModelConfig()) -> None:
        super().__init__()
        c = self.config = config
        self.register_buffer("comp_mean", torch.zeros(F.COMP_DIM))
        self.register_buffer("comp_std", torch.ones(F.COMP_DIM))
        self.register_buffer("loop_mean", torch.zeros(F.LOOP_DIM))
        self.register_buffer("loop_std", torch.ones(F.LOOP_DIM))
        self.register_buffer("log_offset", torch.zeros(()))  # set by calibrate() after training
        self.token_embedding = nn.Embedding(len(F.TOKENS), c.token_embedding, padding_idx=0)
        self.type_embedding = nn.Embedding(len(F.DTYPES), 8, padding_idx=0)
        self.expr_lstm = nn.LSTM(c.token_embedding + 8, c.expr_hidden, batch_first=True)
        self.unimod_lstm = nn.LSTM(F.UNIMOD_DIM, c.unimod_hidden, batch_first=True)
        self.comp_embed = _mlp([F.COMP_DIM + c.expr_hidden + c.unimod_hidden, c.comp_hidden, c.hidden * 2,
                                c.hidden], c.dropout)
        self.children_lstm = nn.LSTM(c.hidden, c.hidden, batch_first=True)
        self.loop_embed = _mlp([c.hidden + F.LOOP_DIM, c.hidden * 2, c.hidden], c.dropout)
        self.head = _mlp([c.hidden, c.hidden, 64, 1], c.dropout)

    def set_normalization(self, comp_mean: torch.Tensor, comp_std: torch.Tensor, loop_mean: torch.Tensor,
                          loop_std: torch.Tensor) -> None:
        """Feature standardization, fitted on the training set."""
        self.comp_mean.copy_(comp_mean)
        self.comp_std.copy_(comp_std.clamp_min(1e-3))
        self.loop_mean.copy_(loop_mean)
        self.loop_std.copy_(loop_std.clamp_min(1e-3))

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """As nn.Module's; weights saved before calibration existed have no offset, which is then 0."""
        return super().load_state_dict({"log_offset": torch.zeros(()), **state_dict}, strict, assign)

    def forward(self, batch: F.Batch) -> torch.Tensor:
        """[batch.size] predicted log-speedups."""
        tokens = torch.cat([self.token_embedding(batch.expr_tokens), self.type_embedding(batch.expr_types)], -1)
        expr = _last_state(self.expr_lstm, tokens, batch.expr_lengths)[batch.comp_expr]
        unimod = _last_state(self.unimod_lstm, batch.unimod, batch.unimod_lengths)
        comps = (batch.comps - self.comp_mean) / self.comp_std
        comp_emb = self.comp_embed(torch.cat([comps, expr, unimod], -1))
        loops = (batch.loops - self.loop_mean) / self.loop_std
        n_comp, n_loop = comp_emb.shape[0], loops.shape[0]
        # Node table: computations, loops (filled level by level), and a zero row for padding.
        table = torch.cat([comp_emb, comp_emb.new_zeros(n_loop + 1, comp_emb.shape[1])])
        for ids, kids, lengths in batch.levels:
            seq = table[kids]
            h = _last_state(self.children_lstm, seq, lengths)
            emb = self.loop_embed(torch.cat([h, loops[ids]], -1))
            table = table.index_copy(0, ids + n_comp, emb)
        out = self.head(table[batch.roots + n_comp]).squeeze(-1)
        # Anchored, program-wide effects cancel: only how a schedule differs from the original counts.
        out = out[: batch.size] - out[batch.anchors] if self.config.anchored else out[: batch.size]
        return out + self.log_offset


class Ensemble(nn.Module):
    """Several cost models trained with different seeds; predicts the mean of their log-speedups
    (the geometric mean speedup), which ranks held-out programs better than any one member."""

    meta: dict  # the checkpoint's metadata, set by costmodel.inference.load_model

    def __init__(self, members: list[CostModel]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one model")
        self.members = nn.ModuleList(members)

    def forward(self, batch: F.Batch) -> torch.Tensor:
        """[batch.size] mean predicted log-speedup of the members."""
        return torch.stack([m(batch) for m in self.members]).mean(0)
