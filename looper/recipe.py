"""Pluto's post-processing, done for this machine: tile each permutable band, order the point loops so the
innermost is stride-1 (and dependence-free where possible), run the outermost parallel loop (or a
wavefront of tiles) with OpenMP, and mark dependence-free innermost loops simd.

It applies to any base schedule (the original program, a Pluto-class or an isl reschedule). Every step
is kept only if the result is legal, so the outcome is always a legal schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

import islpy as isl

from looper import transforms as T
from looper.counting import L2_BYTES, fix_params, instance_count, touched_bytes
from looper.deps import Dependences
from looper.ir import Scop
from looper.legality import carried_at, check, permutable
from looper.schedule import Schedule, ScheduleError, row_facts, tile_source
from looper.search.candidates import bands, loops
from looper.strides import point_orders

# What pays on this machine (2 cores, 1 MiB of L2 per core; ../shared/PERFORMANCE_NOTES.md):
IN_CACHE_BYTES = 256 * 1024  # a nest whose arrays fit in L2 several times over gains nothing from tiles
TILE_BYTES = L2_BYTES  # one tile's data fits in a core's L2
MIN_TILE_SIZE = 8
# Statement instances per entry into a parallel region, or waking the threads costs more (15 us a region
# with OMP_WAIT_POLICY=passive, 1.5-3 us spinning; an instance costs 0.2-2 ns)
MIN_REGION_WORK = 100_000


@dataclass(frozen=True)
class Options:
    """What the recipe may do (the polycc-like --notile / --noparallel / --novector flags)."""

    tile: bool = True
    tile_size: int = 32
    parallel: bool = True
    vector: bool = True
    wavefront: bool = True  # skew tile loops into a parallel wavefront when no tile loop is parallel


def apply_recipe(schedule: Schedule, deps: Dependences, options: Options = Options()) -> Schedule:
    """Tile the permutable bands, then parallelize and vectorize, keeping only legal steps."""
    tiled: dict[str, tuple[int, int]] = {}  # statement -> (depth, length) of its tiled band
    if options.tile:
        schedule, tiled = tile_bands(schedule, deps, (options.tile_size,) * 3)
    if options.parallel:
        # Every statement not yet inside a parallel loop tries for one: inside a sequential outer loop
        # (a time loop) each inner nest gets its own (heat-3d's two sweeps, not the first alone).
        for stmt in schedule.lowered.rows:
            low = schedule.lowered
            if low.loop_dims(stmt) and all(s != stmt for s, _ in low.parallel):
                schedule = parallelize(schedule, deps, stmt, tiled.get(stmt), wavefront=options.wavefront)
    done: set[str] = set()
    for stmt, (depth, n) in tiled.items():
        if n == 2 and stmt not in done:  # once a band
            done |= set(schedule.lowered.members(stmt, schedule.lowered.loop_dim(stmt, depth)))
            schedule = tile_loop_order(schedule, deps, stmt, depth)
    if options.vector:
        schedule = vectorize(schedule, deps)
    return schedule


def tile_bands(schedule: Schedule, deps: Dependences, sizes: tuple[int, ...]
               ) -> tuple[Schedule, dict[str, tuple[int, int]]]:
    """Tile the longest permutable prefix (2 or 3 loops) of every perfect band, outermost bands first,
    with the point loops in stride-1 order, unless the band's arrays fit in cache anyway; `sizes` are
    halved (down to 8) while one tile's data does not fit in L2. Returns the schedule and each tiled
    statement's band."""
    tiled: dict[str, tuple[int, int]] = {}
    for band in sorted(bands(schedule.lowered), key=lambda b: b.depth):
        if band.length < 2 or set(band.members) & set(tiled):
            continue
        footprint = footprint_bytes(schedule.scop, band.members)
        if footprint is not None and footprint < IN_CACHE_BYTES:
            continue
        low = schedule.lowered
        dims = low.loop_dims(band.stmt)[band.depth:band.depth + band.length]
        for n in range(min(3, band.length), 1, -1):
            if not permutable(schedule, deps, list(band.members), dims[:n]):
                continue
            tile = fitting(schedule, band.members, dims[:n], sizes[:n])
            result = point_order(schedule, deps, band.stmt, band.depth, tile,
                                 innermost=band.length == n == len(low.loop_dims(band.stmt)) - band.depth)
            if result is not None:
                schedule = result
                tiled.update({m: (band.depth, n) for m in band.members})
                break
    return schedule, tiled


