"""The beam search's contract: unchanged child kept, illegal never scored, best kept, deterministic."""

from __future__ import annotations

from collections.abc import Sequence

from frontend import read_scop, read_scops
from looper import transforms as T
from looper.counting import L2_BYTES
from looper.deps import compute_dependences
from looper.legality import check, permutable, skew_may_help
from looper.schedule import Schedule
from looper.search import AnalyticalEvaluator, RandomEvaluator, Space, beam_search
from looper.search.candidates import SAMPLING_SPACE, unimodular
from looper.search.sampler import samples
from looper.search.seeds import plain
from looper.search.strategies import STRATEGIES, Settings, without_idle_skews
from looper.strides import rows_crossed
from polybench.manifest import KERNELS, UTILITIES
from tests.engine_support import build_variant, check_outputs, kernel_scop, program


class Recording:
    """An evaluator that checks legality of everything it is asked to score, and records it."""

    def __init__(self, inner, deps) -> None:
        self.inner, self.deps = inner, deps
        self.seen: list[Schedule] = []

    def score(self, schedules: Sequence[Schedule]) -> list[float]:
        for s in schedules:
            assert check(s, self.deps), f"an illegal candidate was scored: {s}"
        self.seen += schedules
        return self.inner.score(schedules)


class Constant:
    """Scores every schedule the same: the search must then keep the unchanged (first) child."""

    def score(self, schedules: Sequence[Schedule]) -> list[float]:
        return [1.0] * len(schedules)


def test_illegal_candidates_are_never_scored_and_stats_add_up() -> None:
    scop, deps, _ = kernel_scop("seidel-2d")
    evaluator = Recording(RandomEvaluator(1), deps)
    result = beam_search(Schedule(scop), deps, evaluator, beam_width=3)
    stats = result.stats
    assert stats.illegal > 0, "seidel-2d has illegal candidates to drop"
    assert stats.scored == len(evaluator.seen)
    assert stats.generated == stats.duplicates + stats.not_applicable + stats.illegal + stats.legal
    assert stats.scored == stats.legal + 1  # + the starting schedule


def test_unchanged_child_survives_when_nothing_is_better() -> None:
    scop, deps, _ = kernel_scop("gemm")
    result = beam_search(Schedule(scop), deps, Constant(), beam_width=2)
    assert result.best.steps == ()  # ties keep the earlier, simpler schedule: the unchanged child


def test_beam_keeps_the_best_scored_candidate() -> None:
    scop, deps, _ = kernel_scop("2mm")
    evaluator = Recording(RandomEvaluator(7), deps)
    result = beam_search(Schedule(scop), deps, evaluator, beam_width=4)
    best_seen = max(evaluator.inner.score(evaluator.seen))
    assert result.score == best_seen
    assert result.score == max(score for _, score in result.explored)
    assert [score for _, score in result.beam] == sorted((score for _, score in result.beam), reverse=True)


def test_search_is_deterministic_for_a_fixed_seed() -> None:
    scop, deps, _ = kernel_scop("jacobi-2d")
    runs = [beam_search(Schedule(scop), deps, RandomEvaluator(5), beam_width=3) for _ in range(2)]
    assert runs[0].best.fingerprint() == runs[1].best.fingerprint()
    assert [s.fingerprint() for s, _ in runs[0].explored] == [s.fingerprint() for s, _ in runs[1].explored]
    other = beam_search(Schedule(scop), deps, RandomEvaluator(6), beam_width=3)
    assert other.best.fingerprint() != runs[0].best.fingerprint() or other.score != runs[0].score


def test_space_flags_remove_transformations() -> None:
    scop, deps, _ = kernel_scop("gemm")
    space = Space(tile=False, parallel=False, unroll=False, vector=False)
    result = beam_search(Schedule(scop), deps, AnalyticalEvaluator(), beam_width=3, space=space)
    kinds = {t.kind for s, _ in result.explored for t in s.steps}
    assert kinds.isdisjoint({"tile", "parallelize", "unroll", "vectorize"})
    assert check(result.best, deps)


