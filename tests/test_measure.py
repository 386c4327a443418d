"""`--search measure`: real builds and runs, the result verified, and the measurement cache reused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from looper.api import optimize
from looper.search import Space
from polybench import KERNELS

SMALL = Space(fusion=False, unimodular_steps=1, tile_sizes=(16,), unroll_factors=(2,), cube_sizes_3d=False)


def test_measure_search_verifies_and_reuses_its_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOPER_CACHE", str(tmp_path / "cache"))
    options = dict(search="measure", beam_width=1, space=SMALL, repeat=1,
                   defines={"MINI_DATASET": None})
    first = optimize(KERNELS["gemm"].source, verify=True, **options)
    assert first.verification is not None and first.verification.ok, first.verification.message
    region = first.regions[0]
    assert region.measured_speedup is not None and region.measured_speedup > 0
    assert region.search is not None and region.search.stats.scored > 1

    db = sqlite3.connect(tmp_path / "cache" / "measurements.db")
    rows = db.execute("SELECT schedule, compiler FROM times").fetchall()
    assert len(rows) >= region.search.stats.scored
    # Times taken under another OpenMP wait policy are not comparable, so the policy is in the key.
    assert all("OMP_WAIT_POLICY=passive" in compiler for _, compiler in rows)
    # The Pluto-class schedule is timed as well, so the measured search can keep it when it is faster.
    pluto = optimize(KERNELS["gemm"].source, search="pluto", space=SMALL, defines={"MINI_DATASET": None})
    assert pluto.regions[0].schedule.fingerprint() in {fingerprint for fingerprint, _ in rows}

    again = optimize(KERNELS["gemm"].source, **options)
    assert db.execute("SELECT COUNT(*) FROM times").fetchone()[0] == len(rows)  # every candidate from the cache
    assert again.code == first.code


def test_hybrid_keeps_the_fastest_timed_candidate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOPER_CACHE", str(tmp_path / "cache"))
    result = optimize(KERNELS["atax"].source, search="hybrid", beam_width=2, space=SMALL, repeat=1, top_k=3,
                      defines={"MINI_DATASET": None}, verify=True)
    assert result.verification is not None and result.verification.ok, result.verification.message
    region = result.regions[0]
    origins = [origin for origin, _, _ in region.timed]
    assert 1 <= origins.count("model") <= 3 and origins.count("pluto") <= 1
    assert origins[: origins.count("model")] == ["model"] * origins.count("model")  # the model's picks first
    speedups = [s for _, _, s in region.timed]
    best = max(range(len(speedups)), key=lambda i: (speedups[i], -i))
    if speedups[best] > 1.0:
        assert region.schedule.fingerprint() == region.timed[best][1].fingerprint()
        assert region.measured_speedup == speedups[best]
    else:
        assert region.measured_speedup == 1.0 and "identity" in str(region.schedule)
