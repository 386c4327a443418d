"""Per-statement schedule features: the computation vector and the unimodular step matrices."""

from __future__ import annotations

import functools
import math

import numpy as np

from costmodel.features.layout import (
    _LOG2,
    MAX_DEPTH,
    MAX_LOOPS,
    MAX_UNIMOD_STEPS,
    N_COST,
    N_TAGS,
    OFFSET,
    UNIMOD_DIM,
    described,
    slog,
)
from costmodel.features.program import ProgramFeatures, StatementInfo
from costmodel.features.schedule import Row, _Program
from costmodel.features.tree import _Tree
from looper import transforms as T
from looper.schedule import Lowered


def _computation(info: StatementInfo, all_rows: dict[str, list[Row]], tree: _Tree, low: Lowered,
                 sharing: dict[str, int], prog: _Program, counts: tuple[int, int, int]) -> np.ndarray:
    name = info.name
    rows = all_rows[name]
    # A nest deeper than the blocks: its described iterators and loops (FEATURES.md, depth policy);
    # the tags and the cost block below still count every loop.
    cols = described(info.depth, MAX_DEPTH)
    loops = [(d, r) for d, r in enumerate(rows) if r.loop]
    shown = set(described(len(loops), MAX_LOOPS))
    points = tuple(r for _, r in loops if not r.tile)
    v = prog.with_transformed(info, points).copy()
    flat: list[float] = []
    tile_sizes: list[int] = []
    par_level = 0
    unroll = 1
    vector = False
    log_trips: list[float] = []
    for j, (d, r) in enumerate(loops):
        point, trip = prog.trip(name, rows, d)
        log_trips.append(math.log2(max(1.0, trip)))
        key = (name, d)
        par = key in low.parallel
        vec = key in low.vector
        unr = low.unroll.get(key, 1)
        if j in shown:
            coeffs = [min(8.0, max(-8.0, r.coeffs[k])) for k in cols if k < len(r.coeffs)]
            flat.append(1.0)
            flat += coeffs + [0.0] * (MAX_DEPTH - len(coeffs))
            flat += (slog(r.const), float(r.tile > 0), _LOG2.get(r.tile, 0.0), float(point), float(par), float(vec),
                     _LOG2[unr], math.log2(1 + trip))
        if r.tile:
            tile_sizes.append(r.tile)
        if par and not par_level:
            par_level = j + 1
        unroll = max(unroll, unr)
        vector = vector or vec
    o = OFFSET["loops"]
    v[o : o + len(flat)] = flat
    sizes = [math.log2(s) for s in tile_sizes[:3]] + [0.0] * (3 - min(3, len(tile_sizes)))
    n_stmt = len(prog.pf.statements)
    tags = [
        sharing.get(name, 1) - prog.pf.original_outer_sharing.get(name, 1),
        math.log2(1 + tree.inner_sharing.get(name, 1)),
        slog(sum(abs(r.const) for r in points)),
        len(tile_sizes),
        *sizes,
        math.log2(unroll),
        float(par_level > 0),
        min(par_level, MAX_LOOPS) / MAX_LOOPS,
        float(vector),
        *(math.log2(1 + c) for c in counts),
        min(info.depth, MAX_DEPTH) / MAX_DEPTH,
        info.log_instances / 8,
        math.log2(n_stmt),
        prog.pf.index[name] / max(1, n_stmt - 1),
    ]
    o = OFFSET["tags"]
    v[o : o + N_TAGS] = tags
    # What a parallel loop costs and wins: how often its region is entered and how much work one entry does.
    entries = sum(log_trips[: par_level - 1]) if par_level else 0.0
    work = sum(log_trips[par_level - 1 :]) if par_level else 0.0
    o = OFFSET["cost"] + N_COST - 3
    v[o : o + 3] = (entries, work, log_trips[-1] if log_trips else 0.0)
    return v


def _unimodular(steps: tuple[T.Transformation, ...], rows: dict[str, list[Row]],
                pf: ProgramFeatures) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int]]]:
    """Per statement, the matrices of the interchanges, reversals and skews that act on it, in order,
    and how many of each (reversals, skews, interchanges).

    A step names a loop by (statement, depth) in the loop structure at its point of the sequence;
    that is mapped to the final structure by counting only non-tile loops (exact for the search's
    phase order, where every unimodular step precedes tiling)."""
    n_stmt = len(pf.statements)
    out = np.zeros((n_stmt, 1 + MAX_UNIMOD_STEPS, UNIMOD_DIM), dtype=np.float32)
    out[:, 0] = _EYE
    lengths = np.ones(n_stmt, dtype=np.int64)
    counts = [[0, 0, 0] for _ in range(n_stmt)]
    if not steps:
        return out, lengths, [(c[0], c[1], c[2]) for c in counts]
    point_dims = {s: [d for d, r in enumerate(rs) if r.loop and not r.tile] for s, rs in rows.items()}

    def members(stmt: str, depth: int) -> list[str]:
        dims = point_dims.get(stmt, [])
        if depth >= len(dims):
            return []
        d = dims[depth]
        sig = _signature(rows[stmt], d)
        return [s for s in rows if _signature(rows[s], d) == sig]

    for step in steps:
        if isinstance(step, T.Interchange):
            who, kind = members(step.stmt, min(step.first, step.second)), 2
        elif isinstance(step, T.Reverse):
            who, kind = members(step.stmt, step.depth), 0
        elif isinstance(step, T.Skew):
            who, kind = members(step.stmt, step.outer), 1
        else:
            continue
        for s in who:
            i = pf.index[s]
            counts[i][kind] += 1
            # Per statement: in a nest deeper than MAX_DEPTH a step on an undescribed loop has no matrix.
            matrix = step_matrix(step, pf.statements[i].depth)
            if matrix is not None and lengths[i] <= MAX_UNIMOD_STEPS:
                out[i, lengths[i]] = matrix
                lengths[i] += 1
    return out, lengths, [(c[0], c[1], c[2]) for c in counts]


@functools.lru_cache(maxsize=4096)
def step_matrix(step: T.Transformation, depth: int = MAX_DEPTH) -> np.ndarray | None:
    """The MAX_DEPTH x MAX_DEPTH matrix (flattened) of an interchange, reversal or skew on the loop
    depths of a statement `depth` loops deep, on its described loops (FEATURES.md, depth policy);
    None for a step outside the matrix."""
    # Up to MAX_DEPTH loops, depths map to themselves (a shallower sharer of the loop may lack one).
    position = {d: k for k, d in enumerate(described(max(depth, MAX_DEPTH), MAX_DEPTH))}
    m = np.eye(MAX_DEPTH, dtype=np.float32)
    if isinstance(step, T.Interchange):
        a, b = position.get(step.first), position.get(step.second)
        if a is None or b is None:
            return None
        m[[a, b]] = m[[b, a]]
    elif isinstance(step, T.Reverse):
        d = position.get(step.depth)
        if d is None:
            return None
        m[d, d] = -1
    elif isinstance(step, T.Skew):
        inner, outer = position.get(step.inner), position.get(step.outer)
        if inner is None or outer is None:
            return None
        m[inner, outer] = step.factor
    else:
        return None
    return m.ravel()


_EYE = np.eye(MAX_DEPTH, dtype=np.float32).ravel()


def _signature(rows: list[Row], d: int) -> tuple:
    return tuple("L" if r.loop else r.const for r in rows[: d + 1])