def point_order(schedule: Schedule, deps: Dependences, stmt: str, depth: int, sizes: tuple[int, ...], *,
                innermost: bool) -> Schedule | None:
    """The band tiled with its point loops in stride-1 order; when its point loops are the statements'
    innermost, the best stride-1 order whose innermost loop carries no dependence and makes no more
    accesses large-strided than stride-1 (as Pluto's intra-tile optimization: a reduction innermost,
    gesummv's or bicg's, does not vectorize, its neighbour does; a skewed stencil's time loop, dependence-
    free too, walks diagonals). Where an untiled loop runs inside them (heat-3d's space loop k), the point
    loops keep the band's order: that loop is the stride-1 one, and the time loop stays outermost."""
    n = len(sizes)
    if not innermost:
        return attempt(schedule, deps, T.Tile(stmt, depth, sizes))
    first = None
    for order, unit_stride in point_orders(schedule, stmt, n, depth):
        result = attempt(schedule, deps, T.Tile(stmt, depth, sizes, order))
        if result is None:
            continue
        if first is None:
            first = result
        if not unit_stride:
            continue
        free = dependence_free_innermost(result, deps, stmt, depth + 2 * n - 1)
        if free is not None:
            return free if n != 2 else split_tiles(free, deps, stmt, depth)
    return first


def split_tiles(schedule: Schedule, deps: Dependences, stmt: str, depth: int) -> Schedule:
    """A tiled two-loop band (tile loops t0, t1, point loops a, b innermost) whose statements are stride-1
    along different point loops: those the tile's order does not suit get their own loops inside t0, before
    the rest's, with their stride-1 loop innermost where it carries no dependence of theirs (bicg: s walks
    A by rows along b, q by columns; sharing one simd loop, q's gathers held s back: 1.6x over gcc at
    LARGE, apart 3.6x). Unchanged where that is not legal."""
    low = schedule.lowered
    dims = low.loop_dims(stmt)[depth:depth + 4]
    if len(dims) < 4:
        return schedule
    members = low.members(stmt, dims[0])
    if len(members) < 2 or low.members(stmt, dims[3]) != members:
        return schedule
    movers = []
    for m in members:
        best, unit = point_orders(schedule, m, 2, depth + 2, members=[m])[0]
        if best == (1, 0) and unit:
            movers.append(m)
    if not movers or len(movers) == len(members):
        return schedule
    steps: list[T.Transformation] = []
    for m in movers:
        steps += [T.Distribute(m, d, first=True) for d in (depth + 3, depth + 2, depth + 1)]
    split = attempt(schedule, deps, *steps)
    if split is None:
        return schedule
    for m in movers:
        inner = split.lowered.loop_dims(m)[depth + 2]  # `a`, the loop its accesses are stride-1 along
        if carried_at(split, deps, [m], inner) is None:
            split = attempt(split, deps, T.Interchange(m, depth + 2, depth + 3)) or split
    return split


def tile_loop_order(schedule: Schedule, deps: Dependences, stmt: str, depth: int) -> Schedule:
    """The tile loops of a tiled two-loop band, where neither runs in parallel and the band's data exceeds
    L2, in stride-1 order too: the inner tile loop walks along the rows of the arrays, so the tiles of one
    row reuse its pages and cache lines (trisolv at LARGE: tiles walked down L's columns 1.3x over gcc,
    along its rows 2.5x; doitgen's band, 200 KiB, stays: swapped, each tile rereads its part of `sum`,
    10% slower)."""
    low = schedule.lowered
    dims = low.loop_dims(stmt)[depth:depth + 4]
    if len(dims) < 4:
        return schedule
    members = low.members(stmt, dims[0])
    if any((m, d) in low.parallel for m in members for d in dims[:2]):
        return schedule
    footprint = tile_bytes(schedule, tuple(members), dims, (1 << 30,) * 4)  # the whole band, at one outer point
    if footprint is not None and footprint <= TILE_BYTES:
        return schedule
    order, _ = point_orders(schedule, stmt, 2, depth + 2)[0]
    outer = tile_source(low.rows[stmt][dims[0]])
    if outer is None or row_facts(outer[0])[0] != row_facts(low.rows[stmt][dims[2 + order[-1]]])[0]:
        return schedule  # the stride-1 loop's tiles already run innermost
    return attempt(schedule, deps, T.Interchange(stmt, depth, depth + 1)) or schedule


def dependence_free_innermost(schedule: Schedule, deps: Dependences, stmt: str, depth: int) -> Schedule | None:
    """The schedule, or it with one statement's part of the loop at `depth` around `stmt` (the innermost)
    distributed before or after the rest, such that every resulting loop carries no dependence; None if
    neither does."""
    low = schedule.lowered
    dim = low.loop_dims(stmt)[depth]
    members = low.members(stmt, dim)
    if carried_at(schedule, deps, members, dim) is None:
        return schedule
    for m in members:
        for first in (True, False):
            result = attempt(schedule, deps, T.Distribute(m, depth, first))
            if result is None:
                continue
            new = result.lowered
            loops = {tuple(new.members(s, new.loop_dims(s)[depth])) for s in members}
            if all(carried_at(result, deps, list(group), new.loop_dims(group[0])[depth]) is None
                   for group in loops):
                return result
    return None


