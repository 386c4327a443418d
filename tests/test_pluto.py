"""The Pluto-class scheduler (looper.pluto), its post-processing (looper.recipe) and the seeds of the search."""

from __future__ import annotations

import pytest

from frontend import read_scop, read_scops
from looper import pluto
from looper import transforms as T
from looper.deps import compute_dependences
from looper.legality import carried_at, check, permutable
from looper.recipe import TILE_BYTES, apply_recipe, tile_bytes
from looper.schedule import Schedule
from looper.search.seeds import plain, pluto_base, seeds
from polybench import KERNELS
from polybench.manifest import UTILITIES


def _read(name: str):
    scop = read_scop(KERNELS[name].source)
    return scop, compute_dependences(scop)


def _rows(ps: pluto.PlutoSchedule) -> dict[str, list[str]]:
    """Each statement's schedule printed as Pluto would: `T(S0): (0, t, 0, 2t + i, ...)`."""
    return {line.split(":")[0]: line for line in Schedule(ps.scop).then(ps.reschedule()).describe()}


def test_jacobi_1d_is_skewed_into_one_permutable_band() -> None:
    scop, deps = _read("jacobi-1d")
    ps = pluto.schedule(scop, deps)
    rows = _rows(ps)
    # Pluto's classic result: time, then the skewed space loop, the second statement shifted by one.
    assert "t, 0, 2t + i," in rows["T(S0)"] and "t, 0, 1 + 2t + i," in rows["T(S1)"]
    assert ps.bands() == [[0, 1]]


def test_seidel_2d_gets_the_wavefront_friendly_band() -> None:
    scop, deps = _read("seidel-2d")
    ps = pluto.schedule(scop, deps)
    assert "t, 0, t + i, 0, 2t + i + j" in _rows(ps)["T(S0)"]
    schedule = Schedule(scop).then(ps.reschedule())
    low = schedule.lowered
    assert permutable(schedule, deps, ["S0"], low.loop_dims("S0"))
    # The original (t, i, j) band is not permutable: that is why the skew is needed.
    assert not permutable(Schedule(scop), deps, ["S0"], Schedule(scop).lowered.loop_dims("S0"))


def test_fusion_policies_differ_on_gemm() -> None:
    scop, deps = _read("gemm")
    smart, maximal = pluto.schedule(scop, deps, "smart"), pluto.schedule(scop, deps, "max")
    # Smart fusion separates statements of different depth (C *= beta, then the product) ...
    assert not smart.levels[0].loop and smart.levels[0].rows["S0"] != smart.levels[0].rows["S1"]
    # ... maximal fusion runs both in one loop nest.
    assert maximal.levels[0].loop
    with pytest.raises(ValueError):
        pluto.schedule(scop, deps, "greedy")


def test_a_loop_written_downwards_keeps_its_direction() -> None:
    scop, deps = _read("nussinov")  # for (i = N - 1; i >= 0; i--)
    ps = pluto.schedule(scop, deps)
    assert "-i" in _rows(ps)["T(S0)"]
    assert check(Schedule(scop).then(ps.reschedule()), deps)


def test_statements_sharing_every_loop_keep_their_textual_order() -> None:
    scop, deps = _read("jacobi-2d")
    maps = pluto.schedule(scop, deps).maps()
    # Both statements share the three loops; the last dimension puts S0 (B = f(A)) before S1 (A = f(B))
    # in the body, so that the dependence between them points forward and gcc can vectorize the loop.
    last = {name: str(m).rsplit(",", 1)[1] for name, m in maps.items()}
    assert last["S0"].strip().startswith("0") and last["S1"].strip().startswith("1")


@pytest.mark.parametrize("fusion", pluto.POLICIES)
@pytest.mark.parametrize("name", sorted(KERNELS))
def test_every_band_is_legal_and_permutable(name: str, fusion: str) -> None:
    scop, deps = _read(name)
    ps = pluto.schedule(scop, deps, fusion)
    schedule = Schedule(scop).then(ps.reschedule())
    verdict = check(schedule, deps)
    assert verdict, verdict.reason
    low = schedule.lowered
    dims_of_band: dict[int, list[int]] = {}
    for dim, band in ps.band_of_dim().items():
        dims_of_band.setdefault(band, []).append(dim)
    for dims in dims_of_band.values():
        for s in low.rows:
            loop_dims = [d for d in dims if low.is_loop(s, d)]
            if loop_dims:
                assert permutable(schedule, deps, low.members(s, loop_dims[0]), loop_dims), (s, dims)


