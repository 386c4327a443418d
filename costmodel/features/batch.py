"""Batching: samples of any programs stacked into padded tensors, equal subtrees shared."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from costmodel.features.program import ProgramFeatures
from costmodel.features.sample import Sample


# --- batching ---------------------------------------------------------------------------------
@dataclass
class Batch:
    """Samples stacked into tensors, padded to the batch's maxima, with the tree's level plan."""

    comps: torch.Tensor  # [C, COMP_DIM]
    expr_tokens: torch.Tensor  # [U, E] over the batch's distinct programs' statements
    expr_types: torch.Tensor  # [U, E]
    expr_lengths: torch.Tensor  # [U]
    comp_expr: torch.Tensor  # [C] row of expr_* for each computation
    unimod: torch.Tensor  # [C, K, UNIMOD_DIM]
    unimod_lengths: torch.Tensor  # [C]
    loops: torch.Tensor  # [N, LOOP_DIM]
    levels: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]  # (loop ids, children [n, k] node ids, lengths)
    roots: torch.Tensor  # [B + O] loop id of the root of each sample, then of each distinct origin
    anchors: torch.Tensor  # [B] row of `roots` holding each sample's origin (its own row when it has none)
    size: int  # B

    def to(self, device: torch.device | str) -> Batch:
        move = lambda t: t.to(device)
        return Batch(move(self.comps), move(self.expr_tokens), move(self.expr_types), move(self.expr_lengths),
                     move(self.comp_expr), move(self.unimod), move(self.unimod_lengths), move(self.loops),
                     [(move(a), move(b), move(c)) for a, b, c in self.levels], move(self.roots), move(self.anchors),
                     self.size)


def collate(samples: Sequence[Sample]) -> Batch:
    """Stack samples of any programs into one Batch, computing every distinct node once.

    Equal computations (same program statement, same vector, same unimodular steps) and equal loops
    (same features, same distinct children) are shared: in a search batch most subtrees repeat from
    candidate to candidate, so the network evaluates far fewer nodes than the samples hold. Node
    ids: distinct computations first, then distinct loops, then one zero padding node. The samples'
    origins (Sample.origin) are evaluated too, once each, after the samples."""
    anchors = np.arange(len(samples), dtype=np.int64)
    origins: dict[int, int] = {}
    every = list(samples)
    for b, s in enumerate(samples):
        if s.origin is not None:
            row = origins.get(id(s.origin))
            if row is None:
                row = origins[id(s.origin)] = len(every)
                every.append(s.origin)
            anchors[b] = row
    programs: dict[int, tuple[ProgramFeatures, int]] = {}
    expr_rows = 0
    comp_ids: dict[tuple, int] = {}
    comp_rows: list[np.ndarray] = []
    comp_expr: list[int] = []
    unimod_rows: list[np.ndarray] = []
    unimod_lens: list[int] = []
    loop_ids: dict[tuple, int] = {}
    loop_rows: list[np.ndarray] = []
    loop_kids: list[list[tuple[bool, int]]] = []  # (is a loop, distinct id)
    loop_heights: list[int] = []
    roots = np.empty(len(every), dtype=np.int64)
    for b, s in enumerate(every):
        key = id(s.program)
        if key not in programs:
            programs[key] = (s.program, expr_rows)
            expr_rows += len(s.program.statements)
        off = programs[key][1]
        nc = s.comps.shape[0]
        local: list[tuple[bool, int]] = []
        for i in range(nc):
            n = int(s.unimod_len[i])
            ck = (off + i, s.comps[i].tobytes(), s.unimod[i, :n].tobytes())
            cid = comp_ids.get(ck)
            if cid is None:
                cid = comp_ids[ck] = len(comp_rows)
                comp_rows.append(s.comps[i])
                comp_expr.append(off + i)
                unimod_rows.append(s.unimod[i])
                unimod_lens.append(n)
            local.append((False, cid))
        for j, children in enumerate(s.children):
            ids = tuple(local[k] for k in children)
            lk = (s.loops[j].tobytes(), ids)
            lid = loop_ids.get(lk)
            if lid is None:
                lid = loop_ids[lk] = len(loop_rows)
                loop_rows.append(s.loops[j])
                loop_kids.append(list(ids))
                loop_heights.append(s.heights[j])
            local.append((True, lid))
        roots[b] = local[-1][1]
    n_comp, n_loop = len(comp_rows), len(loop_rows)
    pad = n_comp + n_loop
    by_height: dict[int, list[int]] = {}
    for lid, h in enumerate(loop_heights):
        by_height.setdefault(h, []).append(lid)
    levels = []
    for h in sorted(by_height):
        items = by_height[h]
        width = max(len(loop_kids[i]) for i in items)
        kids = np.full((len(items), width), pad, dtype=np.int64)
        for r, i in enumerate(items):
            kids[r, : len(loop_kids[i])] = [n_comp + x if is_loop else x for is_loop, x in loop_kids[i]]
        levels.append((torch.tensor(items), torch.from_numpy(kids),
                       torch.tensor([len(loop_kids[i]) for i in items])))
    progs = [p for p, _ in sorted(programs.values(), key=lambda x: x[1])]
    width = max(int(p.token_lengths.max()) for p in progs)
    kmax = max(unimod_lens)
    return Batch(
        comps=torch.from_numpy(np.stack(comp_rows)),
        expr_tokens=torch.from_numpy(np.concatenate([p.tokens[:, :width] for p in progs])),
        expr_types=torch.from_numpy(np.concatenate([p.token_types[:, :width] for p in progs])),
        expr_lengths=torch.from_numpy(np.concatenate([p.token_lengths for p in progs])),
        comp_expr=torch.tensor(comp_expr),
        unimod=torch.from_numpy(np.stack(unimod_rows)[:, :kmax]),
        unimod_lengths=torch.tensor(unimod_lens),
        loops=torch.from_numpy(np.stack(loop_rows)),
        levels=levels,
        roots=torch.from_numpy(roots),
        anchors=torch.from_numpy(anchors),
        size=len(samples),
    )