def test_analytical_evaluator_never_serves_another_programs_figures() -> None:
    # `looper evaluate --model analytical` scores program after program with one evaluator. CPython
    # gives a new Scop the id of a freed one, and a cache keyed by id() alone then served the old
    # program's figures (a KeyError on real data). Here the reused id is planted, deterministically.
    gemm, gesummv = kernel_scop("gemm")[0], kernel_scop("gesummv")[0]
    shared = AnalyticalEvaluator()
    shared.score([Schedule(gemm)])
    shared._weights[id(gesummv)] = shared._weights[id(gemm)]
    shared._baseline[id(gesummv)] = shared._baseline[id(gemm)]
    schedules = samples(Schedule(gesummv), compute_dependences(gesummv), 4, seed=0)
    assert shared.score(schedules) == AnalyticalEvaluator().score(schedules)


class PaysAfterInterchange:
    """Like a cost model on 2mm: distributing the update S1 alone costs a little; the j/k interchange
    that the distribution enables pays a lot."""

    def score(self, schedules: Sequence[Schedule]) -> list[float]:
        def one(s: Schedule) -> float:
            distributions = sum(t.kind == "distribute" for t in s.steps)
            enabled = T.Interchange("S1", 1, 2) in s.steps
            return 0.9**distributions * (5.0 if enabled else 1.0)

        return [one(s) for s in schedules]


def test_a_wide_fusion_beam_keeps_a_distribution_that_pays_later() -> None:
    scop, deps, _ = kernel_scop("2mm")
    narrow = beam_search(Schedule(scop), deps, PaysAfterInterchange(), beam_width=1)
    wide = beam_search(Schedule(scop), deps, PaysAfterInterchange(), beam_width=1, fusion_width=16)
    assert narrow.score == 1.0  # the narrow beam drops every distribution before it can pay
    assert wide.score > 4.0
    assert any(t.kind == "distribute" for t in wide.best.steps) and check(wide.best, deps)


class PaysPerMark:
    """Doubles the score for every statement inside a parallel loop and every tiled statement."""

    def score(self, schedules: Sequence[Schedule]) -> list[float]:
        def one(s: Schedule) -> float:
            low = s.lowered
            return 2.0 ** (len({stmt for stmt, _ in low.parallel}) + len(low.tiled))

        return [one(s) for s in schedules]


def test_nest_steps_parallelize_and_tile_every_nest(tmp_path) -> None:
    scop, deps, _ = kernel_scop("3mm")  # three matrix products, three loop nests
    late = dict(fusion=False, unimodular=False, unroll=False, vector=False)
    one = beam_search(Schedule(scop), deps, PaysPerMark(), space=Space(**late))
    every = beam_search(Schedule(scop), deps, PaysPerMark(), space=Space(**late, nest_steps=3))
    assert sum(t.kind == "parallelize" for t in one.best.steps) == 1
    assert sum(t.kind == "tile" for t in one.best.steps) == 1
    low = every.best.lowered
    names = {st.name for st in scop.statements}
    assert {stmt for stmt, _ in low.parallel} == names and low.tiled == names
    assert check(every.best, deps)
    binary = build_variant(KERNELS["3mm"], program("3mm", every.best), tmp_path, "nests")
    assert check_outputs(KERNELS["3mm"], binary) is None


def test_outer_parallel_sampling_takes_the_outermost_legal_loops() -> None:
    scop, deps, _ = kernel_scop("3mm")  # three nests, each with parallel outer loops
    space = Space(fusion=False, unimodular=False, nest_steps=3)

    def depths(outer_parallel: float) -> list[int]:
        found = samples(Schedule(scop), deps, 30, seed=0, space=space, outer_parallel=outer_parallel)
        return [t.depth for s in found for t in s.steps if isinstance(t, T.Parallelize)]

    uniform, outer = depths(0.0), depths(1.0)
    assert any(d > 0 for d in uniform)
    assert len(outer) >= 10 and set(outer) == {0}