def test_recipe_tiles_with_a_stride_one_point_loop_and_runs_tiles_in_parallel() -> None:
    scop, deps = _read("gemm")
    schedule = plain(Schedule(scop), deps, "pluto")
    tiles = [t for t in schedule.steps if isinstance(t, T.Tile)]
    product = next(t for t in tiles if t.stmt == "S1")
    # S1 is C[i][j] += A[i][k] * B[k][j] under (i, j, k): the point loops run i, k, j (j stride-1).
    assert product.sizes == (32, 32, 32) and product.order == (0, 2, 1)
    assert any(isinstance(t, T.Parallelize) and t.depth == 0 for t in schedule.steps)


def test_recipe_makes_a_wavefront_of_tiles_when_no_tile_loop_is_parallel() -> None:
    scop, deps = _read("jacobi-2d")
    schedule = plain(Schedule(scop), deps, "pluto")
    kinds = [type(t) for t in schedule.steps]
    assert kinds[:2] == [T.Reschedule, T.Tile]
    assert T.Skew in kinds and T.Parallelize in kinds
    low = schedule.lowered
    parallel_dim = min(d for _, d in low.parallel)
    assert carried_at(schedule, deps, sorted(low.rows), parallel_dim) is None


def test_the_point_loops_of_a_skewed_stencil_keep_its_time_loop_outside() -> None:
    # In the skewed band (t, 2t+i, 2t+j) the time loop walks a diagonal of A: never the innermost point loop.
    scop, deps = _read("jacobi-2d")
    schedule = apply_recipe(pluto_base(Schedule(scop), deps), deps)
    tile = next(s for s in schedule.steps if isinstance(s, T.Tile))
    assert tile.order[-1] != 0, tile


def test_a_reduction_is_not_the_innermost_point_loop_when_its_neighbour_vectorizes() -> None:
    # gesummv: tmp[i] += A[i][j] * x[j]; the j loop carries the sum, the i loop is free and simd.
    scop, deps = _read("gesummv")
    schedule = apply_recipe(pluto_base(Schedule(scop), deps), deps)
    tile = next(s for s in schedule.steps if isinstance(s, T.Tile))
    assert tile.order[-1] == 0, tile
    assert any(isinstance(s, T.Vectorize) and s.stmt == tile.stmt for s in schedule.steps), schedule.steps
    assert check(schedule, deps)


def test_a_statement_at_one_point_of_the_innermost_loop_is_distributed_out_of_it() -> None:
    # trisolv: in the tile, x[i] -= L[i][j] * x[j] runs j outer, i inner (dependence-free, simd); the
    # division x[j] /= L[j][j] sits at one point of that i loop and would carry a dependence through it:
    # it goes into its own loop, before.
    scop, deps = _read("trisolv")
    schedule = apply_recipe(pluto_base(Schedule(scop), deps), deps)
    assert T.Distribute("S2", 3, first=True) in schedule.steps, schedule.steps
    low = schedule.lowered
    inner = low.loop_dims("S1")[-1]
    assert low.members("S1", inner) == ["S1"] and ("S1", inner) in low.vector
    assert carried_at(schedule, deps, ["S1"], inner) is None and check(schedule, deps)


