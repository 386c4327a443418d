"""Everything that runs or times built code goes through the measurement harness (codegen.harness).

Two kinds of check: no package module but the harness starts a built program (the old run helpers
are gone), and each user, run for real, reaches the harness's two doors: the worker that runs
libraries (`Worker.call`) and the process runner (`subprocess.run` as `codegen.harness.process`
calls it), counted by spies that call the real thing.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

import codegen.harness.process
from codegen.harness.worker import Worker
from polybench import KERNELS

ROOT = Path(__file__).resolve().parents[1]
# Where package code may start a process, and what for (anything else would run code past the harness).
ALLOWED = {"codegen/build.py": "the compiler", "looper/bench/configs.py": "compiler probes and versions",
           "looper/bench/runner.py": "git rev-parse", "codegen/harness/worker.py": "the worker",
           "codegen/harness/process.py": "whole programs"}


def test_only_the_harness_starts_built_programs() -> None:
    starts = set()
    for package in ("looper", "costmodel", "polybench", "codegen", "frontend"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and isinstance(node.func.value, ast.Name) and node.func.value.id in ("subprocess", "os")
                        and node.func.attr in ("run", "Popen", "call", "check_call", "check_output", "system")):
                    starts.add(str(path.relative_to(ROOT)))
    assert starts <= set(ALLOWED), starts - set(ALLOWED)


@pytest.mark.parametrize(("module", "name"), [
    ("looper.verify", "run_program"), ("looper.fuzz.cases", "_run"), ("looper.measure", "time_program"),
    ("costmodel.datagen", "_run"), ("polybench.run", "run_once")])
def test_the_old_run_helpers_are_gone(module: str, name: str) -> None:
    helper = getattr(importlib.import_module(module), name, None)
    assert helper is None or helper.__module__.startswith("codegen.harness")  # at most the harness's, imported


@pytest.fixture
def doors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Counts of runs through the worker ("library") and through the process runner ("process")."""
    monkeypatch.setenv("LOOPER_CACHE", str(tmp_path / "cache"))
    counts: Counter = Counter()
    real_call, real_run = Worker.call, subprocess.run

    def call(self: Worker, request: dict, timeout: float) -> dict:
        counts["library"] += request["op"] in ("run", "capture")
        return real_call(self, request, timeout)

    def run(*args, **kwargs):
        counts["process"] += 1
        return real_run(*args, **kwargs)

    monkeypatch.setattr(Worker, "call", call)
    spy = SimpleNamespace(run=run, TimeoutExpired=subprocess.TimeoutExpired)
    monkeypatch.setattr(codegen.harness.process, "subprocess", spy)
    return counts


def test_dataset_generation_times_in_the_library_worker(doors: Counter) -> None:
    from costmodel.labels import measure_program
    from costmodel.programs import generated_programs

    (spec,) = generated_programs(520, 1)
    samples = measure_program(spec, 2, set(), spec.seed, repeat=1)
    assert samples and all(s.harness == "inproc-1" for s in samples)
    assert doors["library"] >= 3 and doors["process"] == 0


def test_the_measuring_search_times_in_the_library_worker_and_verify_runs_processes(doors: Counter) -> None:
    from looper.api import optimize
    from looper.search import Space

    small = Space(fusion=False, unimodular_steps=1, tile_sizes=(16,), unroll_factors=(2,), cube_sizes_3d=False)
    result = optimize(KERNELS["atax"].source, search="measure", beam_width=1, space=small, repeat=1,
                      defines={"MINI_DATASET": None}, verify=True)
    assert result.verification is not None and result.verification.ok
    assert doors["library"] >= 3 and doors["process"] == 2  # the original and the output, once each


def test_fuzzing_runs_processes(doors: Counter) -> None:
    from looper.fuzz.cases import Case, evaluate

    source = KERNELS["jacobi-1d"].source.read_text().replace('#include "jacobi-1d.h"',
                                                              KERNELS["jacobi-1d"].source.with_suffix(".h").read_text())
    outcome = evaluate(Case(source, (("MINI_DATASET", 1),), "none"))
    assert outcome.status == "ok", outcome.message
    assert doors["process"] == 2 and doors["library"] == 0


def test_polybench_run_times_in_the_library_worker(doors: Counter, capsys) -> None:
    from polybench.__main__ import main

    assert main(["run", "jacobi-1d", "--size", "MINI", "--repeat", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["times"]) == 3 and doors["library"] == 4  # one untimed run first
    assert doors["process"] == 0


def test_bench_times_peers_as_processes_and_looper_in_the_library_worker(doors: Counter, tmp_path: Path) -> None:
    from looper.bench.configs import default_configs
    from looper.bench.runner import Settings, measure_kernel

    configs = default_configs()
    rows = measure_kernel(KERNELS["jacobi-1d"], [configs["gcc"], configs["graphite"], configs["looper-isl"]],
                          Settings(size="MINI", repeat=2, workdir=tmp_path / "work"))
    assert [r.status for r in rows] == ["ok"] * 3
    looper_row = rows[2]
    assert looper_row.baseline_times != rows[0].times  # its own baseline: the original in its library
    # Verification: 3 processes; timing: gcc and graphite as processes, looper-isl and the original in a library.
    assert doors["process"] >= 3 + 2 * 2 and doors["library"] >= 1 + 2 * 2
