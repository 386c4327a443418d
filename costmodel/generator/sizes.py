"""Default sizes: scale the size parameters until one run does about a target amount of work."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from costmodel.generator.model import TSTEPS, Guard, Loop, Node, Ref, Stmt, Var

MIN_SIZE = 12
SMALL_RANGE = (5, 12)  # small sizes for fuzzing (TSTEPS: 2-4)


@dataclass(frozen=True)
class Scale:
    """How large a program's default sizes are: a run-time target, drawn log-uniformly, and footprint caps."""

    name: str
    target_ns: tuple[float, float]  # estimated run time at the default sizes, in ns
    max_bytes: tuple[float, float]  # all arrays together at most this, drawn log-uniformly per program
    max_liveout: int  # elements dumped at the default sizes (printing one takes ~0.4 us)
    tsteps: tuple[int, int]  # the time loop's trip count


# "small": the shipped model's training programs, all in the 32 MiB last-level cache, 3-30 ms a run.
# "use": the sizes looper is used at, PolyBench MEDIUM/LARGE-like: 5-200 ms a run (long enough to time
# in bulk), all arrays together capped at 8-128 MiB (4x the last-level cache): O(n^3) work reaches its
# run time with arrays in L2 or the LLC, O(n^2) work at the cap, beyond the LLC.
SCALES = {
    "small": Scale("small", (3e6, 3e7), (32 << 20, 32 << 20), 1_000_000, (4, 40)),
    "use": Scale("use", (5e6, 2e8), (8 << 20, 128 << 20), 16_000_000, (10, 100)),
}


# Nanoseconds per statement instance for each feature (gcc -O3 -march=native, one core), fitted by
# non-negative least squares to measured generated programs (see benchmarks/generator_timing.py).
COST_NS = {
    "stmt": 0.05, "ref": 0.19, "vec_stmt": 0.02, "vec_ref": 0.1, "mod": 0.1,
    "jump_l2": 0.1, "jump_l3": 1.4, "jump_mem": 2.0, "jump_tlb": 6.0,
    "carried_float": 0.6, "carried_int": 2.5, "carried_div": 4.3,
    "stream_l3": 0.18, "stream_mem": 0.5, "div": 0.1,
}


def stmt_features(st: Stmt, inner: Loop | None, sizes: Mapping[str, int], dtype: str) -> dict[str, float]:
    """What makes one instance of a statement cost time.

    Loads and arithmetic cost little when gcc vectorizes; a value carried along the innermost loop
    (a reduction, an in-place stencil, `% 1009` in a recurrence) makes the loop latency-bound, and an
    access that jumps through memory along the innermost loop misses the cache level its array overflows.
    """
    refs = [st.target, *(r for t in st.terms for r in t.refs)]
    f: dict[str, float] = {}
    if dtype == "int" and st.kind in ("assign", "accumulate"):
        f["mod"] = 1.0
    elem = 8 if dtype == "double" else 4
    for ref in refs:
        key = _jump(ref, inner, sizes, elem)
        if key:
            f[key] = f.get(key, 0.0) + 1.0
    # streaming through an array larger than the last-level cache: paid in memory bandwidth, vectorized or not
    moving = [math.prod(max(1, e.value(sizes)) for e in r.var.extents()) * elem for r in refs
              if inner is not None and inner.it.name in {n for s in r.subs for n in s.iters}
              and _jump(r, inner, sizes, elem) is None]
    l3 = sum(1 for b in moving if (1 << 20) <= b < (24 << 20))
    mem = sum(1 for b in moving if b >= (24 << 20))
    target = st.target.var
    if (st.kind == "accumulate" and inner in st.update) or (
            st.kind in ("average", "select") and any(r.var is target for t in st.terms for r in t.refs)):
        f["carried_int" if dtype == "int" else "carried_float"] = 1.0
        if st.kind == "average" and (dtype == "int" or st.style == 1):
            f["carried_div"] = 1.0  # a division in the recurrence: its latency is paid every iteration
    # gcc vectorizes a statement whose accesses stream (or stay put) along the innermost loop
    streams = inner is not None and not f and all(_streams(r, inner) for r in refs)
    f["vec_stmt" if streams else "stmt"] = 1.0
    f["vec_ref" if streams else "ref"] = float(len(refs))
    if l3:
        f["stream_l3"] = float(l3)
    if mem:
        f["stream_mem"] = float(mem)
    if st.kind == "average" and (dtype == "int" or st.style == 1):
        f["div"] = 1.0
    return f


def _streams(ref: Ref, inner: Loop) -> bool:
    """The innermost iterator appears only in the last subscript, with unit stride (or not at all)."""
    hits = [s for s in ref.subs if inner.it.name in s.iters]
    return not hits or (len(hits) == 1 and hits[0] is ref.subs[-1] and hits[0].form in ("plain", "offset", "sum"))


