"""Which schedules of a program a data set measures: random walks of the search's levels, or what the
search visits (the original, the Pluto-class schedules, the beam's favourites, their neighbours and a
random minority). Each chosen schedule carries its origin, which the data set stores."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from costmodel.dataset import frontend_loader
from costmodel.inference import load_evaluator
from costmodel.programs import ProgramSpec
from looper.deps import Dependences, compute_dependences
from looper.schedule import Schedule
from looper.search.beam import FUSION_WIDTH, SearchResult, beam_search
from looper.search.candidates import SAMPLING_SPACE
from looper.search.sampler import neighbour, samples
from looper.search.seeds import plain, search_starts
from looper.search.strategies import without_idle_skews

FAVOURITES = 8  # the beam's best-scored schedules measured with --visited
NEIGHBOURED = 4  # of them, the first few whose one-step neighbours are measured
NEIGHBOURS = 2  # neighbours of each
RANDOM_SHARE = 0.2  # the random minority's share of a program's schedules with --visited


@dataclass(frozen=True)
class Sampling:
    """Which schedules of a program are measured (`looper dataset generate`'s sampling options)."""

    beam: int = 0  # first the K schedules the shipped cost model ranks highest in a beam search
    nest_steps: int = 1  # random walks take up to K parallel, tile, unroll and vector steps each
    outer_parallel: float = 0.0  # the chance that a parallel step takes the outermost legal loop
    visited: bool = False  # what looper-opt's default search visits, then a random minority
    model: str | None = None  # the checkpoint whose beam search `beam` and `visited` follow (None: the shipped one)


Chosen = tuple[str, Schedule]  # (origin, schedule): "original", "pluto", "seed", "beam", "neighbour", "random"


def choose_schedules(spec: ProgramSpec, count: int, skip: set[str], seed: int,
                     sampling: Sampling = Sampling()) -> list[Chosen]:
    """Up to `count` new legal schedules of a program, none of whose fingerprints is in `skip`.

    By default random walks of the search's levels with every skew (`SAMPLING_SPACE`, `sampling.nest_steps`),
    after `sampling.beam` favourites of the model's beam search; with `sampling.visited` what the
    default search visits first (`visited`), and random walks for the last `RANDOM_SHARE`."""
    scop = frontend_loader(spec.source, spec.defines)
    deps = compute_dependences(scop)
    start = Schedule(scop)
    if sampling.visited:
        first = visited(start, deps, seed, sampling.model)
        reserve = max(2, round(count * RANDOM_SHARE))
    else:
        first = [("beam", s) for s in _favourites(_search(start, deps, sampling.model), sampling.beam)] \
            if sampling.beam else []
        reserve = 0
    chosen = _distinct(first, skip)[:count - reserve]
    taken = skip | {s.fingerprint() for _, s in chosen}
    space = replace(SAMPLING_SPACE, nest_steps=sampling.nest_steps)
    randoms = samples(start, deps, count + len(taken), seed=seed, space=space, outer_parallel=sampling.outer_parallel)
    chosen += [("random", s) for s in randoms if s.fingerprint() not in taken]
    if sampling.visited and len(chosen) < count:  # too few random walks: more of what the search visits
        chosen += _distinct(first, skip | {s.fingerprint() for _, s in chosen})
    return chosen[:count]


def visited(start: Schedule, deps: Dependences, seed: int, model: str | None = None) -> list[Chosen]:
    """What looper-opt's default search visits, most telling first: the original; the beam's favourites
    (with the checkpoint `model`, by default the shipped one, from the same starts as looper-opt) and the
    schedule it would emit; the Pluto-class schedule; one-step neighbours of the first favourites; every
    seed of the search.

    The search lives at the top of the model's list: measuring its favourites and their neighbours
    teaches where the model is wrong there, which random walks (mostly losers it already orders) do not.
    Deterministic for a model and a seed, so that a resumed run picks the same schedules."""
    starts = search_starts(start, deps)  # once: the Pluto-class scheduler is the slow part of choosing
    result = _search(start, deps, model, starts)
    favourites = _favourites(result, FAVOURITES)
    rng = random.Random(f"neighbours-{seed}")
    near = [n for fav in favourites[:NEIGHBOURED] for _ in range(NEIGHBOURS)
            if (n := neighbour(fav, deps, rng)) is not None]
    return [("original", start), *(("beam", s) for s in favourites),
            ("beam", without_idle_skews(result.best, deps)), ("pluto", plain(start, deps, "pluto")),
            *(("neighbour", s) for s in near), *(("seed", s) for _, s in starts)]


def _search(start: Schedule, deps: Dependences, model: str | None,
            seeds: Sequence[tuple[str, Schedule]] = ()) -> SearchResult:
    """The beam search with the cost model at `model` (None: the shipped one), from `start` and `seeds`
    (looper-opt's `search_starts`)."""
    evaluator = load_evaluator(model)
    if evaluator is None:
        where = model or "costmodel/pretrained/model.pt"
        raise RuntimeError(f"--beam and --visited need a cost model; none at {where}")
    # The fusion levels as wide as looper-opt's search keeps them, so these are the schedules it visits.
    return beam_search(start, deps, evaluator, fusion_width=FUSION_WIDTH, seeds=seeds)


def _favourites(result: SearchResult, count: int) -> list[Schedule]:
    """The `count` best-scored distinct schedules a search explored, the unchanged start excepted.

    LOOPer drew its data from exploration: measuring what the model favours teaches the next model
    where it is wrong, which random samples rarely show."""
    start = result.explored[0][0].fingerprint()
    ranked = sorted(result.explored, key=lambda item: -item[1])
    return [s for s, _ in ranked if s.fingerprint() != start][:count]


def _distinct(chosen: Iterable[Chosen], skip: set[str]) -> list[Chosen]:
    """The first of each fingerprint, none in `skip`."""
    seen = set(skip)
    out = []
    for origin, schedule in chosen:
        key = schedule.fingerprint()
        if key not in seen:
            seen.add(key)
            out.append((origin, schedule))
    return out
