"""Candidate generation in LOOPer's phases: fusion, unimodular steps, then parallelization,
tiling, unrolling and vectorization. Each generator returns the step sequences that extend a
schedule by one decision of its phase; the search adds the unchanged child itself."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from looper import transforms as T
from looper.deps import Dependences
from looper.legality import permutable, skew_may_help
from looper.schedule import Lowered, Schedule
from looper.strides import stride_one_order

Steps = tuple[T.Transformation, ...]


@dataclass(frozen=True)
class Space:
    """Which transformations the search may use (the --notile, --noparallel, ... flags)."""

    fusion: bool = True
    unimodular: bool = True
    tile: bool = True
    parallel: bool = True
    unroll: bool = True
    vector: bool = True
    unimodular_steps: int = 4  # per nest, as LOOPer
    fusion_steps: int = 2
    # Parallelization, tiling, unrolling and vectorization levels each repeat this often; a step marks
    # only loops no earlier step of its kind marked, so with 3 a program of several loop nests can have
    # up to three of them parallelized, tiled, ... as Pluto and Polly would. 1 (one of each per program)
    # stays the default while the cost model has been trained on such schedules only (BENCHMARKS.md).
    nest_steps: int = 1
    tile_sizes: tuple[int, ...] = T.TILE_SIZES
    cube_sizes_3d: bool = True  # 3D tiles: only equal sizes in every dimension, plus a few mixes
    skew_factors: tuple[int, ...] = (1,)
    # Skew a band only if it is not permutable or has no parallel loop (legality.skew_may_help), as
    # Pluto does; elsewhere a skew adds index arithmetic and gains nothing, yet the cost model often
    # favoured such skews (CHANGELOG.md, 2026-11-24). The data sampler and the fuzzer
    # keep every skew (SAMPLING_SPACE).
    needed_skews_only: bool = True
    # Reverse a loop only inside a band that is not permutable (legality.permutable), where flipping
    # a direction may make it so; elsewhere a reversal only walks memory backwards, and the cost model
    # too often liked it (CHANGELOG.md, 2026-11-24: LARGE 1.76x against 1.68x for reversals anywhere).
    # The data sampler keeps every reversal.
    needed_reversals_only: bool = True
    # Skew a pair of band positions (statement, outer, inner) once per sequence: skewing it again by 1
    # is a skew by 2, 3, ..., factors the space does not offer (skew_factors), which the cost model
    # liked for no measured reason (symm: one skew four times, predicted 1.32x, measured 0.80x at
    # LARGE). An interchange in between makes the pair other loops; those are not skewed again either.
    # The data sampler keeps repeated skews.
    skew_pairs_once: bool = True
    unroll_factors: tuple[int, ...] = T.UNROLL_FACTORS
    max_shift: int = 2


# The space random schedules are drawn from (cost-model data, fuzzing): every skew and reversal, so
# that the documented commands of the committed data sets keep drawing the schedules they drew.
SAMPLING_SPACE = Space(needed_skews_only=False, needed_reversals_only=False, skew_pairs_once=False)


@dataclass(frozen=True)
class Band:
    """A perfect band: `length` loops from `depth` around `stmt`, enclosing `members`."""

    stmt: str
    depth: int
    length: int
    members: tuple[str, ...]


def bands(low: Lowered) -> list[Band]:
    """Every maximal perfect band (each start depth of each statement), without duplicates."""
    found: dict[tuple, Band] = {}
    for s in low.rows:
        dims = low.loop_dims(s)
        for d in range(len(dims)):
            members = tuple(low.members(s, dims[d]))
            n = 1
            while d + n < len(dims) and tuple(low.members(s, dims[d + n])) == members:
                n += 1
            found.setdefault((members, dims[d]), Band(members[0], low.depth_of(members[0], dims[d]), n, members))
    return list(found.values())


def loops(low: Lowered) -> list[tuple[str, int, tuple[str, ...], bool]]:
    """Every loop once: (representative statement, depth, members, innermost?)."""
    seen: set[tuple] = set()
    result = []
    for s in low.rows:
        for depth, d in enumerate(low.loop_dims(s)):
            members = tuple(low.members(s, d))
            if (members, d) in seen:
                continue
            seen.add((members, d))
            innermost = not any(low.is_loop(m, e) for m in members for e in range(d + 1, low.n_dims))
            result.append((members[0], depth, members, innermost))
    return result


def fusion(schedule: Schedule, space: Space, deps: Dependences) -> Iterator[Steps]:
    """Fuse adjacent sibling loops (with the shifts that may make it legal), or distribute a loop."""
    low = schedule.lowered
    for rep, depth, members, _ in loops(low):
        d = low.loop_dim(rep, depth)
        if d + 1 >= low.n_dims or d < 1:
            continue
        parent = low.signature(rep, d - 1)
        here = low.constant(rep, d - 1)
        later = sorted(
            {low.constant(s, d - 1) for s in low.rows if low.signature(s, d - 1) == parent} - {here}
        )
        after = [b for b in later if b > here]
        if after:
            nxt = next(s for s in low.rows if low.signature(s, d - 1) == parent and low.constant(s, d - 1) == after[0])
            if low.is_loop(nxt, d):
                for shift in range(space.max_shift + 1):
                    yield (T.Fuse(rep, nxt, depth, shift),)
        firsts: dict[int, str] = {}
        for s in members:
            firsts.setdefault(low.constant(s, d + 1), s)
        for _, s in sorted(firsts.items())[1:]:
            yield (T.Distribute(s, depth),)


def unimodular(schedule: Schedule, space: Space, deps: Dependences) -> Iterator[Steps]:
    """One interchange, reversal or skew inside a perfect band (skews and reversals only where they may
    help, if `space.needed_skews_only` and `space.needed_reversals_only`)."""
    low = schedule.lowered
    skewed = ({(t.stmt, t.outer, t.inner) for t in schedule.steps if isinstance(t, T.Skew)}
              if space.skew_pairs_once else set())
    for band in bands(low):
        members = list(band.members)
        dims = low.loop_dims(band.stmt)[band.depth:band.depth + band.length]
        # Computed once for both rules: each costs isl work on every band of every beam node.
        perm = permutable(schedule, deps, members, dims) if space.needed_reversals_only else None
        if not perm:
            for k in range(band.length):
                yield (T.Reverse(band.stmt, band.depth + k),)
        skews = space.skew_factors
        if (skews and band.length > 1 and space.needed_skews_only
                and not skew_may_help(schedule, deps, members, dims, is_permutable=perm)):
            skews = ()
        for a, b in itertools.combinations(range(band.length), 2):
            yield (T.Interchange(band.stmt, band.depth + a, band.depth + b),)
            if (band.stmt, band.depth + a, band.depth + b) in skewed:
                continue
            for f in skews:
                yield (T.Skew(band.stmt, band.depth + a, band.depth + b, f),)


def _marked(keys: Iterable[tuple[str, int]]) -> set[str]:
    """The statements of (statement, dimension) loop marks."""
    return {s for s, _ in keys}


def parallel(schedule: Schedule, space: Space, deps: Dependences) -> Iterator[Steps]:
    """Parallelize one of the outermost three loops, around no statement with a parallel loop yet."""
    low = schedule.lowered
    done = _marked(low.parallel)
    for rep, depth, members, _ in loops(low):
        if depth < 3 and done.isdisjoint(members):
            yield (T.Parallelize(rep, depth),)


def tiling(schedule: Schedule, space: Space, deps: Dependences) -> Iterator[Steps]:
    """2D and 3D rectangular tiles of perfect bands of untiled statements, with the original or the
    stride-1 point order."""
    low = schedule.lowered
    for band in bands(low):
        if not low.tiled.isdisjoint(band.members):
            continue
        for n in (2, 3):
            if band.length < n:
                continue
            orders = {tuple(range(n)), stride_one_order(schedule, band.stmt, n, band.depth)}
            size_sets: Iterable[tuple[int, ...]]
            if n == 2:
                size_sets = itertools.product(space.tile_sizes, repeat=2)
            elif space.cube_sizes_3d:
                size_sets = [(s, s, s) for s in space.tile_sizes] + [(32, 32, 128), (16, 64, 64), (64, 64, 16)]
            else:
                size_sets = itertools.product(space.tile_sizes, repeat=3)
            for sizes in size_sets:
                if all(s in space.tile_sizes for s in sizes):
                    for order in sorted(orders):
                        yield (T.Tile(band.stmt, band.depth, tuple(sizes), order),)


def unrolling(schedule: Schedule, space: Space, deps: Dependences) -> Iterator[Steps]:
    """Unroll an innermost loop not unrolled yet."""
    low = schedule.lowered
    done = _marked(low.unroll)
    for rep, depth, members, innermost in loops(low):
        if innermost and done.isdisjoint(members):
            for f in space.unroll_factors:
                yield (T.Unroll(rep, depth, f),)


def vectorization(schedule: Schedule, space: Space, deps: Dependences) -> Iterator[Steps]:
    """Vectorize an innermost loop not vectorized yet."""
    low = schedule.lowered
    done = _marked(low.vector)
    for rep, depth, members, innermost in loops(low):
        if innermost and done.isdisjoint(members):
            yield (T.Vectorize(rep, depth),)


Generator = Callable[[Schedule, Space, Dependences], Iterator[Steps]]


def levels(space: Space) -> list[tuple[str, Generator]]:
    """The search's levels, in LOOPer's order, each a phase name and its generator."""
    result: list[tuple[str, Generator]] = []
    if space.fusion:
        result += [("fusion", fusion)] * space.fusion_steps
    if space.unimodular:
        result += [("unimodular", unimodular)] * space.unimodular_steps
    k = space.nest_steps
    if space.parallel:
        result += [("parallel", parallel)] * k
    if space.tile:
        result += [("tiling", tiling)] * k
    if space.unroll:
        result += [("unrolling", unrolling)] * k
    if space.vector:
        result += [("vectorization", vectorization)] * k
    return result