def test_statements_stride_one_along_different_point_loops_get_their_own_tile_loops() -> None:
    # bicg's Pluto schedule fuses s[j] += r[i] * A[i][j] (S2) and q[i] += A[i][j] * p[j] (S3) with one parallel
    # tile loop for both (j-blocks for S2, i-blocks for S3); the point loops suit S2, whose accesses are
    # stride-1 along the innermost. S3 gets its own loops inside the parallel one, and each innermost loop
    # runs one statement alone.
    scop, deps = _read("bicg")
    schedule = apply_recipe(pluto_base(Schedule(scop), deps), deps)
    low = schedule.lowered
    s2, s3 = low.loop_dims("S2"), low.loop_dims("S3")
    assert len(s2) == len(s3) == 4 and s2[0] == s3[0] and low.members("S2", s2[0]) == ["S2", "S3"]
    assert ("S2", s2[0]) in low.parallel and low.members("S2", s2[1]) == ["S2"] and low.members("S3", s3[1]) == ["S3"]
    assert ("S2", s2[-1]) in low.vector and ("S3", s3[-1]) in low.vector
    assert T.Distribute("S3", 1, first=True) in schedule.steps and check(schedule, deps)
    # gesummv's two statements agree on their point order: they stay together.
    scop, deps = _read("gesummv")
    schedule = apply_recipe(pluto_base(Schedule(scop), deps), deps)
    assert not any(isinstance(s, T.Distribute) for s in schedule.steps), schedule.steps


def test_serial_tiles_of_a_band_larger_than_l2_are_walked_along_rows() -> None:
    # trisolv at LARGE (L is 32 MB): the Pluto schedule's tile loops run j-blocks outside i-blocks, down
    # L's columns; no tile loop is parallel, so the i-blocks go outside and the tiles of a block of rows
    # run along them. doitgen's band (C4, 200 KB, for one (r, q)) fits in L2: its tile order stays.
    outer_tiles = {}
    for name in ("trisolv", "doitgen"):
        scop = read_scop(KERNELS[name].source, include_dirs=[UTILITIES],
                         defines={"POLYBENCH_USE_SCALAR_LB": None, "LARGE_DATASET": None})
        deps = compute_dependences(scop)
        schedule = apply_recipe(pluto_base(Schedule(scop), deps), deps)
        tile = next(s for s in schedule.steps if isinstance(s, T.Tile))
        low = schedule.lowered
        outer_tiles[name] = (str(low.rows[tile.stmt][low.loop_dims(tile.stmt)[tile.depth]]),
                             T.Interchange(tile.stmt, tile.depth, tile.depth + 1) in schedule.steps)
        assert check(schedule, deps)
    assert "floor((i)/32)" in outer_tiles["trisolv"][0] and outer_tiles["trisolv"][1]
    assert not outer_tiles["doitgen"][1]


def test_distribute_first_puts_the_statement_before_the_rest_of_its_loop() -> None:
    scop = read_scop("void f(int n, double a[n], double b[n]) {\n#pragma scop\n"
                     "for (int i = 0; i < n; i++) {\n  a[i] = 1.0;\n  b[i] = 2.0;\n}\n#pragma endscop\n}\n")
    split = Schedule(scop).then(T.Distribute("S1", 0, first=True))
    assert split.lowered.constant("S1", 0) < split.lowered.constant("S0", 0)
    assert T.from_json(T.Distribute("S1", 0, first=True).to_json()) == T.Distribute("S1", 0, first=True)
    assert str(T.Distribute("S1", 0, first=True)) == "distribute(S1, 0, first)"


def test_a_tile_touches_the_elements_of_its_box() -> None:
    scop = read_scop("#define N 1000\nvoid f(double A[N][N], double B[N][N]) {\n#pragma scop\n"
                     "for (int i = 1; i < N; i++)\n  for (int j = 0; j < N; j++)\n    B[i][j] = A[i - 1][j];\n"
                     "#pragma endscop\n}\n")
    low = Schedule(scop).lowered
    dims = low.loop_dims("S0")
    # 32 x 32 elements of B, 32 x 32 of A (shifted by a row): 16 KiB; 8 KiB at 32 x 16.
    assert tile_bytes(Schedule(scop), ("S0",), dims, (32, 32)) == 2 * 32 * 32 * 8
    assert tile_bytes(Schedule(scop), ("S0",), dims, (32, 16)) == 2 * 32 * 16 * 8


