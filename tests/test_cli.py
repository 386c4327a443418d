"""looper-opt as a user meets it: flags, outputs, exit codes, error messages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from polybench import KERNELS

NOT_A_SCOP = """\
void f(int n, double A[100]) {
  int i;
#pragma scop
  for (i = 0; i < n; i++)
    A[i] = A[i] * 2.0;
#pragma endscop
#pragma scop
  while (n > 0)
    n--;
#pragma endscop
}
"""


def looper_opt(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "looper.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


@pytest.fixture
def gemm(tmp_path: Path) -> Path:
    k = KERNELS["gemm"]
    for f in k.source.parent.iterdir():
        shutil.copy(f, tmp_path)
    return tmp_path / "gemm.c"


def test_default_output_name_and_verify(gemm: Path) -> None:
    proc = looper_opt(gemm, "--search", "isl", "--verify", "--quiet")
    assert proc.returncode == 0, proc.stderr
    out = gemm.with_name("gemm.looper.c")
    assert out.exists()
    assert "#pragma scop" in out.read_text()


def test_emit_then_apply_schedule_reproduces_the_code(gemm: Path, tmp_path: Path) -> None:
    first, second, saved = tmp_path / "a.c", tmp_path / "b.c", tmp_path / "s.json"
    proc = looper_opt(gemm, "--search", "random", "--seed", "3", "-o", first, "--emit-schedule", saved)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(saved.read_text())["regions"][0]["steps"]
    proc = looper_opt(gemm, "--apply-schedule", saved, "-o", second)
    assert proc.returncode == 0, proc.stderr
    assert first.read_text() == second.read_text()


def test_explain_prints_prefixed_lines(gemm: Path, tmp_path: Path) -> None:
    proc = looper_opt(gemm, "--search", "model", "--explain", "-o", tmp_path / "x.c")
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines and all(ln.startswith("[looper]") for ln in lines)
    assert any("beam #1" in ln for ln in lines)


@pytest.mark.parametrize(
    "args",
    [["--search", "nonsense"], ["--beam-width"], ["--beam-width", "0"], ["--fusion-width", "x"], ["--repeat", "0"],
     ["--jobs", "0"], ["--no-such-flag"], []],
)
def test_bad_command_lines_exit_2_in_one_line(gemm: Path, args: list[str]) -> None:
    proc = looper_opt(*([gemm] if args else []), *args)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "args",
    [["train", "--data", "d.db", "--out", "m.pt", "--epochs", "0"],
     ["train", "--data", "d.db", "--out", "m.pt", "--ensemble", "zero"],
     ["dataset", "generate", "--out", "d.db", "--repeat", "0"],
     ["dataset", "generate", "--out", "d.db", "--outer-parallel", "2"],
     ["dataset", "remeasure", "d.db", "--out", "e.db", "--programs", "0"],
     ["bench", "--repeat", "0"],
     ["bench", "--threads", "-1"],
     ["bench", "--timeout", "0"],
     ["train", "--data", "d.db", "--out", "m.pt", "--lr", "-0.1"],
     ["train", "--data", "d.db", "--out", "m.pt", "--val-fraction", "1.5"],
     ["dataset", "split", "d.db", "--train", "a.db", "--test", "b.db", "--test-fraction", "2"],
     ["fuzz", "--out", "f", "--max-depth", "9"],
     ["fuzz", "--out", "f", "--jobs", "0"]],
)
def test_bad_numbers_in_looper_commands_exit_2_in_one_line(tmp_path: Path, args: list[str]) -> None:
    entry = "import sys; from looper.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", entry, *args], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"argument {args[-2]}: " in lines[0], proc.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_missing_and_unreadable_files_exit_2(tmp_path: Path) -> None:
    proc = looper_opt(tmp_path / "nope.c")
    assert proc.returncode == 2 and "error" in proc.stderr and "Traceback" not in proc.stderr
    binary = tmp_path / "bin.c"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    proc = looper_opt(binary)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bin.looper.c").exists()


def test_bad_schedule_file_exits_2(gemm: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"regions": [{"steps": [{"kind": "tile", "stmt": "S1"}]}]}')
    proc = looper_opt(gemm, "--apply-schedule", bad, "-o", tmp_path / "o.c")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert not (tmp_path / "o.c").exists()


def test_non_scop_region_is_left_untouched_with_a_warning(tmp_path: Path) -> None:
    src = tmp_path / "mixed.c"
    src.write_text(NOT_A_SCOP)
    proc = looper_opt(src, "--search", "none")
    assert proc.returncode == 0, proc.stderr
    assert "warning" in proc.stderr and "mixed.c:8" in proc.stderr
    out = (tmp_path / "mixed.looper.c").read_text()
    assert "while (n > 0)" in out
    proc = looper_opt(src, "--strict", "-o", tmp_path / "strict.c")
    assert proc.returncode == 2 and "mixed.c:8:" in proc.stderr
    assert not (tmp_path / "strict.c").exists()


def test_version() -> None:
    proc = looper_opt("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("looper-opt ")


def test_dump_scop_prints_jscop(gemm: Path) -> None:
    proc = looper_opt(gemm, "--dump-scop")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    scop = data[0] if isinstance(data, list) else data
    assert {"name", "context", "arrays", "statements"} <= set(scop)
    assert len(scop["statements"]) == 2
