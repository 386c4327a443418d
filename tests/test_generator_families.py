"""The "use" scale's program families: generated, in bounds, finite, extractable; "small" programs untouched."""

from __future__ import annotations

import hashlib
import random
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import pytest

from costmodel.generator import GeneratedProgram, generate, programs
from costmodel.generator.builder import Builder
from costmodel.generator.families import FAMILIES
from costmodel.generator.model import depth
from polybench.manifest import UTILITIES
from tests.test_generator import _check_dump, _run, run_under_sanitizers

SEEDS = 120  # "use" programs looked at: each family is in ten or more of them
# sha256 of generate(seed).source before the families existed: "small" programs must not change
SMALL_SHA256 = {
    0: "aa20e8c1bce6383f8dd179b1bf8fa81ae9a8d381d82a0e948a3415777c418152",
    5: "c7055d59ec520ac464a958abb7539fd5636143aa1b598419cf3b96dfc4de7f97",
    11: "58a269a8e2db739866301e1b843999a394c03f9dd20f2b387041c1a08bb34e6c",
}


@cache
def use_programs() -> tuple[GeneratedProgram, ...]:
    return tuple(programs(0, SEEDS, scale="use"))


def carrying(family: str, count: int) -> list[GeneratedProgram]:
    """The first `count` "use" programs with a nest of this family."""
    found = [p for p in use_programs() if family in p.pattern_tags][:count]
    assert len(found) == count, f"{family}: only {len(found)} of the first {SEEDS} programs"
    return found


def test_every_family_is_generated_at_the_use_scale_only() -> None:
    for family in FAMILIES:
        assert carrying(family, 3)
    small = set().union(*(generate(s).pattern_tags for s in range(30)))
    assert not small & set(FAMILIES), "a family in a small program"


def test_small_programs_are_unchanged() -> None:
    for seed, digest in SMALL_SHA256.items():
        assert hashlib.sha256(generate(seed).source.encode()).hexdigest() == digest, f"seed {seed}"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_respects_the_depth_limit(family: str) -> None:
    low, build, _ = FAMILIES[family]
    for max_depth in range(low, 6):
        for seed in range(25):
            b = Builder(random.Random(seed), ("double", "int")[seed % 2], ["N", "M", "P"])
            nodes = build(b, max_depth)
            assert nodes and depth(nodes) <= max_depth and family in b.tags, (seed, max_depth)


def test_families_compile_and_run_finite_at_small_sizes() -> None:
    progs = [p for family in sorted(FAMILIES) for p in carrying(family, 6)]

    def one(prog: GeneratedProgram) -> None:
        _check_dump(prog, _run(prog, prog.small_defines()), full=True)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, progs))


def test_cheap_family_programs_run_finite_at_default_sizes() -> None:
    """The weights are chosen for the default sizes: there the recurrences must contract (a cheap program each)."""
    progs: dict[int, GeneratedProgram] = {}  # by seed: a program may hold two families
    for family in sorted(FAMILIES):
        cheap = [p for p in use_programs() if family in p.pattern_tags and p.footprint_bytes < 2 << 20
                 and p.estimated_seconds < 0.05]
        progs.update((p.seed, p) for p in sorted(cheap, key=lambda p: p.footprint_bytes * p.estimated_seconds)[:2])

    def one(prog: GeneratedProgram) -> None:
        _check_dump(prog, _run(prog, {}), full=True)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, progs.values()))


def test_families_in_bounds_and_no_overflow_under_sanitizers() -> None:
    run_under_sanitizers([p for family in sorted(FAMILIES) for p in carrying(family, 10)[6:]])  # not those run above


def test_frontend_extracts_families_and_dependences_compute() -> None:
    frontend = pytest.importorskip("frontend")
    from looper.deps import compute_dependences

    for family in sorted(FAMILIES):
        for prog in carrying(family, 6):
            scop = frontend.read_scop(prog.source, include_dirs=[UTILITIES])
            written = {a.array for st in scop.statements for a in st.writes}
            assert set(prog.liveouts) <= written, f"seed {prog.seed}"
            deps = compute_dependences(scop)
            assert deps.relations, f"seed {prog.seed}: no dependences"
