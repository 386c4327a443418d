"""The loop tree of a lowered schedule, with the features of each loop."""

from __future__ import annotations

import math

import numpy as np

from costmodel.features.layout import _LOG2, LOOP_DIM, MAX_LOOPS, slog
from costmodel.features.schedule import Row, _Program
from looper.schedule import Lowered


class _Tree:
    """The loop tree of the lowered schedule (2d+1 rows) with per-loop features."""

    def __init__(self, rows: dict[str, list[Row]], prog: _Program) -> None:
        self.rows, self.prog, self.pf = rows, prog, prog.pf
        self.n_stmt = len(self.pf.statements)
        self.n_dims = len(next(iter(rows.values()))) if rows else 0
        self.children: list[list[int]] = []
        self.feats: list[list[float]] = []
        self.heights: list[int] = []
        self.loops: list[tuple[tuple[str, ...], int] | None] = []  # (members, dimension); None for the root
        self.inner_sharing: dict[str, int] = {}
        kids = self._build([s.name for s in self.pf.statements], 0, 0)
        self._finish(kids, None, 0)
        self.base = np.array(self.feats, dtype=np.float32).reshape(len(self.feats), LOOP_DIM)

    def loop_features(self, low: Lowered) -> np.ndarray:
        """The loop features with the schedule's parallel, vector and unroll marks (columns 0-2)."""
        if not (low.parallel or low.vector or low.unroll):
            return self.base
        out = self.base.copy()
        for j, loop in enumerate(self.loops):
            if loop is None:
                continue
            members, d = loop
            out[j, 0] = any((s, d) in low.parallel for s in members)
            out[j, 1] = any((s, d) in low.vector for s in members)
            out[j, 2] = _LOG2[low.unroll.get((members[0], d), 1)]
        return out

    def _build(self, stmts: list[str], d: int, level: int) -> list[int]:
        if d >= self.n_dims:
            return [self.pf.index[s] for s in stmts]
        groups: dict[tuple, list[str]] = {}
        for s in stmts:
            r = self.rows[s][d]
            groups.setdefault((1, 0.0) if r.loop else (0, r.const), []).append(s)
        out: list[int] = []
        for key in sorted(groups):
            members = groups[key]
            if key[0] == 0:
                out += self._build(members, d + 1, level)
            else:
                kids = self._build(members, d + 1, level + 1)
                out.append(self._finish(kids, (members, d), level))
        return out

    def _finish(self, kids: list[int], loop: tuple[list[str], int] | None, level: int) -> int:
        n_stmt = self.n_stmt
        height = 1 + max((0 if k < n_stmt else self.heights[k - n_stmt] for k in kids), default=0)
        child_loops = sum(1 for k in kids if k >= n_stmt)
        if loop is None:
            f = [0.0] * 7 + [math.log2(1 + n_stmt)] + [0.0] * 5 + [1.0]
        else:
            members, d = loop
            rep = members[0]
            row = self.rows[rep][d]
            point, trip = self.prog.trip(rep, self.rows[rep], d)
            nz = [c for c in row.coeffs if c]
            f = [
                0.0,  # parallel, vector, unroll: marks, filled per schedule by loop_features()
                0.0,
                0.0,
                float(row.tile > 0),
                math.log2(row.tile) if row.tile else 0.0,
                float(point),
                math.log2(1 + trip),
                math.log2(1 + len(members)),
                min(level, MAX_LOOPS - 1) / MAX_LOOPS,  # deeper loops read as the deepest a 6-deep tiled nest has
                float(child_loops == 0),
                float(bool(nz) and sum(nz) < 0),
                float(len(nz) > 1),
                slog(row.const),
                0.0,
            ]
            if child_loops == 0:
                for s in members:
                    self.inner_sharing[s] = len(members)
        f += [math.log2(1 + len(kids)), min(height, MAX_LOOPS + 1) / MAX_LOOPS]  # likewise
        self.children.append(kids)
        self.feats.append(f)
        self.heights.append(height)
        self.loops.append((tuple(loop[0]), loop[1]) if loop is not None else None)
        # Children are built before their parent: a node's id is its creation index.
        return n_stmt + len(self.children) - 1
