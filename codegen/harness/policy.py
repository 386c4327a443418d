"""The timing policy, in one place: interleaved rounds, adaptive repetition, one statistic.

Every timer of a batch runs once per round; the baselines run in every round, first, so that a
slow moment of the machine touches them and the variants alike. A variant stops early when it is
clearly slower than the best timer so far (its label only has to say "slow"), and one within
`close` of the best gets extra runs (its order against its neighbours is what a search needs).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

OK, BUILD_ERROR, RUN_ERROR, TIMEOUT = "ok", "build_error", "run_error", "timeout"


def trimmed_median(times: Sequence[float]) -> float:
    """Median after dropping runs slower than 1.5x the median of the fastest half (the old labels')."""
    ordered = sorted(times)
    reference = statistics.median(ordered[: max(1, len(ordered) // 2)])
    return statistics.median([t for t in ordered if t <= 1.5 * reference] or ordered)


def fast_half_mean(times: Sequence[float]) -> float:
    """Mean of the fastest half of the runs (rounded up: 5 runs -> the fastest 3, 2 -> the faster)."""
    fastest = sorted(times)[: (len(times) + 1) // 2]
    return sum(fastest) / len(fastest)


# The statistic of every label, search decision and benchmark cell. Chosen by measurement: over 13
# pairs of labellings of the same 1,165 schedules (minutes to seven hours apart), the mean of the
# fastest half ordered pairs >10% apart alike more often than the median in 11 (equal in one), and
# gave the higher per-program Spearman in 9 (mean 0.811 against 0.789, the minimum's 0.804;
# `benchmarks/label_statistics.py`). A small gain: what disagrees is mostly schedules that tie.
# A machine's interference only ever slows a run down, so the fast half is the undisturbed time, and
# averaging it keeps more of the runs than the minimum does. The others are kept for comparing.
STATISTICS: dict[str, Callable[[Sequence[float]], float]] = {
    "fast_half_mean": fast_half_mean, "median": statistics.median, "min": min, "trimmed_median": trimmed_median}
STATISTIC = "fast_half_mean"
DESCRIPTIONS = {"fast_half_mean": "mean of the fastest half", "median": "median", "min": "minimum",
                "trimmed_median": "trimmed median"}  # as reports name them


def summarize(times: Sequence[float], statistic: str = STATISTIC) -> float:
    """A timer's runs summarized by a statistic (by default the one of every label, decision and cell)."""
    return STATISTICS[statistic](times)


def spread(times: Sequence[float]) -> float:
    """Interquartile range over the median (0 for fewer than four runs: no quartiles to speak of)."""
    if len(times) < 4:
        return 0.0
    q1, q2, q3 = statistics.quantiles(times, n=4, method="inclusive")
    return (q3 - q1) / q2 if q2 > 0 else 0.0


class RunFailed(Exception):
    """A timed run did not give a time: `status` is RUN_ERROR (crash, exit status) or TIMEOUT."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Policy:
    """How many runs each timer gets and which statistic summarizes them."""

    runs: int = 5  # runs of a variant that is neither clearly slow nor close to the best
    min_runs: int = 2  # every variant gets at least this many (but see `hopeless`)
    max_runs: int = 10  # a variant within `close` of the best gets up to this many
    slow: float = 2.0  # after `min_runs`, a variant over slow x the best stops
    hopeless: float = 10.0  # after one run, a variant over hopeless x the best stops
    close: float = 1.1
    statistic: str = STATISTIC

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS:
            raise ValueError(f"unknown statistic {self.statistic!r}; known: {', '.join(STATISTICS)}")
        if not 1 <= self.min_runs <= self.runs <= self.max_runs:
            raise ValueError("runs must satisfy 1 <= min_runs <= runs <= max_runs")

    @classmethod
    def from_repeat(cls, repeat: int) -> Policy:
        """`--repeat N`: N runs of an ordinary variant, at least 2 (N if fewer), up to 2N for close ones."""
        return cls(runs=repeat, min_runs=min(2, repeat), max_runs=2 * repeat)

    def summarize(self, times: Sequence[float]) -> float:
        """The statistic of a timer's runs."""
        return summarize(times, self.statistic)


@dataclass
class Timed:
    """What one timer gave: a status, its runs in seconds, and its label under the policy's statistic."""

    status: str = OK
    times: list[float] = field(default_factory=list)
    message: str = ""
    statistic: str = STATISTIC

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def seconds(self) -> float | None:
        """The statistic of the runs (None if the timer failed or never ran)."""
        return summarize(self.times, self.statistic) if self.ok and self.times else None

    @property
    def spread(self) -> float:
        return spread(self.times)

    def fail(self, status: str, message: str) -> None:
        self.status, self.message = status, message


def measure(timers: Sequence[Callable[[], float]], policy: Policy, *, baselines: Collection[int] = (0,),
            done: Callable[[int], None] | None = None, between: Callable[[], None] | None = None) -> list[Timed]:
    """Time every timer under the policy; `baselines` run in every round and get at least `policy.runs`.

    A timer raises RunFailed when its run fails: it stops there with that status. If a baseline
    fails, every timer still running fails with it (nothing is comparable any more). `done(i)` is
    called once for each non-baseline timer as it finishes, `between()` between two rounds."""
    results = [Timed(statistic=policy.statistic) for _ in timers]
    bases = sorted(set(baselines))
    active = [i for i in range(len(timers)) if i not in bases]
    round_ = 0

    def finish(i: int) -> None:
        active.remove(i)
        if done:
            done(i)

    while active or any(len(results[b].times) < policy.runs for b in bases if results[b].ok):
        # Rotate the variants' order from round to round: no variant always runs right after the baseline.
        shift = round_ % len(active) if active else 0
        order = [*bases, *active[shift:], *active[:shift]]
        if round_ and between:
            between()
        round_ += 1
        for i in order:
            if not results[i].ok or (i not in bases and i not in active):
                continue
            try:
                results[i].times.append(timers[i]())
            except RunFailed as exc:
                results[i].fail(exc.status, exc.message)
                if i in bases:
                    for j in list(active):
                        results[j].fail(exc.status, f"the baseline failed: {exc.message}")
                        finish(j)
                    return results
                finish(i)
        best = min((s for r in results if (s := r.seconds) is not None), default=None)
        for i in list(active):
            if best is not None and _finished(results[i], best, policy):
                finish(i)
    return results


def _finished(r: Timed, best: float, policy: Policy) -> bool:
    """Whether a variant has had enough runs, given the best statistic so far."""
    n, s = len(r.times), r.seconds
    assert s is not None
    return ((s > policy.hopeless * best) or (n >= policy.min_runs and s > policy.slow * best)
            or (n >= policy.runs and s > policy.close * best) or n >= policy.max_runs)