def test_heat_3d_tiles_fit_in_l2_with_the_time_loop_outermost() -> None:
    # Its time-skewed band (t, i, j) tiled around the untiled k loop: 32^3 tiles span 8 MiB, 8^3 ones under 1.
    scop = read_scops(KERNELS["heat-3d"].source, include_dirs=[UTILITIES],
                      defines={"POLYBENCH_USE_SCALAR_LB": None, "LARGE_DATASET": None})[0]
    deps = compute_dependences(scop)
    base = pluto_base(Schedule(scop), deps)
    dims = base.lowered.loop_dims("S0")[:3]
    larger, fitting = (tile_bytes(base, ("S0", "S1"), dims, (size,) * 3) for size in (16, 8))
    assert larger is not None and fitting is not None and larger > TILE_BYTES >= fitting
    tile = next(t for t in plain(Schedule(scop), deps, "pluto").steps if isinstance(t, T.Tile))
    assert tile.sizes == (8, 8, 8) and tile.order in ((), (0, 1, 2)), tile


def test_the_reuse_policy_keeps_apart_statements_that_share_no_large_array() -> None:
    # LARGE: gesummv's A x and B x share only x (10 KB): apart; bicg's s and q updates both read A: fused.
    for name, a, b, fused in (("gesummv", "S2", "S3", False), ("bicg", "S2", "S3", True)):
        scop = read_scops(KERNELS[name].source, include_dirs=[UTILITIES],
                          defines={"POLYBENCH_USE_SCALAR_LB": None, "LARGE_DATASET": None})[0]
        deps = compute_dependences(scop)
        smart, reuse = (Schedule(scop).then(pluto.reschedule(scop, deps, f)).lowered for f in ("smart", "reuse"))
        assert smart.constant(a, 0) == smart.constant(b, 0), name
        assert (reuse.constant(a, 0) == reuse.constant(b, 0)) == fused, name


def test_recipe_on_the_original_program_is_legal_everywhere() -> None:
    for name in ("lu", "heat-3d", "deriche"):
        scop, deps = _read(name)
        assert check(apply_recipe(Schedule(scop), deps), deps)


def test_recipe_gives_each_inner_nest_of_a_time_loop_its_own_parallel_loop() -> None:
    scop, deps = _read("heat-3d")  # for t: { sweep A -> B; sweep B -> A }: t is sequential
    low = apply_recipe(Schedule(scop), deps).lowered
    assert {s for s, _ in low.parallel} == {"S0", "S1"}
    assert all(d != low.loop_dims(s)[0] for s, d in low.parallel)  # never the time loop


def test_seeds_are_distinct_and_named() -> None:
    scop, deps = _read("2mm")
    found = seeds(Schedule(scop), deps)
    origins = [s.origin for s in found]
    assert "pluto-smart" in origins and len({s.schedule.fingerprint() for s in found}) == len(found)
    assert all(isinstance(s.schedule.steps[0], T.Reschedule) for s in found)


def test_the_seeded_search_carries_every_seed_to_its_last_level() -> None:
    from looper.search import RandomEvaluator, Space, beam_search
    from looper.search.seeds import search_starts

    scop, deps = _read("jacobi-2d")
    starts = search_starts(Schedule(scop), deps)
    result = beam_search(Schedule(scop), deps, RandomEvaluator(3), beam_width=2, space=Space(), seeds=starts)
    origins = {result.origin(s) for s, _ in result.beam}
    assert origins >= {"original"} | {origin for origin, _ in starts}
    assert result.origin(result.best) in origins
    assert all(check(s, deps) for s, _ in result.beam)
    # A rescheduled seed keeps its scheduler's loop structure: only the later levels refine it.
    structure = {T.Fuse, T.Distribute, T.Interchange, T.Reverse, T.Skew, T.Shift}
    for schedule, _ in result.explored:
        if schedule.steps and isinstance(schedule.steps[0], T.Reschedule):
            recipe = schedule.steps.index(next(s for s in schedule.steps if isinstance(s, T.Tile))) \
                if any(isinstance(s, T.Tile) for s in schedule.steps) else len(schedule.steps)
            # the recipe's wavefront (skew, interchange of tile loops) comes after its tiles
            assert not structure & {type(s) for s in schedule.steps[1:recipe]}, schedule.steps


def test_explain_names_the_seed_the_schedule_grew_from(tmp_path) -> None:
    import subprocess
    import sys

    out = tmp_path / "out.c"
    proc = subprocess.run([sys.executable, "-m", "looper.cli", KERNELS["seidel-2d"].source, "-o", str(out),
                           "--explain", "--model", "analytical"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "[looper] grew from: " in proc.stderr