def _offered(schedule: Schedule, deps, space: Space, kind: type[T.Transformation]) -> list[T.Transformation]:
    """The steps of one kind (T.Skew, T.Reverse) the unimodular level offers for `schedule`."""
    return [t for steps in unimodular(schedule, space, deps) for t in steps if isinstance(t, kind)]


def test_the_search_skews_only_bands_that_are_not_permutable_or_not_parallel() -> None:
    needed = Space()
    scop, deps, _ = kernel_scop("gemm")  # C[i][j] += ... over (i, k, j): permutable, i and j parallel
    gemm = Schedule(scop).then(T.Distribute("S1", 0))
    assert _offered(gemm, deps, SAMPLING_SPACE, T.Skew) and not _offered(gemm, deps, needed, T.Skew)
    assert _offered(gemm, deps, Space(needed_skews_only=False), T.Skew)
    scop, deps, _ = kernel_scop("seidel-2d")  # every loop carries a dependence: a wavefront needs a skew
    assert _offered(Schedule(scop), deps, needed, T.Skew)
    scop, deps, _ = kernel_scop("jacobi-1d")  # fused time steps: (1, -1) distances, not permutable
    fused = Schedule(scop).then(T.Fuse("S0", "S1", 1, 1))
    assert check(fused, deps)
    assert not _offered(Schedule(scop), deps, needed, T.Skew) and _offered(fused, deps, needed, T.Skew)
    assert skew_may_help(fused, deps, ["S0", "S1"], fused.lowered.loop_dims("S0")[:2])


def test_a_pair_of_loops_is_skewed_once() -> None:
    scop, deps, _ = kernel_scop("seidel-2d")
    skew = T.Skew("S0", 1, 2)
    once = Schedule(scop).then(skew)
    assert skew in _offered(Schedule(scop), deps, Space(), T.Skew)
    assert skew not in _offered(once, deps, Space(), T.Skew) and _offered(once, deps, Space(), T.Skew)
    assert skew in _offered(once, deps, SAMPLING_SPACE, T.Skew)  # the data sampler's space keeps repeats


def test_needed_reversals_only_reverses_loops_of_bands_that_are_not_permutable() -> None:
    needed = Space()  # the default
    scop, deps, _ = kernel_scop("gemm")
    gemm = Schedule(scop).then(T.Distribute("S1", 0))
    assert _offered(gemm, deps, SAMPLING_SPACE, T.Reverse) and not _offered(gemm, deps, needed, T.Reverse)
    scop, deps, _ = kernel_scop("jacobi-1d")
    fused = Schedule(scop).then(T.Fuse("S0", "S1", 1, 1))
    assert not permutable(fused, deps, ["S0", "S1"], fused.lowered.loop_dims("S0")[:2])
    assert _offered(fused, deps, needed, T.Reverse)


class SerialFirst:
    """Scores every schedule without a parallel loop above every parallel one (the model's bias at scale)."""

    def score(self, schedules: Sequence[Schedule]) -> list[float]:
        return [1.0 if s.lowered.parallel else 2.0 for s in schedules]


class SerialFirstTools:
    quiet = True

    def model(self) -> SerialFirst:
        return SerialFirst()

    def measure(self, progress=None):
        raise AssertionError("the model search measures nothing")


