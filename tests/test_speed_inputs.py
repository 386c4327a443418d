"""Inputs that used to be slow: periodic stencils whose subscripts wrap around with `%` or `?:`.

A 3-D, time-iterated, 27-point stencil with periodic boundaries took minutes in dataflow analysis
(each statement's 27 references to one array made one relation of hundreds of pieces); it must take
seconds, give the same dependences as the untagged analysis, and the same legality verdicts as a
direct isl comparison of the schedule's time order.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

import looper.deps
from frontend import read_scop
from looper import transforms as T
from looper.deps import Dependences, by_reference, compute_dependences
from looper.legality import check
from looper.schedule import Schedule
from looper.search.candidates import Space, levels
from tests.test_engine import reference_legal

OFFSETS_27 = list(itertools.product((-1, 0, 1), repeat=3))
OFFSETS_7 = [o for o in OFFSETS_27 if sum(map(abs, o)) <= 1]


def periodic_stencil(kind: str, n: int, offsets: list[tuple[int, int, int]]) -> str:
    """A C program: T steps of a 3-D stencil on a torus of side n, double-buffered by `t % 2`, its
    wrap-around written with `%` (kind "mod") or with conditional subscripts (kind "ternary")."""

    def sub(v: str, o: int) -> str:
        if o == 0:
            return v
        if kind == "mod":
            return f"({v} + 1) % {n}" if o > 0 else f"({v} - 1 + {n}) % {n}"
        return f"({v} == {n - 1} ? 0 : {v} + 1)" if o > 0 else f"({v} == 0 ? {n - 1} : {v} - 1)"

    terms = " +\n              ".join(f"A[t % 2][{sub('i', a)}][{sub('j', b)}][{sub('k', c)}]" for a, b, c in offsets)
    return f"""#include <stdio.h>
#define T 4
static double A[2][{n}][{n}][{n}];
int main(void) {{
  for (int i = 0; i < {n}; i++)
    for (int j = 0; j < {n}; j++)
      for (int k = 0; k < {n}; k++)
        A[0][i][j][k] = (double)((i * 7 + j * 3 + k) % 11) / 11.0;
#pragma scop
  for (int t = 0; t < T; t++)
    for (int i = 0; i < {n}; i++)
      for (int j = 0; j < {n}; j++)
        for (int k = 0; k < {n}; k++)
          A[(t + 1) % 2][i][j][k] = {1.0 / len(offsets):.6f} * (
              {terms});
#pragma endscop
  double s = 0;
  for (int i = 0; i < {n}; i++)
    for (int j = 0; j < {n}; j++)
      for (int k = 0; k < {n}; k++)
        s += A[T % 2][i][j][k] * (i + 2 * j + 3 * k);
  printf("%.12f\\n", s);
  return 0;
}}
"""


def _scop(tmp_path: Path, kind: str, n: int, offsets: list[tuple[int, int, int]]):
    path = tmp_path / f"periodic-{kind}-{len(offsets)}.c"
    path.write_text(periodic_stencil(kind, n, offsets))
    return read_scop(path)


def _candidates(start: Schedule, deps: Dependences) -> list[Schedule]:
    """Every candidate the default search's levels offer the original program, and those offered to
    the first legal candidate of each level (a second step on top of the first)."""
    found: list[Schedule] = []
    parents = [start]
    space = Space()
    for _, generate in levels(space):
        fresh = [parent.then(*steps) for parent in parents for steps in generate(parent, space, deps)]
        found += fresh
        legal = next((c for c in fresh if check(c, deps)), None)
        parents = [start] + ([legal] if legal is not None else [])
    return found


@pytest.mark.parametrize("kind", ["mod", "ternary"])
def test_periodic_27_point_stencil_dependences_and_legality_take_seconds(kind: str, tmp_path) -> None:
    scop = _scop(tmp_path, kind, 16, OFFSETS_27)
    assert by_reference(scop)
    started = time.perf_counter()
    deps = compute_dependences(scop)
    candidates = _candidates(Schedule(scop), deps)
    verdicts = [bool(check(c, deps)) for c in candidates]
    elapsed = time.perf_counter() - started
    # About 2-5 s on a quiet 2-core machine (minutes before dependences were analysed per reference);
    # the bound leaves room for a busy one.
    assert elapsed < 30, f"dependences and {len(candidates)} legality checks took {elapsed:.1f} s"
    assert len(candidates) > 100 and 0 < sum(verdicts) < len(verdicts)
    # The wrap-around makes every neighbour a dependence: the time loop carries them all, so moving
    # it inward or running it in parallel is illegal, while the space loops may be permuted.
    t_inner = Schedule(scop).then(T.Interchange("S0", 0, 1))
    assert not check(t_inner, deps) and not check(Schedule(scop).then(T.Parallelize("S0", 0)), deps)
    assert check(Schedule(scop).then(T.Interchange("S0", 1, 3)), deps)


@pytest.mark.parametrize("kind", ["mod", "ternary"])
def test_per_reference_dependences_equal_the_whole_relation_analysis(kind: str, tmp_path, monkeypatch) -> None:
    scop = _scop(tmp_path, kind, 8, OFFSETS_7)
    tagged = compute_dependences(scop)
    monkeypatch.setattr(looper.deps, "by_reference", lambda scop: False)
    whole = compute_dependences(scop)
    for kind_name, relation in tagged.by_kind().items():
        assert relation.is_equal(whole.by_kind()[kind_name]), kind_name


@pytest.mark.parametrize("kind", ["mod", "ternary"])
def test_legality_on_wrapping_subscripts_agrees_with_the_definition(kind: str, tmp_path) -> None:
    scop = _scop(tmp_path, kind, 8, OFFSETS_7)
    deps = compute_dependences(scop)
    candidates = _candidates(Schedule(scop), deps)[::7]  # a sample: the direct check is slow here
    assert len(candidates) > 40
    for candidate in candidates:
        assert bool(check(candidate, deps)) == reference_legal(candidate, deps), str(candidate)
