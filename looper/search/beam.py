"""Beam search over the candidate levels, scoring each level's candidates in one batch."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from looper import transforms as T
from looper.deps import Dependences
from looper.legality import check
from looper.schedule import Schedule, ScheduleError
from looper.search.candidates import Space, levels

# How many loop structures the fusion levels of a model-guided search keep. A distribution often
# scores worse than the fused loop until the interchange it enables (2mm's j/k order needs its
# update statement distributed first), so a beam as narrow as the later levels' drops it; there are
# rarely more than a few dozen structures, and a cost model scores them in one batch.
FUSION_WIDTH = 64


class Evaluator(Protocol):
    """Scores schedules; higher is better (a predicted or measured speedup)."""

    def score(self, schedules: Sequence[Schedule]) -> list[float]: ...


@dataclass
class SearchStats:
    """What the search did: candidates generated, legal and scored, and time per phase."""

    generated: int = 0
    duplicates: int = 0
    not_applicable: int = 0
    illegal: int = 0
    legal: int = 0
    scored: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def add_time(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds


@dataclass
class SearchResult:
    """The best schedule, the final beam with scores, and statistics."""

    best: Schedule
    score: float
    beam: list[tuple[Schedule, float]]
    stats: SearchStats
    explored: list[tuple[Schedule, float]]  # every scored candidate, in scoring order
    origins: dict[str, str] = field(default_factory=dict)  # fingerprint -> the start it grew from

    def origin(self, schedule: Schedule) -> str:
        """Which start `schedule` grew from ("original", or a seed's origin such as "pluto-smart")."""
        return self.origins.get(schedule.fingerprint(), "original")


def beam_search(
    start: Schedule,
    deps: Dependences,
    evaluator: Evaluator,
    *,
    beam_width: int = 4,
    fusion_width: int | None = None,
    space: Space = Space(),
    progress: Callable[[str, int, int], None] | None = None,
    seeds: Sequence[tuple[str, Schedule]] = (),
) -> SearchResult:
    """LOOPer's beam search: at each level extend every beam member by one decision (or none),
    drop illegal and duplicate candidates, score the rest in one batch, keep the best `beam_width`
    (`fusion_width` at the fusion levels, when given).

    `seeds` are more starts, each named by its origin (legal schedules of the same Scop, e.g. Pluto-class
    reschedules): the first beam holds them all, and every later one keeps the best member grown from
    each of them besides the best `beam_width`, so that no start is dropped before the later levels
    (tiling, parallelization) have made it what it is meant to become."""
    stats = SearchStats()
    starts = [("original", start)]
    seen = {start.fingerprint()}
    for origin, schedule in seeds:
        if schedule.fingerprint() not in seen:
            seen.add(schedule.fingerprint())
            starts.append((origin, schedule))
    origins = {s.fingerprint(): origin for origin, s in starts}
    t0 = time.perf_counter()
    start_scores = evaluator.score([s for _, s in starts])
    stats.scored += len(starts)
    stats.add_time("scoring", time.perf_counter() - t0)
    beam: list[tuple[Schedule, float]] = [(s, score) for (_, s), score in zip(starts, start_scores, strict=True)]
    explored = list(beam)
    protected = list(dict.fromkeys(origin for origin, _ in starts[1:]))  # in the seeds' order
    plan = levels(space)
    for index, (phase, generate) in enumerate(plan):
        t0 = time.perf_counter()
        fresh: list[Schedule] = []
        for parent, _ in beam:
            rescheduled = bool(parent.steps) and isinstance(parent.steps[0], T.Reschedule)
            if phase in ("fusion", "unimodular") and (parent.lowered.tiled or rescheduled):
                # A seed keeps its loop structure: one finished by the recipe is tiled already (structure
                # comes before tiling), a rescheduled one has it from its scheduler (fusion policy,
                # hyperplanes). The later levels refine it (tile sizes, parallel loop, unrolling,
                # vectorization): interchanges of a seed's loops were the model's worst guesses
                # (gesummv's stride-N order, predicted 5x, measured 0.9x at LARGE).
                continue
            for steps in generate(parent, space, deps):
                candidate = parent.then(*steps)
                stats.generated += 1
                try:
                    key = candidate.fingerprint()
                except ScheduleError:
                    stats.not_applicable += 1
                    continue
                if key in seen:
                    stats.duplicates += 1
                    continue
                seen.add(key)
                if not check(candidate, deps):
                    stats.illegal += 1
                    continue
                stats.legal += 1
                origins[key] = origins[parent.fingerprint()]
                fresh.append(candidate)
        stats.add_time(phase, time.perf_counter() - t0)
        t0 = time.perf_counter()
        scores = evaluator.score(fresh) if fresh else []
        stats.scored += len(fresh)
        stats.add_time("scoring", time.perf_counter() - t0)
        scored = list(zip(fresh, scores, strict=True))
        explored += scored
        # The unchanged children (the beam itself) compete with the new candidates; ties keep
        # the earlier (simpler) schedule, so the result is deterministic.
        pool = beam + scored
        order = sorted(range(len(pool)), key=lambda i: (-pool[i][1], i))
        width = fusion_width if phase == "fusion" and fusion_width is not None else beam_width
        ranked = [pool[i] for i in order]
        beam = ranked[:width]
        kept = {origins[s.fingerprint()] for s, _ in beam}
        for origin in (o for o in protected if o not in kept):
            beam.append(next(item for item in ranked if origins[item[0].fingerprint()] == origin))
        if progress:
            progress(phase, index + 1, len(plan))
    best, score = beam[0]
    return SearchResult(best, score, beam, stats, explored, origins)
