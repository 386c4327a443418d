"""looper fuzz: a CI-sized differential run finds nothing; the reducer shrinks injected bugs to small
reproducers that still fail; hangs and crashes are caught; runs resume; and every reproducer ever
found (tests/fuzz_regressions/*.c + .json) stays fixed."""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import pytest

import codegen.ast_c
import looper.fuzz.cases as cases
import looper.legality
import looper.search.sampler
from costmodel.generator import generate
from looper.cli import main
from looper.fuzz.cases import Case, evaluate, remap_schedule
from looper.fuzz.reduce import Reducer, count_statements, deletions, local_call, parse_items, region_bounds
from looper.fuzz.runner import Options, run
from looper.legality import LEGAL
from looper.schedule import Schedule
from looper.search import Space

REGRESSIONS = Path(__file__).parent / "fuzz_regressions"
# A few hundred cases on small programs: about 2 minutes on a loaded 2-core machine.
CI = Options(programs=20, schedules=12, jobs=2, max_nests=2, max_depth=3, quiet=True)


@pytest.fixture(scope="module")
def ci_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fuzz") / "out"
    started = time.monotonic()
    summary = run(out, CI)
    return out, summary, time.monotonic() - started


def test_ci_run_finds_no_failure(ci_run) -> None:
    out, summary, seconds = ci_run
    failures = (out / "failures.txt").read_text() if (out / "failures.txt").exists() else ""
    assert summary["failures"] == 0, failures
    assert summary["cases"] >= 250, summary
    assert set(summary["cases_by_mode"]) == {"schedule", "pluto", "isl", "model", "random", "none"}
    assert summary["programs"]["run"] == 20 and summary["invalid_cases"] == 0
    assert summary["cases_per_second"] > 0 and seconds < 300


def test_resume_skips_finished_programs(ci_run, tmp_path, capsys) -> None:
    out, _, _ = ci_run
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    status = main(["fuzz", "--programs", "21", "--schedules-per-program", "3", "--max-nests", "2", "--max-depth",
                   "2", "--searches", "none", "--quiet", "--out", str(copy)])
    summary = json.loads(capsys.readouterr().out)
    assert status == 0
    assert summary["programs"] == {"requested": 21, "run": 1, "finished_before": 20, "invalid": 0,
                                   "generator_errors": 0}
    assert summary["totals"]["programs"] == 21
    assert 1 <= summary["cases"] <= 4


def _no_legality(monkeypatch, *, parallel: bool = True) -> None:
    """The injected bug: a legality check that accepts every schedule (sampler included); without
    parallel loops its wrong outputs are deterministic (no races)."""
    monkeypatch.setattr(looper.legality, "check", lambda schedule, deps: LEGAL)
    monkeypatch.setattr(looper.search.sampler, "check", lambda schedule, deps: LEGAL)
    if not parallel:
        monkeypatch.setattr(looper.search.sampler, "samples",
                            functools.partial(looper.search.sampler.samples, space=Space(parallel=False)))


def _first_failure(kind: str, seeds=range(7000, 7020)) -> tuple[Case, cases.Outcome]:
    for seed in seeds:
        program = generate(seed, max_nests=3, max_depth=3)
        base = Case(program.source, tuple(sorted(program.small_defines().items())), "sample", seed=seed, count=6)
        for schedule in evaluate(base).schedules:
            case = base.with_(mode="schedule", schedule=schedule)
            outcome = evaluate(case)
            racy = any(step["kind"] == "parallelize" for step in schedule["steps"])  # may not fail again
            if outcome.status == kind and not racy and len(schedule["steps"]) >= 3 and count_statements(
                    case.source) >= 2:
                return case, outcome
    pytest.fail(f"the injected bug caused no {kind}")


