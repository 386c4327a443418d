"""The engine's contract on the whole suite: every accepted schedule computes what the original does."""

from __future__ import annotations

import functools
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from looper import transforms as T
from looper.legality import check
from looper.schedule import Schedule
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