def parallelize(schedule: Schedule, deps: Dependences, rep: str, band: tuple[int, int] | None, *,
                wavefront: bool = True) -> Schedule:
    """Parallelize the outermost parallel loop of `rep`'s nest, or a wavefront of its tiles, where each
    entry into the parallel loop has enough work to pay for waking the threads (an inner parallel loop
    inside a time loop of a small stencil does not: jacobi-1d)."""
    for d in range(min(3, len(schedule.lowered.loop_dims(rep)))):
        result = attempt(schedule, deps, T.Parallelize(rep, d))
        if result is not None:
            return result if pays(result, rep, d) else schedule
    if wavefront and band is not None and band[0] < 2:
        t = band[0]
        wave = (T.Skew(rep, t, t + 1), T.Interchange(rep, t, t + 1), T.Parallelize(rep, t + 1))
        result = attempt(schedule, deps, *wave)
        if result is not None and pays(result, rep, t + 1):
            return result
    return schedule


def pays(schedule: Schedule, rep: str, depth: int) -> bool:
    """Whether the loop at `depth` around `rep` runs enough statement instances per entry to be parallel
    (assumed so where the parameters' values are unknown)."""
    scop = schedule.scop
    low = schedule.lowered
    dim = low.loop_dim(rep, depth)
    members = low.members(rep, dim)
    values = scop.param_values
    if not scop.sized:
        return True
    work = sum(instance_count(scop.statement(s).domain, values, 1) for s in members)
    if dim == 0 or work < MIN_REGION_WORK:
        return work >= MIN_REGION_WORK
    entries = None
    for s in members:  # the distinct values of the loops around the parallel one
        times = low.map_of(s, scop.statement(s).domain).range()  # the members' maps only: adi has 27 statements
        prefix = times.project_out(isl.dim_type.set, dim, times.dim(isl.dim_type.set) - dim)
        entries = prefix if entries is None else entries.union(prefix)
    assert entries is not None
    return work / max(1.0, instance_count(entries.coalesce(), values, 1)) >= MIN_REGION_WORK


def fitting(schedule: Schedule, members: tuple[str, ...], dims: list[int], sizes: tuple[int, ...]) -> tuple[int, ...]:
    """`sizes`, halved together until a tile of the band (schedule dimensions `dims`) touches at most
    TILE_BYTES (heat-3d: a 32x32x32 tile of its time-skewed band, with the untiled inner loop, spans 8 MiB)."""
    while min(sizes) > MIN_TILE_SIZE:
        footprint = tile_bytes(schedule, members, dims, sizes)
        if footprint is None or footprint <= TILE_BYTES:
            break
        sizes = tuple(max(MIN_TILE_SIZE, size // 2) for size in sizes)
    return sizes


def tile_bytes(schedule: Schedule, members: tuple[str, ...], dims: list[int], sizes: tuple[int, ...]) -> float | None:
    """Bytes of array elements one tile in the middle of the band touches, the loops outside the band at
    their middle values, the loops inside it whole (None where the parameters' values are unknown)."""
    scop = schedule.scop
    values = scop.param_values
    if not scop.sized:
        return None
    instances: dict[str, isl.Set] = {}
    for name in members:
        schedule_map = fix_params(schedule.lowered.map_of(name, scop.statement(name).domain), values, 1)
        times = schedule_map.range()
        if times.is_empty():
            continue
        tile = times
        for d in range(max(dims) + 1):
            if schedule.lowered.constants(name)[d] is not None:
                continue
            least, most = times.dim_min_val(d).to_python(), times.dim_max_val(d).to_python()
            middle = (least + most) // 2
            if d in dims:
                size = sizes[dims.index(d)]
                start = least + (middle - least) // size * size
                tile = tile.add_constraint(_bound(tile.get_space(), d, 1, -start))
                tile = tile.add_constraint(_bound(tile.get_space(), d, -1, start + size - 1))
            else:
                tile = tile.add_constraint(isl.Constraint.equality_alloc(tile.get_space())
                                           .set_coefficient_val(isl.dim_type.set, d, 1).set_constant_val(-middle))
        instances[name] = schedule_map.intersect_range(tile).domain()
    return sum(touched_bytes(scop, instances).values())


def _bound(space: isl.Space, dim: int, sign: int, constant: int) -> isl.Constraint:
    """sign * x[dim] + constant >= 0."""
    return isl.Constraint.inequality_alloc(space).set_coefficient_val(isl.dim_type.set, dim, sign) \
        .set_constant_val(constant)


def footprint_bytes(scop: Scop, statements: tuple[str, ...] | list[str]) -> float | None:
    """Bytes of array elements the statements touch (None where the parameters' values are unknown)."""
    if not scop.sized:
        return None
    return sum(touched_bytes(scop, {name: scop.statement(name).domain for name in statements}).values())


def vectorize(schedule: Schedule, deps: Dependences) -> Schedule:
    """Mark every innermost loop that carries no dependence simd."""
    for rep, depth, members, innermost in loops(schedule.lowered):
        if innermost:
            dim = schedule.lowered.loop_dim(rep, depth)
            if carried_at(schedule, deps, list(members), dim) is None:
                schedule = attempt(schedule, deps, T.Vectorize(rep, depth)) or schedule
    return schedule


def attempt(schedule: Schedule, deps: Dependences, *steps: T.Transformation) -> Schedule | None:
    """`schedule` followed by `steps` if that applies and is legal, else None."""
    candidate = schedule.then(*steps)
    try:
        return candidate if check(candidate, deps) else None
    except ScheduleError:
        return None
