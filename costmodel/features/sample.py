"""`Sample`, the features of one (program, schedule), and the `Featurizer` that computes them."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from costmodel.features.computation import _computation, _unimodular
from costmodel.features.layout import COMP_DIM
from costmodel.features.program import ProgramFeatures
from costmodel.features.schedule import _outer_sharing, _Program
from costmodel.features.tree import _Tree
from looper import transforms as T
from looper.ir import Scop
from looper.schedule import Schedule


@dataclass
class Sample:
    """The features of one (program, schedule): computations, unimodular steps and the loop tree.

    Node ids of `children`: 0..S-1 are computations (statements), S.. are loops; the last loop is the
    root (the whole program). `origin` is the program's original schedule (None for that one itself):
    an anchored model predicts the difference between a schedule and its origin."""

    program: ProgramFeatures
    comps: np.ndarray  # [S, COMP_DIM] float32
    unimod: np.ndarray  # [S, 1 + MAX_UNIMOD_STEPS, UNIMOD_DIM] float32
    unimod_len: np.ndarray  # [S] int64, >= 1 (the leading identity)
    loops: np.ndarray  # [L, LOOP_DIM] float32 (root last)
    children: list[list[int]]
    heights: list[int]  # per loop, 1 + the largest height of its children (computations have 0)
    origin: Sample | None = None


class Featurizer:
    """Computes `Sample`s; caches program features and parsed rows per Scop (bounded LRU)."""

    # A program's entry keeps the features of every schedule a search scored (tens of MB after a beam
    # search at the use scale): a data worker's shipped-model featurizer holding 64 programs grew to
    # 3.8 GB. Searches and data sets go program by program, so a few entries are enough.
    def __init__(self, max_programs: int = 4) -> None:
        self.max_programs = max_programs
        self._programs: OrderedDict[int, _Program] = OrderedDict()

    def program(self, scop: Scop) -> ProgramFeatures:
        """The cached program features of `scop`."""
        return self._entry(scop).pf

    def origin(self, scop: Scop) -> Sample:
        """The features of `scop`'s original schedule (cached)."""
        return self._origin(self._entry(scop))

    def _origin(self, prog: _Program) -> Sample:
        if not isinstance(prog.origin, Sample):  # None until the first use
            prog.origin = self._features(Schedule(prog.scop), prog)
        return prog.origin

    def _entry(self, scop: Scop) -> _Program:
        key = id(scop)
        entry = self._programs.get(key)
        if entry is None or entry.scop is not scop:  # the Scop is held, so its id is not reused meanwhile
            entry = self._programs[key] = _Program(scop)
            while len(self._programs) > self.max_programs:
                self._programs.popitem(last=False)
        else:
            self._programs.move_to_end(key)
        return entry

    def schedules(self, schedules: Sequence[Schedule]) -> list[Sample]:
        """Features of many schedules."""
        return [self.schedule(s) for s in schedules]

    def schedule(self, schedule: Schedule) -> Sample:
        """Features of one schedule (its program's features come from the cache), linked to its origin."""
        prog = self._entry(schedule.scop)
        origin = self._origin(prog)
        return self._features(schedule, prog, origin) if schedule.steps else origin

    def _features(self, schedule: Schedule, prog: _Program, origin: Sample | None = None) -> Sample:
        pf = prog.pf
        low = schedule.lowered
        rows, texts = prog.parse(low)
        n_stmt = len(pf.statements)
        steps = tuple(t for t in schedule.steps if isinstance(t, T.UNIMODULAR))
        skey = (tuple(texts.values()), steps)
        structure = prog.structures.get(skey)
        if structure is None:
            structure = prog.structures[skey] = (_Tree(rows, prog), _outer_sharing(rows),
                                                 *_unimodular(steps, rows, pf))
        tree, sharing, unimod, unimod_len, counts = structure
        comps = np.empty((n_stmt, COMP_DIM), dtype=np.float32)
        marks: dict[str, list[tuple[str, int, int | None]]] = {}  # statement -> (kind, depth, unroll factor)
        for kind, keys in (("p", low.parallel), ("v", low.vector)):
            for s, d in keys:
                marks.setdefault(s, []).append((kind, d, None))
        for (s, d), factor in low.unroll.items():
            marks.setdefault(s, []).append(("u", d, factor))
        for i, info in enumerate(pf.statements):
            name = info.name
            # Everything _computation reads, so equal keys mean equal vectors.
            key = (name, texts[name], tuple(sorted(marks.get(name, ()))), sharing.get(name, 1),
                   tree.inner_sharing.get(name, 1), counts[i])
            vector = prog.computations.get(key)
            if vector is None:
                vector = prog.computations[key] = _computation(info, rows, tree, low, sharing, prog, counts[i])
            comps[i] = vector
        return Sample(pf, comps, unimod, unimod_len, tree.loop_features(low), tree.children, tree.heights,
                      origin)