def _jump(ref: Ref, inner: Loop | None, sizes: Mapping[str, int], elem: int) -> str | None:
    """Which memory level a reference misses when the innermost loop advances (None: it streams)."""
    if inner is None:
        return None
    ext = [max(1, e.value(sizes)) for e in ref.var.extents()]
    dims = [d for d, s in enumerate(ref.subs) if inner.it.name in s.iters]
    if not dims or dims[0] == len(ext) - 1:
        return None
    stride = math.prod(ext[dims[0] + 1:]) * elem
    size = math.prod(ext) * elem
    if size < (1 << 20):
        return "jump_l2"
    if stride >= 4096 and size >= (8 << 20):
        return "jump_tlb"  # every access on another page, more pages than the TLB holds
    return "jump_l3" if size < (24 << 20) else "jump_mem"


def features(nodes: Iterable[Node], sizes: Mapping[str, int], dtype: str, mult: float = 1.0,
             inner: Loop | None = None, out: dict[str, float] | None = None) -> dict[str, float]:
    """Statement features summed over all instances of a nest (loop trip counts down the tree, guards by share)."""
    out = {} if out is None else out
    for node in nodes:
        if isinstance(node, Stmt):
            for k, v in stmt_features(node, inner, sizes, dtype).items():
                out[k] = out.get(k, 0.0) + mult * v
        elif isinstance(node, Loop):
            features(node.body, sizes, dtype, mult * node.trips(sizes), node, out)
        elif isinstance(node, Guard):
            features(node.body, sizes, dtype, mult * node.share, inner, out)
    return out


def cost(nodes: Iterable[Node], sizes: Mapping[str, int], dtype: str) -> float:
    """Estimated nanoseconds of one run of a nest."""
    return sum(COST_NS[k] * v for k, v in features(nodes, sizes, dtype).items())


def used_params(nests: list[list[Node]], arrays: list[Var]) -> list[str]:
    """The size parameters the loops and arrays mention, in a stable order."""
    found: set[str] = set()

    def walk(nodes: Iterable[Node]) -> None:
        for n in nodes:
            if isinstance(n, Loop):
                found.add(n.it.param)
                found.update(p for p, _ in n.it.hi.terms)
            if isinstance(n, Loop | Guard):
                walk(n.body)

    for nest in nests:
        walk(nest)
    for a in arrays:
        for e in a.extents():
            found.update(p for p, _ in e.terms)
    order = ["N", "M", "P", "Q", TSTEPS]
    return sorted(found, key=order.index)


def elements(arrays: Iterable[Var], sizes: Mapping[str, int]) -> int:
    """Elements of some arrays at some sizes."""
    return sum(math.prod(max(1, e.value(sizes)) for e in a.extents()) for a in arrays)


def choose_sizes(rng: random.Random, nests: list[list[Node]], arrays: list[Var], dtype: str,
                 scale_of: Scale = SCALES["small"]) -> dict[str, int]:
    """Default sizes: random aspect ratios, one scale found by bisection so the work hits a random target,
    then shrunk until the arrays fit a random footprint cap."""
    params = used_params(nests, arrays)
    ratios = {p: rng.uniform(0.7, 1.4) for p in params if p != TSTEPS}
    tsteps = rng.randint(*scale_of.tsteps)
    target = _log_uniform(rng, scale_of.target_ns)
    # no draw when the cap is fixed, so that the "small" programs of a seed stay what they were
    lo_bytes, hi_bytes = scale_of.max_bytes
    max_bytes = hi_bytes if lo_bytes == hi_bytes else _log_uniform(rng, scale_of.max_bytes)
    elem = 4 if dtype in ("float", "int") else 8

    def at(scale: float) -> dict[str, int]:
        out = {p: max(MIN_SIZE, round(r * scale)) for p, r in ratios.items()}
        if TSTEPS in params:
            out[TSTEPS] = tsteps
        return out

    work = lambda s: sum(cost(nest, at(s), dtype) for nest in nests)
    lo, hi = 1.0, 1e7
    for _ in range(32):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if work(mid) < target else (lo, mid)
    scale = lo
    liveouts = [a for a in arrays if a.written]
    while scale > MIN_SIZE and (elements(arrays, at(scale)) * elem > max_bytes
                                or elements(liveouts, at(scale)) > scale_of.max_liveout):
        scale *= 0.95
    return at(scale)


def _log_uniform(rng: random.Random, bounds: tuple[float, float]) -> float:
    """A random value between two bounds, uniform in log scale."""
    return math.exp(rng.uniform(*map(math.log, bounds)))


def small_sizes(seed: int, sizes: Mapping[str, int]) -> dict[str, int]:
    """Small sizes for fuzzing, deterministic per seed: every access stays in bounds at any size."""
    rng = random.Random(f"small-{seed}")
    return {p: rng.randint(2, 4) if p == TSTEPS else rng.randint(*SMALL_RANGE) for p in sizes}

