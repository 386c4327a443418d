"""The searches by name (`--search`): each turns a region's dependences and the settings into a decision.

A strategy asks for the evaluators it needs (the cost model, measurement) from an `Evaluators` made by
the API layer: the cost model and the measuring evaluator build on packages the search does not import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from looper import transforms as T
from looper.counting import L2_BYTES
from looper.deps import Dependences
from looper.legality import check
from looper.progress import Progress
from looper.recipe import Options
from looper.schedule import Schedule, ScheduleError
from looper.search.beam import FUSION_WIDTH, Evaluator, SearchResult, beam_search
from looper.search.candidates import Space, levels
from looper.search.evaluators import RandomEvaluator
from looper.search.seeds import plain, search_starts
from looper.strides import rows_crossed

STANDIN = "analytical"  # the model named as the analytical stand-in (--model analytical), not a checkpoint


@dataclass(frozen=True)
class Settings:
    """How to search: one record for `looper.optimize`, looper-opt's flags and `looper bench`'s configurations."""

    search: str = "model"  # one of SEARCHES
    beam_width: int = 4
    fusion_width: int | None = FUSION_WIDTH  # the fusion levels' beam (None: beam_width); not for measure
    space: Space = Space()  # the transformations the search may use
    model: str | None = None  # cost-model checkpoint, "analytical" for the stand-in, None for the shipped model
    top_k: int = 8  # hybrid: the model's candidates that are timed
    seed: int = 0  # random: the scores' seed
    repeat: int = 5  # measure, hybrid: timed runs per candidate
    jobs: int = 2  # measure, hybrid: programs built at once

    def recipe(self) -> Options:
        """The post-processing the plain paths and the seeds may use (the space's --notile ... flags)."""
        return Options(tile=self.space.tile, parallel=self.space.parallel, vector=self.space.vector)


class Evaluators(Protocol):
    """The evaluators of one region that strategies may ask for, made by the API layer."""

    quiet: bool  # no progress bars

    def model(self) -> Evaluator:
        """The cost model named by the settings (or the analytical stand-in)."""
        ...

    def measure(self, progress: Callable[[int], None] | None = None) -> Evaluator:
        """Speedups measured by building and running the program (`progress` after each candidate)."""
        ...


@dataclass
class Decision:
    """A strategy's choice for one region and what it knows of it."""

    schedule: Schedule
    predicted_speedup: float | None = None
    measured_speedup: float | None = None
    search: SearchResult | None = None
    # hybrid: every candidate timed, as (origin, schedule, measured speedup); origin "model" (in the
    # model's order) or "pluto"
    timed: list[tuple[str, Schedule, float]] = field(default_factory=list)
    # model: the search's best, when the Pluto-class schedule was taken instead, and why
    overruled: Schedule | None = None
    because: str = ""


Strategy = Callable[[Schedule, Dependences, Settings, Evaluators], Decision]
STRATEGIES: dict[str, Strategy] = {}


def strategy(name: str) -> Callable[[Strategy], Strategy]:
    """Register a strategy under its `--search` name."""

    def register(function: Strategy) -> Strategy:
        STRATEGIES[name] = function
        return function

    return register


def _starts(identity: Schedule, deps: Dependences, settings: Settings) -> list[tuple[str, Schedule]]:
    """Every search but the plain paths starts from the original program and from the seeds."""
    return search_starts(identity, deps, settings.recipe())


@strategy("model")
def _model(identity: Schedule, deps: Dependences, settings: Settings, tools: Evaluators) -> Decision:
    """The beam search scored by the cost model (the default); a serial choice gives way to a parallel
    Pluto-class schedule, and so does a choice that walks large arrays across rows untiled."""
    model = tools.model()
    found = beam_search(identity, deps, model, beam_width=settings.beam_width,
                        fusion_width=settings.fusion_width, space=settings.space,
                        seeds=_starts(identity, deps, settings))
    # The model learned from small programs (TRAINING.md), none beyond the caches, and misjudges two
    # things at scale. Parallel loops, which rarely paid there: at LARGE its serial choices lost to the
    # Pluto-class path's parallel schedule on cholesky (1.01x against 2.03x), seidel-2d, syrk and trmm
    # (the recipe parallelizes only loops with enough work per entry, so its parallel loop is meant).
    # And strides across the rows of arrays past the caches, which cost nothing there: it predicted
    # trisolv's untiled column order 4.1x, measured 0.58x.
    pluto = None
    because = ""
    if settings.space.parallel and not found.best.lowered.parallel:
        pluto = plain(identity, deps, "pluto", settings.recipe())
        because = "the search's best has no parallel loop" if pluto.lowered.parallel else ""
    if not because and (crossed := rows_crossed(found.best, L2_BYTES)) > rows_crossed(identity, L2_BYTES):
        pluto = pluto or plain(identity, deps, "pluto", settings.recipe())
        if rows_crossed(pluto, L2_BYTES) < crossed:
            because = "the search's best walks large arrays across rows, untiled, more than the original"
    if pluto is not None and because:
        return Decision(pluto, predicted_speedup=model.score([pluto])[0], search=found, overruled=found.best,
                        because=because)
    best = without_idle_skews(found.best, deps)
    if best is not found.best:
        return Decision(best, predicted_speedup=model.score([best])[0], search=found)
    return Decision(found.best, predicted_speedup=found.score, search=found)


def without_idle_skews(schedule: Schedule, deps: Dependences) -> Schedule:
    """The schedule without its skews that reorder nothing. A skew of an inner loop by an outer one runs
    the instances in the same order until a later interchange or tile uses it; alone it only costs
    loop bounds and subscripts, yet the model scored symm's idle skew up (predicted 1.20x, measured
    0.80x at LARGE)."""
    for i, step in enumerate(schedule.steps):
        if not isinstance(step, T.Skew):
            continue
        candidate = Schedule(schedule.scop, schedule.steps[:i] + schedule.steps[i + 1:])
        try:
            idle = candidate.precedes().is_equal(schedule.precedes()) and bool(check(candidate, deps))
        except ScheduleError:
            idle = False
        if idle:
            return without_idle_skews(candidate, deps)
    return schedule


@strategy("measure")
def _measure(identity: Schedule, deps: Dependences, settings: Settings, tools: Evaluators) -> Decision:
    """The beam search scored by measurement (each level's candidates built and timed together)."""
    name = identity.scop.name
    with Progress(len(levels(settings.space)), f"measuring {name}", enabled=False if tools.quiet else None) as bar:
        found = beam_search(identity, deps, tools.measure(), beam_width=settings.beam_width, space=settings.space,
                            seeds=_starts(identity, deps, settings),
                            progress=lambda phase, i, n: bar.advance(label=f"measuring {name}: {phase}"))
    return Decision(found.best, measured_speedup=found.score, search=found)


@strategy("hybrid")
def _hybrid(identity: Schedule, deps: Dependences, settings: Settings, tools: Evaluators) -> Decision:
    """The model's search, then its `top_k` favourites and the Pluto-class schedule timed; the fastest
    wins, or the original if none is faster."""
    decision = _model(identity, deps, settings, tools)
    assert decision.search is not None
    top = _distinct([s for s, _ in sorted(decision.search.explored, key=lambda item: -item[1])], settings.top_k)
    origins = ["model"] * len(top)
    pluto = plain(identity, deps, "pluto", settings.recipe())
    if pluto.fingerprint() not in {s.fingerprint() for s in top}:
        top.append(pluto)
        origins.append("pluto")
    name = identity.scop.name
    with Progress(len(top), f"measuring top {len(top)} of {name}", enabled=False if tools.quiet else None) as bar:
        speedups = tools.measure(progress=bar.advance).score(top)
    decision.timed = list(zip(origins, top, speedups, strict=True))
    best = max(range(len(top)), key=lambda i: (speedups[i], -i))
    if speedups[best] > 1.0:
        decision.schedule, decision.measured_speedup = top[best], speedups[best]
    else:  # nothing measured beats the original: keep it
        decision.schedule, decision.measured_speedup = identity, 1.0
    return decision


@strategy("pluto")
def _pluto(identity: Schedule, deps: Dependences, settings: Settings, tools: Evaluators) -> Decision:
    """The Pluto-class path: Pluto's schedule, finished by the recipe."""
    return Decision(plain(identity, deps, "pluto", settings.recipe()))


@strategy("isl")
def _isl(identity: Schedule, deps: Dependences, settings: Settings, tools: Evaluators) -> Decision:
    """isl's scheduler, finished by the recipe."""
    return Decision(plain(identity, deps, "isl", settings.recipe()))


@strategy("random")
def _random(identity: Schedule, deps: Dependences, settings: Settings, tools: Evaluators) -> Decision:
    """The beam search scored by reproducible random numbers (a baseline, and a fuzzer of the space)."""
    found = beam_search(identity, deps, RandomEvaluator(settings.seed), beam_width=settings.beam_width,
                        fusion_width=settings.fusion_width, space=settings.space,
                        seeds=_starts(identity, deps, settings))
    return Decision(found.best, search=found)


@strategy("none")
def _identity(identity: Schedule, deps: Dependences, settings: Settings, tools: Evaluators) -> Decision:
    """The original schedule."""
    return Decision(identity)


def _distinct(schedules: Sequence[Schedule], count: int) -> list[Schedule]:
    """The first `count` schedules with distinct effects."""
    found: list[Schedule] = []
    seen: set[str] = set()
    for s in schedules:
        if s.fingerprint() not in seen and len(found) < count:
            seen.add(s.fingerprint())
            found.append(s)
    return found


SEARCHES = tuple(STRATEGIES)
