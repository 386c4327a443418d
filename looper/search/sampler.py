"""Random legal transformation sequences, drawn from the search's own candidate generators
(the schedule sampler of the cost model's data generation and of the fuzzer)."""

from __future__ import annotations

import random

from looper.deps import Dependences
from looper.legality import check
from looper.schedule import Schedule, ScheduleError
from looper.search.candidates import Space, levels


def sample(start: Schedule, deps: Dependences, rng: random.Random, *, space: Space = Space(),
           keep: float = 0.6) -> Schedule:
    """Walk the search's levels once, taking at each level a random legal candidate with
    probability `keep` (else the unchanged child), like one random path through the beam search."""
    current = start
    for _, generate in levels(space):
        if rng.random() >= keep:
            continue
        options = list(generate(current, space))
        rng.shuffle(options)
        for steps in options[:12]:  # a few tries: most levels have legal choices early
            candidate = current.then(*steps)
            try:
                if check(candidate, deps):
                    current = candidate
                    break
            except ScheduleError:
                continue
    return current


def samples(start: Schedule, deps: Dependences, count: int, *, seed: int = 0, space: Space = Space(),
            attempts: int = 10) -> list[Schedule]:
    """Up to `count` distinct random legal schedules (the identity excluded)."""
    rng = random.Random(seed)
    found: dict[str, Schedule] = {}
    identity = start.fingerprint()
    for _ in range(count * attempts):
        s = sample(start, deps, rng, space=space)
        key = s.fingerprint()
        if key != identity and key not in found:
            found[key] = s
            if len(found) >= count:
                break
    return list(found.values())