def test_reducer_shrinks_a_wrong_legality_check(monkeypatch) -> None:
    _no_legality(monkeypatch)
    case, outcome = _first_failure("wrong_output")
    reduction = Reducer(local_call, budget=150).reduce(case, outcome)
    small = reduction.case
    assert reduction.outcome.status == "wrong_output"
    assert reduction.steps_after < reduction.steps_before == len(case.schedule["steps"])
    assert reduction.statements_after <= reduction.statements_before
    assert reduction.steps_after + reduction.statements_after < reduction.steps_before + reduction.statements_before
    assert all(v <= dict(case.defines)[k] for k, v in small.defines)
    assert evaluate(small, runs=5).signature == outcome.signature  # still fails, from scratch
    monkeypatch.undo()
    fixed = evaluate(small)  # the real legality check rejects the reproducer's schedule
    assert fixed.status == "invalid" and "illegal schedule" in fixed.message


def test_reducer_shrinks_a_codegen_bug(monkeypatch) -> None:
    real = codegen.ast_c.generate

    def broken(schedule, indent="  "):  # unrolled loops get a statement that does not compile
        g = real(schedule, indent)
        return codegen.ast_c.Generated(g.code.replace("#pragma GCC unroll", "looper_bug;\n#pragma GCC unroll"),
                                       g.uses_helpers, g.uses_openmp)

    monkeypatch.setattr(codegen.ast_c, "generate", broken)
    case, outcome = _first_failure("build_error")
    reduction = Reducer(local_call, budget=150).reduce(case, outcome)
    assert reduction.outcome.status == "build_error" and "looper_bug" in reduction.outcome.message
    assert [s["kind"] for s in reduction.case.schedule["steps"]] == ["unroll"]
    assert reduction.statements_after == 1 < reduction.statements_before
    assert evaluate(reduction.case).status == "build_error"


def test_region_items_and_deletions() -> None:
    source = ("int f() {\n#pragma scop\n  for (i = 0; i < n; i++)\n    for (j = 0; j < n; j++) {\n"
              "      A[i][j] = 0;\n      if (i > j)\n        B[i] = A[i][j] + (C[i]);\n    }\n"
              "  x = 1;\n#pragma endscop\n}\n")
    items = parse_items(source, *region_bounds(source))
    assert [i.kind for i in items] == ["for", "simple"]
    assert count_statements(source) == 3
    spans = deletions(source)
    texts = [source[a:b].strip() for a, b in spans]
    assert texts[0].startswith("for (i") and "x = 1;" in texts and "A[i][j] = 0;" in texts
    assert "B[i] = A[i][j] + (C[i]);" not in texts  # an unbraced body goes with its if
    assert any(t.startswith("if (i > j)") for t in texts)


def test_schedule_follows_deleted_statements() -> None:
    """Deleting S0 renames S1, S2 to S0, S1; a step on S0 moves to a statement of the same loop."""
    source = ('#include "polybench.h"\nvoid kernel(int n, double A[10][10], double B[10], double C[10]) {\n'
              "  int i, j;\n#pragma scop\n  for (i = 0; i < n; i++) {\n    B[i] = 1.0;\n"
              "    for (j = 0; j < n; j++)\n      A[i][j] = A[i][j] + B[i];\n  }\n"
              "  for (i = 0; i < n; i++)\n    C[i] = C[i] * 2.0;\n#pragma endscop\n}\n")
    smaller = source.replace("    B[i] = 1.0;\n", "")
    schedule = {"steps": [{"kind": "parallelize", "stmt": "S0", "depth": 0},
                          {"kind": "reverse", "stmt": "S2", "depth": 0},
                          {"kind": "fuse", "stmt": "S0", "other": "S2", "depth": 0, "shift": 0}]}
    moved = remap_schedule(source, smaller, (), schedule)
    assert moved["statements"] == ["S0", "S1"]
    assert moved["steps"] == [{"kind": "parallelize", "stmt": "S0", "depth": 0},
                              {"kind": "reverse", "stmt": "S1", "depth": 0},
                              {"kind": "fuse", "stmt": "S0", "other": "S1", "depth": 0, "shift": 0}]
    assert remap_schedule(source, source.replace("C[i] * 2.0", "C[i] * 3.0"), (), schedule) is None


