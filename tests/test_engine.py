"""The engine's contract on the whole suite: every accepted schedule computes what the original does."""

from __future__ import annotations

import functools
import json
from concurrent.futures import ThreadPoolExecutor

import islpy as isl
import pytest

from looper import transforms as T
from looper.deps import compute_dependences, maps_of
from looper.legality import check
from looper.schedule import Schedule
from looper.search.candidates import Space, levels
from looper.search.sampler import samples
from polybench import KERNELS
from tests.engine_support import build_variant, check_outputs, kernel_scop, program

SAMPLES_PER_KERNEL = 20


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_identity_schedule_regenerates_equivalent_code(name: str, tmp_path) -> None:
    scop, deps, _ = kernel_scop(name)
    identity = Schedule(scop)
    assert check(identity, deps)
    binary = build_variant(KERNELS[name], program(name, identity), tmp_path, "identity")
    assert check_outputs(KERNELS[name], binary) is None


@functools.cache
def _sampled(name: str) -> list[Schedule]:
    scop, deps, _ = kernel_scop(name)
    return samples(Schedule(scop), deps, SAMPLES_PER_KERNEL, seed=sum(map(ord, name)))


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_sampled_legal_sequences_verify(name: str, tmp_path) -> None:
    k = KERNELS[name]
    schedules = _sampled(name)
    assert len(schedules) >= min(SAMPLES_PER_KERNEL, 5), "the sampler finds legal sequences"
    codes = [program(name, s) for s in schedules]
    with ThreadPoolExecutor(2) as pool:
        binaries = list(pool.map(lambda ic: build_variant(k, ic[1], tmp_path, str(ic[0])), enumerate(codes)))
    for schedule, binary in zip(schedules, binaries, strict=True):
        mismatch = check_outputs(k, binary)
        assert mismatch is None, f"{name}: {schedule}: {mismatch}"


def test_samples_cover_every_transformation_type() -> None:
    kinds = {step.kind for name in sorted(KERNELS) for s in _sampled(name) for step in s.steps}
    expected = set(T.KINDS) - {"reschedule", "shift"}  # not drawn by the sampler: used by isl / fusion
    assert expected <= kinds, f"never sampled: {expected - kinds}"


@pytest.mark.parametrize(
    ("name", "steps", "reason"),
    [
        ("seidel-2d", (T.Interchange("S0", 0, 1),), "violates"),
        ("floyd-warshall", (T.Parallelize("S0", 0),), "carries"),
        ("jacobi-2d", (T.Fuse("S0", "S1", 1),), "violates"),
        ("lu", (T.Reverse("S0", 0),), "violates"),
    ],
)
def test_illegal_schedules_are_rejected_with_a_reason(name: str, steps: tuple, reason: str) -> None:
    scop, deps, _ = kernel_scop(name)
    verdict = check(Schedule(scop).then(*steps), deps)
    assert not verdict
    assert reason in verdict.reason
    assert "->" in verdict.reason  # names the violated dependence


def test_schedule_json_round_trip_reproduces_code() -> None:
    for name in ("gemm", "jacobi-2d", "lu"):
        scop, _, _ = kernel_scop(name)
        for s in _sampled(name)[:5]:
            again = Schedule.from_json(scop, json.loads(json.dumps(s.to_json())))
            assert again.fingerprint() == s.fingerprint()
            assert program(name, again) == program(name, s)


def reference_legal(schedule: Schedule, deps) -> bool:
    """Legality by its definition, checked directly on the schedule's time maps (slow, no caching):
    every dependence's source time lexicographically before its sink time, and no parallel or vector
    loop holding two instances of a dependence, inside it, at different iterations."""
    try:
        maps = schedule.statement_maps
    except ValueError:
        return False
    low = schedule.lowered
    n = low.n_dims
    later = isl.Map.lex_lt(isl.Space.set_alloc(isl.DEFAULT_CONTEXT, 0, n))
    times = [m.apply_domain(maps[m.get_tuple_name(isl.dim_type.in_)])
             .apply_range(maps[m.get_tuple_name(isl.dim_type.out)])
             for dep in deps.by_kind().values() for m in maps_of(dep)]
    if not all(t.is_subset(later) for t in times):
        return False
    for s, dim in low.parallel | low.vector:
        prefixes = maps[s].range().project_out(isl.dim_type.set, dim, n - dim).add_dims(isl.dim_type.set, n - dim)
        for t in times:
            inner = t.intersect_domain(prefixes)  # sources inside the loop (their times share its prefix) ...
            for d in range(dim):  # ... and pairs in the same iteration of the loops outside it
                inner = inner.equate(isl.dim_type.in_, d, isl.dim_type.out, d)
            if not inner.is_subset(inner.equate(isl.dim_type.in_, dim, isl.dim_type.out, dim)):
                return False
    return True


def _offered(start: Schedule, deps, count: int) -> list[Schedule]:
    """Candidates of every level of the default space, grown from `start` and from legal ones."""
    space = Space()
    found: list[Schedule] = []
    parents = [start]
    for _, generate in levels(space):
        fresh = [p.then(*steps) for p in parents for steps in generate(p, space, deps)]
        found += fresh[:: max(1, len(fresh) // count)]
        parents = [start, *[c for c in fresh if check(c, deps)][:2]]
    return found


@pytest.mark.parametrize("name", ["seidel-2d", "lu", "adi", "gramschmidt", "fdtd-2d", "heat-3d"])
def test_legality_agrees_with_the_definition(name: str) -> None:
    scop, deps, _ = kernel_scop(name)
    schedules = _offered(Schedule(scop), deps, 12) + _sampled(name)[:5]
    verdicts = [bool(check(s, deps)) for s in schedules]
    assert any(verdicts) and not all(verdicts)
    for schedule, verdict in zip(schedules, verdicts, strict=True):
        assert verdict == reference_legal(schedule, deps), str(schedule)


def test_a_candidate_rechecks_only_the_dependences_its_step_changed() -> None:
    scop, _, _ = kernel_scop("3mm")
    deps = compute_dependences(scop)  # its own: an empty cache of walked dependences
    parent = Schedule(scop)
    assert check(parent, deps)
    whole = deps.walk.tests
    child = parent.then(T.Interchange("S5", 0, 1))  # the third product's loops, around S4 and S5 only
    assert check(child, deps) and reference_legal(child, deps)
    assert deps.walk.tests - whole <= whole // 3, "the relations of untouched statements were tested again"
    assert not check(parent.then(T.Parallelize("S1", 2)), deps)  # the reduction loop of the first product


def test_a_derived_schedule_lowers_as_its_whole_sequence_does() -> None:
    for name in ("gemm", "jacobi-2d", "lu", "deriche"):
        scop, _, _ = kernel_scop(name)
        for s in _sampled(name)[:5]:
            chained = Schedule(scop)
            for step in s.steps:
                assert chained.lowered.n_dims  # lowered first: the child then starts from these rows
                chained = chained.then(step)
            fresh = Schedule(scop, s.steps)
            assert chained.fingerprint() == fresh.fingerprint()
            assert chained.lowered.rows_key() == fresh.lowered.rows_key()
            assert chained.describe() == fresh.describe()