def test_a_serial_choice_gives_way_to_a_parallel_pluto_class_schedule() -> None:
    scop, deps, _ = kernel_scop("cholesky")  # LARGE: the recipe's parallel loop has work enough
    identity = Schedule(scop)
    settings = Settings(beam_width=2)
    decision = STRATEGIES["model"](identity, deps, settings, SerialFirstTools())
    assert decision.overruled is not None and not decision.overruled.lowered.parallel
    assert decision.schedule.lowered.parallel and check(decision.schedule, deps)
    assert decision.schedule.fingerprint() == plain(identity, deps, "pluto", settings.recipe()).fingerprint()
    serial = Settings(beam_width=2, space=Space(parallel=False))  # --noparallel: the search's choice stays
    kept = STRATEGIES["model"](identity, deps, serial, SerialFirstTools())
    assert kept.overruled is None and not kept.schedule.lowered.parallel


class CrossingFirst:
    """Scores schedules by how many large arrays their untiled innermost loops walk across rows."""

    def score(self, schedules: Sequence[Schedule]) -> list[float]:
        return [1.0 + rows_crossed(s, L2_BYTES) for s in schedules]


class CrossingFirstTools(SerialFirstTools):
    def model(self) -> CrossingFirst:  # type: ignore[override]
        return CrossingFirst()


def test_rows_crossed_counts_large_arrays_walked_across_rows_untiled() -> None:
    def copy(n: int) -> Schedule:
        return Schedule(read_scop(f"#define N {n}\nvoid f(double A[N][N], double B[N][N]) {{\n#pragma scop\n"
                                  "for (int i = 0; i < N; i++)\n  for (int j = 0; j < N; j++)\n"
                                  "    B[i][j] = A[i][j];\n#pragma endscop\n}}\n"))
    large, small = copy(1000), copy(100)  # 8 MB and 80 KB an array
    assert rows_crossed(large, L2_BYTES) == 0
    assert rows_crossed(large.then(T.Interchange("S0", 0, 1)), L2_BYTES) == 2
    assert rows_crossed(large.then(T.Interchange("S0", 0, 1), T.Tile("S0", 0, (32, 32))), L2_BYTES) == 0
    assert rows_crossed(small.then(T.Interchange("S0", 0, 1)), L2_BYTES) == 0


def test_a_choice_walking_large_arrays_across_rows_gives_way_to_the_pluto_class_schedule() -> None:
    # LARGE, its sizes known: L is 32 MB; isl's seed runs its columns untiled. The Pluto-class schedule
    # is tiled and serial (a wavefront would enter its parallel loop with too little work).
    scop = read_scops(KERNELS["trisolv"].source, include_dirs=[UTILITIES],
                      defines={"POLYBENCH_USE_SCALAR_LB": None, "LARGE_DATASET": None})[0]
    deps = compute_dependences(scop)
    identity = Schedule(scop)
    settings = Settings(beam_width=2)
    decision = STRATEGIES["model"](identity, deps, settings, CrossingFirstTools())
    assert decision.overruled is not None and "across rows" in decision.because
    assert rows_crossed(decision.overruled, L2_BYTES) > rows_crossed(identity, L2_BYTES)
    assert decision.schedule.fingerprint() == plain(identity, deps, "pluto", settings.recipe()).fingerprint()
    assert rows_crossed(decision.schedule, L2_BYTES) < rows_crossed(decision.overruled, L2_BYTES)


def test_a_skew_that_reorders_nothing_is_dropped_from_the_choice() -> None:
    scop = read_scop("#define N 100\nvoid f(double A[N][N]) {\n#pragma scop\nfor (int i = 1; i < N; i++)\n"
                     "  for (int j = 0; j < N; j++)\n    A[i][j] = A[i - 1][j] + 1.0;\n#pragma endscop\n}\n")
    deps = compute_dependences(scop)
    idle = Schedule(scop).then(T.Skew("S0", 0, 1, 1), T.Unroll("S0", 1, 2))
    assert without_idle_skews(idle, deps).steps == (T.Unroll("S0", 1, 2),)
    wavefront = Schedule(scop).then(T.Skew("S0", 0, 1, 1), T.Interchange("S0", 0, 1))  # anti-diagonals
    assert check(wavefront, deps) and without_idle_skews(wavefront, deps) is wavefront