@pytest.mark.parametrize("method", ["fork"])
def test_runner_saves_reduced_reproducers(monkeypatch, tmp_path, method) -> None:
    """End to end: workers (forked, so they inherit the injected bug) fail, the failures are reduced
    and saved once, and a resumed run does not report them again."""
    _no_legality(monkeypatch, parallel=False)
    options = Options(programs=3, schedules=6, jobs=2, searches=("none",), max_nests=3, max_depth=3,
                      reduce_budget=60, max_reductions=1, start_method=method, quiet=True)
    summary = run(tmp_path, options)
    assert summary["failures"] >= 1, summary
    lines = (tmp_path / "failures.txt").read_text().splitlines()
    assert len(lines) == summary["failures"]
    reduced = [json.loads(p.read_text()) for p in (tmp_path / "reproducers").glob("*.json")]
    assert len(reduced) == len(lines)
    first = next(r for r in reduced if r["reduction"])
    steps, statements = first["reduction"]["steps"], first["reduction"]["statements"]
    assert steps[1] + statements[1] < steps[0] + statements[0]
    assert (tmp_path / "reproducers" / f"{first['id']}.c").read_text().startswith("/* looper fuzz reproducer")
    again = run(tmp_path, options)
    assert again["programs"]["run"] == 0 and again["programs"]["finished_before"] == 3
    assert (tmp_path / "failures.txt").read_text().splitlines() == lines


def test_hangs_crashes_and_dead_workers_are_failures(monkeypatch, tmp_path) -> None:
    real = cases.transformed_source

    def broken(case):
        if case.mode == "isl":
            time.sleep(600)
        if case.mode == "none":
            raise RuntimeError("injected")
        if case.number == 0:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(case)

    monkeypatch.setattr(cases, "transformed_source", broken)
    options = Options(programs=1, schedules=2, jobs=2, searches=("isl", "none"), max_nests=1, max_depth=2,
                      time_limit=8, reduce=False, start_method="fork", quiet=True)
    started = time.monotonic()
    summary = run(tmp_path, options)
    assert time.monotonic() - started < 60
    assert summary["failures_by_kind"] == {"crash": 2, "hang": 1}, summary
    assert summary["retried_after_worker_death"] == 1  # a dead worker gets a second chance
    text = (tmp_path / "failures.txt").read_text()
    assert "SIGKILL" in text and "RuntimeError: injected" in text and "time limit" in text
    db = sqlite3.connect(tmp_path / "state.sqlite")
    assert db.execute("SELECT COUNT(*) FROM failures").fetchone()[0] == 3


def _regressions() -> list[Path]:
    return sorted(REGRESSIONS.glob("*.json"))


@pytest.mark.parametrize("path", _regressions(), ids=lambda p: p.stem)
def test_fuzz_regression(path: Path) -> None:
    """A reproducer the fuzzer once found stays fixed: with `"expect": "illegal"` its schedule is rejected
    by the legality check (such failures are often races, which a run shows only now and then); else the
    case runs and matches the original (or its schedule is rejected)."""
    data = json.loads(path.read_text())
    if data.get("xfail"):
        pytest.xfail(data["xfail"])
    case = Case(path.with_suffix(".c").read_text(), tuple(data["defines"].items()), data["mode"],
                schedule=data.get("schedule"), seed=data.get("seed", 0), count=data.get("count", 0),
                beam_width=data.get("beam_width", 2))
    if data.get("expect") == "illegal":
        scop, deps = cases.read_program(case.source, case.defines)
        assert not looper.legality.check(Schedule.from_json(scop, case.schedule), deps)
    outcome = evaluate(case, runs=5)
    assert not outcome.failed, outcome.message
    assert outcome.status == "ok" or "illegal schedule" in outcome.message, outcome.message
