"""Random legal transformation sequences, drawn from the search's own candidate generators
(the schedule sampler of the cost model's data generation and of the fuzzer)."""

from __future__ import annotations

import random

from looper.deps import Dependences
from looper.legality import check
from looper.schedule import Schedule, ScheduleError
from looper.search.candidates import SAMPLING_SPACE, Space, Steps, levels

TRIES = 12  # options tried at one level before it is left unchanged


def sample(start: Schedule, deps: Dependences, rng: random.Random, *, space: Space = SAMPLING_SPACE,
           keep: float = 0.6, outer_parallel: float = 0.0) -> Schedule:
    """Walk the search's levels once, taking at each level a random legal candidate with
    probability `keep` (else the unchanged child), like one random path through the beam search.

    With probability `outer_parallel` a parallel level takes the outermost legal loop it offers."""
    current = start
    for name, generate in levels(space):
        if rng.random() >= keep:
            continue
        options = list(generate(current, space, deps))
        rng.shuffle(options)
        # Parallel inner loops of several nests are mostly slow (costmodel/TRAINING.md): data meant to
        # teach multi-nest schedules needs more outer ones than a uniform pick gives. No extra draw at
        # 0, so the committed data sets' schedules come out the same.
        if name == "parallel" and outer_parallel > 0 and rng.random() < outer_parallel:
            options.sort(key=lambda steps: getattr(steps[0], "depth", 0))  # stable: nests at one depth stay shuffled
        if (taken := _first_legal(current, options, deps)) is not None:
            current = taken
    return current


def samples(start: Schedule, deps: Dependences, count: int, *, seed: int = 0, space: Space = SAMPLING_SPACE,
            attempts: int = 10, outer_parallel: float = 0.0) -> list[Schedule]:
    """Up to `count` distinct random legal schedules (the identity excluded)."""
    rng = random.Random(seed)
    found: dict[str, Schedule] = {}
    identity = start.fingerprint()
    for _ in range(count * attempts):
        s = sample(start, deps, rng, space=space, outer_parallel=outer_parallel)
        key = s.fingerprint()
        if key != identity and key not in found:
            found[key] = s
            if len(found) >= count:
                break
    return list(found.values())


def neighbour(schedule: Schedule, deps: Dependences, rng: random.Random, *,
              space: Space = SAMPLING_SPACE) -> Schedule | None:
    """A random legal schedule one decision away from `schedule` (one candidate of one level of the search),
    or None if no level offers one."""
    kinds = list(dict.fromkeys(levels(space)))  # each level once: a repeated level offers the same candidates
    rng.shuffle(kinds)
    for _, generate in kinds:
        options = list(generate(schedule, space, deps))
        rng.shuffle(options)
        if (found := _first_legal(schedule, options, deps, changed=True)) is not None:
            return found
    return None


def _first_legal(schedule: Schedule, options: list[Steps], deps: Dependences, *,
                 changed: bool = False) -> Schedule | None:
    """`schedule` extended by the first of a few options that applies legally (and, if `changed`, is a new
    schedule), or None: a few tries, since most levels offer legal choices early."""
    for steps in options[:TRIES]:
        candidate = schedule.then(*steps)
        try:
            if (not changed or candidate.fingerprint() != schedule.fingerprint()) and check(candidate, deps):
                return candidate
        except ScheduleError:
            continue
    return None
