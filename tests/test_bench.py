"""`looper bench`: configuration detection, a tiny interleaved run, resuming, and verification of variants."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import replace
from pathlib import Path

import pytest

from codegen.harness import STATISTIC, summarize
from looper.bench.configs import BASELINE, Config, default_configs, select, unavailable
from looper.bench.runner import Settings, busy, measure_kernel, wait_until_quiet
from looper.bench.store import ERROR, FAILED, OK
from looper.cli import main
from polybench.manifest import KERNELS

KERNEL_PAIR = ["gemm", "jacobi-1d"]
CONFIGS = ["gcc", "graphite", "looper-isl"]


def _rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return sorted(con.execute("SELECT kernel, config, status, times, run_id, created FROM results").fetchall())


def test_missing_compiler_is_skipped_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOPER_CACHE", str(tmp_path / "cache"))
    configs = default_configs(clang="no-such-clang-99")
    assert "not found" in unavailable(configs["polly"])
    assert unavailable(replace(configs[BASELINE], flags=("-O3", "--no-such-flag"))) is not None
    assert unavailable(configs[BASELINE]) is None
    assert [c.name for c in select(["polly"], configs)] == [BASELINE, "polly"]
    with pytest.raises(ValueError, match="unknown configuration"):
        select(["icc"], configs)
    report, out = tmp_path / "B.md", tmp_path / "b.json"
    status = main(["bench", "--size", "MINI", "--kernels", "jacobi-1d", "--configs", "gcc", "polly", "--repeat", "1",
                   "--clang", "no-such-clang-99", "--results", str(tmp_path / "r.db"), "--report", str(report),
                   "--json", str(out), "--quiet"])
    assert status == 0
    data = json.loads(out.read_text())
    assert data["configurations"]["polly"]["available"] is False
    assert "no-such-clang-99" in data["configurations"]["polly"]["note"]
    assert "polly" not in data["sizes"]["MINI"]["kernels"]["jacobi-1d"]["configs"]
    assert "skipped: compiler 'no-such-clang-99' not found" in report.read_text()


def test_a_candidate_model_is_a_configuration_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture) -> None:
    from costmodel.inference import PRETRAINED

    monkeypatch.setenv("LOOPER_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "b.json"
    argv = ["bench", "--size", "MINI", "--kernels", "jacobi-1d", "--configs", "gcc", "--repeat", "1", "--results",
            str(tmp_path / "r.db"), "--json", str(out), "--quiet"]
    assert main([*argv, "--model", f"again={PRETRAINED}"]) == 0
    data = json.loads(out.read_text())
    assert f"--model {PRETRAINED}" in data["configurations"]["looper-again"]["description"]
    cell = data["sizes"]["MINI"]["kernels"]["jacobi-1d"]["configs"]["looper-again"]
    assert cell["status"] == OK and cell["speedup"] > 0
    for bad, says in ((f"pluto={PRETRAINED}", "configuration looper-pluto exists already"),
                      (str(PRETRAINED), "expected NAME=CHECKPOINT"), ("x=absent.pt", "no such cost-model checkpoint")):
        assert main([*argv, "--model", bad]) == 2
        assert says in capsys.readouterr().err


def test_a_variant_is_the_default_search_changed_by_looper_opt_flags(tmp_path: Path, capsys: pytest.CaptureFixture
                                                                      ) -> None:
    from looper.bench.command import _extra_configs
    from looper.search import Space
    from looper.search.strategies import Settings as SearchSettings

    configs = _extra_configs([], ["wide=--beam-width 8 --notile", "pluto2=--search pluto"], "gcc")
    wide = configs["looper-wide"].looper
    assert wide is not None and wide.beam_width == 8 and not wide.space.tile and wide.space.parallel
    assert replace(wide, beam_width=4, space=Space()) == SearchSettings()  # nothing but its flags differs
    assert wide.search == "model" and wide.model is None and configs["looper-pluto2"].looper.search == "pluto"
    assert configs["looper-wide"].description == "looper-opt --beam-width 8 --notile"
    for bad, says in (("w=--beam-width 0", "must be at least 1"), ("w=--bogus", "unrecognized arguments: --bogus"),
                      ("w=--model absent.pt", "no such cost-model checkpoint"), ("w=", "expected NAME=FLAGS"),
                      ("pluto=--beam-width 2", "configuration looper-pluto exists already"), ("w='", "cannot split")):
        with pytest.raises(ValueError, match=says):
            _extra_configs([], [bad], "gcc")
    status = main(["bench", "--size", "MINI", "--kernels", "jacobi-1d", "--variant", "w=--search nope",
                   "--results", str(tmp_path / "r.db"), "--quiet"])
    assert status == 2 and "looper bench: error: --variant 'w=--search nope': argument --search: invalid choice" in (
        capsys.readouterr().err)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("bench")
    patch = pytest.MonkeyPatch()
    patch.setenv("LOOPER_CACHE", str(tmp / "cache"))
    paths = {"db": tmp / "results.db", "json": tmp / "out.json", "report": tmp / "BENCHMARKS.md",
             "plot": tmp / "plot.png"}
    argv = ["bench", "--size", "MINI", "--kernels", *KERNEL_PAIR, "--configs", *CONFIGS, "--repeat", "2",
            "--results", str(paths["db"]), "--json", str(paths["json"]), "--report", str(paths["report"]),
            "--plot", str(paths["plot"]), "--commit", "test", "--quiet"]
    assert main(argv) == 0
    yield {"argv": argv, **paths}
    patch.undo()


def test_tiny_run_writes_json_report_and_plot(tiny_run: dict) -> None:
    data = json.loads(tiny_run["json"].read_text())
    assert data["commit"] == "test" and data["threads"] == 2 and data["statistic"] == STATISTIC
    mini = data["sizes"]["MINI"]
    assert list(mini["kernels"]) == KERNEL_PAIR
    for kernel in KERNEL_PAIR:
        cells = mini["kernels"][kernel]["configs"]
        assert list(cells) == CONFIGS
        for name in CONFIGS:
            cell = cells[name]
            assert cell["status"] == OK, cell["message"]
            # --repeat 2: at most 2 runs, 1 for one 10x slower than the best, up to 4 within 10% of it.
            assert 1 <= len(cell["times"]) <= 4 and cell["min"] <= cell["median"] <= cell["max"]
            assert cell["seconds"] == pytest.approx(summarize(cell["times"]))
            assert cell["speedup"] > 0 and cell["gflops"] > 0 and cell["load"] >= 0
        assert cells[BASELINE]["speedup"] == pytest.approx(1.0)
    ref = mini["kernels"]["gemm"]["reference"]
    assert ref["status"] == "reference" and ref["gflops"] > 0
    assert mini["geomean"]["graphite"]["kernels"] == 2
    text = tiny_run["report"].read_text()
    assert "## Method" in text and "## MINI" in text and "geometric mean" in text and "Roofline reference, gemm" in text
    assert "| `test` |" in text and "gcc (" in text and "](plot.png)" in text
    assert tiny_run["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_is_regenerated_from_results_json(tiny_run: dict, tmp_path: Path) -> None:
    first = json.loads(tiny_run["json"].read_text())
    report, plots = tmp_path / "docs" / "BENCHMARKS.md", tmp_path / "plots" / "{size}.png"
    argv = ["bench", "--from-json", str(tiny_run["json"]), "--report", str(report), "--plot", str(plots),
            "--results", str(tmp_path / "absent.db"), "--quiet"]
    assert main(argv) == 0
    assert not (tmp_path / "absent.db").exists()  # nothing measured, no database opened
    text = report.read_text()
    for heading in ("## Summary", "## Method", "## Configurations", "## Runs", "## MINI"):
        assert heading in text
    assert f"Written by `looper bench --from-json {tiny_run['json']} --report" in text  # how to regenerate it
    assert "![speedups over gcc at MINI](../plots/mini.png)" in text
    assert (tmp_path / "plots" / "mini.png").read_bytes()[:4] == b"\x89PNG"
    cell = first["sizes"]["MINI"]["kernels"]["gemm"]["configs"]["looper-isl"]
    assert f"({cell['speedup']:.2f}\u00d7)" in text
    # A later run of one configuration replaces that column only; the others stay from the first run.
    later = json.loads(json.dumps(first))
    later["date"], later["commit"], later["note"] = "2099-01-01T00:00:00+00:00", "later", "graphite only, again"
    for entry in later["sizes"]["MINI"]["kernels"].values():
        entry["configs"] = {n: c for n, c in entry["configs"].items() if n in ("gcc", "graphite")}
        entry["configs"]["graphite"]["speedup"] = 4.0
    later["sizes"]["MINI"]["configs"] = ["gcc", "graphite"]
    (tmp_path / "later.json").write_text(json.dumps(later))
    assert main(["bench", "--from-json", str(tmp_path / "later.json"), str(tiny_run["json"]), "--report",
                 str(report), "--configs", "graphite", "looper-isl", "--quiet"]) == 0
    text = report.read_text()
    assert "| `graphite` | 4.00\u00d7 (2; run 2) |" in text
    isl = first["sizes"]["MINI"]["geomean"]["looper-isl"]["speedup"]
    assert f"| `looper-isl` | {isl:.2f}\u00d7 (2; run 1) |" in text
    assert "- Run 2: graphite only, again" in text and "2099-01-01 00:00 UTC" in text
    assert main(["bench", "--from-json", str(tmp_path / "absent.json"), "--quiet"]) == 2


def test_rerun_measures_nothing_and_resumes_a_missing_config(tiny_run: dict) -> None:
    before = _rows(tiny_run["db"])
    assert len(before) == len(KERNEL_PAIR) * len(CONFIGS) + 1  # + the NumPy reference for gemm
    assert main(tiny_run["argv"]) == 0
    assert _rows(tiny_run["db"]) == before  # same rows, same times, same run ids
    with sqlite3.connect(tiny_run["db"]) as con:  # as if the run had been killed before graphite on jacobi-1d
        con.execute("DELETE FROM results WHERE kernel='jacobi-1d' AND config='graphite'")
    assert main(tiny_run["argv"]) == 0
    after = _rows(tiny_run["db"])
    assert len(after) == len(before)
    changed = [r for r in after if r not in before]
    assert [(r[0], r[1]) for r in changed] == [("jacobi-1d", "graphite")]
    assert changed[0][2] == OK


def test_busy_kernels_are_remeasured_on_request(tiny_run: dict) -> None:
    with sqlite3.connect(tiny_run["db"]) as con:  # pretend jacobi-1d was timed on a very busy machine
        con.execute("UPDATE results SET load = 99 WHERE kernel='jacobi-1d'")
    before = _rows(tiny_run["db"])
    assert main([*tiny_run["argv"], "--remeasure-busy", "50"]) == 0
    after = _rows(tiny_run["db"])
    changed = {(r[0], r[1]) for r in after if r not in before}
    assert changed == {("jacobi-1d", c) for c in CONFIGS}
    assert main([*tiny_run["argv"], "--remeasure-busy", "50"]) == 0  # now quiet enough: nothing more to do
    assert _rows(tiny_run["db"]) == after


def test_verification_catches_a_wrong_variant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOPER_CACHE", str(tmp_path / "cache"))
    base = default_configs()[BASELINE]
    wrong = Config("wrong", "gcc", rewrite=lambda text, k, s: text.replace("C[i][j] *= beta;", "C[i][j] *= -beta;"))
    broken = Config("broken", "gcc", rewrite=lambda text, k, s: text.replace("C[i][j] *= beta;", "C[i][j] *= ;"))
    same = Config("same", "gcc", rewrite=lambda text, k, s: text)
    settings = Settings(size="MINI", repeat=1, workdir=tmp_path / "work")
    rows = {r.config: r for r in measure_kernel(KERNELS["gemm"], [base, wrong, broken, same], settings)}
    assert rows["wrong"].status == FAILED and "wrong result at MINI" in rows["wrong"].message
    assert rows["wrong"].times == ()
    assert rows["broken"].status == ERROR and "build failed" in rows["broken"].message
    assert rows["same"].status == OK and 1 <= len(rows["same"].times) <= 2
    assert rows[BASELINE].status == OK
    # Retrying a configuration that still does not build: nothing worth timing, so nothing is timed.
    rows = {r.config: r for r in measure_kernel(KERNELS["gemm"], [base, broken], replace(settings, repeat=2),
                                                baseline_needed=False)}
    assert rows["broken"].status == ERROR and rows[BASELINE].times == () and rows[BASELINE].load is None


def test_load_is_measured_and_waiting_is_bounded() -> None:
    assert busy(samples=2, interval=0.0) >= 0
    started = time.monotonic()
    assert wait_until_quiet(Settings(max_load=0.0, max_wait=0.0)) >= 0  # never quiet enough: gives up at once
    assert time.monotonic() - started < 5
