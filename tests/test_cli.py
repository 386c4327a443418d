"""looper-opt as a user meets it: flags, outputs, exit codes, error messages."""

from __future__ import annotations

import json
import shutil
import stat
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
    assert lines[-1].startswith(f"looper-opt: wrote {tmp_path / 'x.c'}: kernel_gemm ")
    assert len(lines) > 1 and all(ln.startswith("[looper]") for ln in lines[:-1])
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


@pytest.mark.parametrize("text", ["[1, 2]", '{"regions": 3}', '{"regions": [5]}', '{"regions": [{"steps": 5}]}'])
def test_a_schedule_file_of_the_wrong_shape_exits_2(gemm: Path, tmp_path: Path, text: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    proc = looper_opt(gemm, "--apply-schedule", bad, "-o", tmp_path / "o.c")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [f"{bad}: error: not a schedule file of --emit-schedule "
                                                '(expected {"regions": [{"steps": [...]}, ...]})']
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


NO_MAIN = """\
void f(int n, double A[100]) {
  int i;
#pragma scop
  for (i = 0; i < n; i++)
    A[i] = A[i] * 2.0;
#pragma endscop
}
"""


@pytest.mark.parametrize("args", [["--verify"], ["--search", "measure"], ["--search", "hybrid"]])
def test_running_a_file_without_main_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    src = tmp_path / "k.c"
    src.write_text(NO_MAIN)
    proc = looper_opt(src, *args, "-o", tmp_path / "o.c")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"{src}: error: {'--verify runs' if args == ['--verify'] else f'--search {args[1]} times'} the program, "
        "but the file has no main() (give a whole program, or drop the option)"]
    assert not (tmp_path / "o.c").exists()


def test_verify_of_an_original_that_does_not_build_is_a_usage_error(tmp_path: Path) -> None:
    src = tmp_path / "k.c"
    src.write_text('#include "missing.h"\n' + NO_MAIN + "int main(void) { double A[100] = {0}; f(10, A); return 0; }\n")
    proc = looper_opt(src, "--search", "none", "--verify", "-o", tmp_path / "o.c")
    assert proc.returncode == 2, proc.stderr
    *warnings, error = proc.stderr.strip().splitlines()
    assert warnings == [f'{src}:1:10: warning: cannot find "missing.h" (its macros are unknown: names it defines are '
                        "read as parameters)"]
    assert error.startswith(f"{src}: error: --verify: the original program does not build as given: ")
    assert "missing.h" in error
    assert not (tmp_path / "o.c").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--model", "no-such-model.pt"], "--model no-such-model.pt: no such cost-model checkpoint"),
        (["-o", "no/such/dir/out.c"], "-o no/such/dir/out.c: no such directory"),
        (["-o", "."], "-o .: is a directory"),
        (["--emit-schedule", "no/such/dir/s.json"], "--emit-schedule no/such/dir/s.json: no such directory"),
        (["--verify", "--cc", "no-such-cc"], "--cc no-such-cc: no such compiler"),
        (["--search", "measure", "--cc", "no-such-cc"], "--cc no-such-cc: no such compiler"),
    ],
)
def test_usage_problems_exit_2_before_any_work(gemm: Path, args: list[str], words: str) -> None:
    search = [] if "--search" in args else ["--search", "none"]
    proc = looper_opt(gemm, *search, *args, cwd=gemm.parent)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"looper-opt: error: {words}"), proc.stderr
    assert not gemm.with_name("gemm.looper.c").exists()


def test_a_directory_or_a_bad_checkpoint_is_a_usage_error(gemm: Path, tmp_path: Path) -> None:
    proc = looper_opt(tmp_path, "--search", "none")
    assert proc.returncode == 2 and proc.stderr.strip() == f"{tmp_path}: error: not a regular file"
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    proc = looper_opt(gemm, "--model", bad, "-o", tmp_path / "o.c")
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "--model" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o.c").exists()


def test_outputs_respect_the_umask_and_keep_an_existing_files_mode(gemm: Path, tmp_path: Path) -> None:
    out, saved = tmp_path / "new.c", tmp_path / "s.json"
    proc = subprocess.run([sys.executable, "-m", "looper.cli", str(gemm), "--search", "none", "-o", str(out),
                           "--emit-schedule", str(saved)], capture_output=True, text=True, umask=0o027)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o640 and stat.S_IMODE(saved.stat().st_mode) == 0o640
    out.chmod(0o751)
    proc = subprocess.run([sys.executable, "-m", "looper.cli", str(gemm), "--search", "none", "-o", str(out)],
                          capture_output=True, text=True, umask=0o077)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o751


def test_an_output_that_is_a_symlink_is_written_through(gemm: Path, tmp_path: Path) -> None:
    target, link = tmp_path / "target.c", tmp_path / "link.c"
    target.write_text("old\n")
    link.symlink_to(target)
    proc = looper_opt(gemm, "--search", "none", "-o", link)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and "#pragma scop" in target.read_text()


def test_quiet_silences_warnings_and_strict_makes_them_errors(tmp_path: Path) -> None:
    src = tmp_path / "plain.c"
    src.write_text("int main(void) { return 0; }\n")
    proc = looper_opt(src)
    assert proc.returncode == 0
    assert proc.stderr.splitlines() == [f"{src}:1:1: warning: no '#pragma scop' region found "
                                        "(the output is a copy of the input)",
                                        f"looper-opt: wrote {tmp_path / 'plain.looper.c'}: no region optimized"]
    assert (tmp_path / "plain.looper.c").read_bytes() == src.read_bytes()
    (tmp_path / "plain.looper.c").unlink()
    proc = looper_opt(src, "--quiet")
    assert proc.returncode == 0 and proc.stderr == ""
    (tmp_path / "plain.looper.c").unlink()
    proc = looper_opt(src, "--strict")
    assert proc.returncode == 2 and proc.stderr.splitlines() == [f"{src}:1:1: error: no '#pragma scop' region found"]
    assert not (tmp_path / "plain.looper.c").exists()


def test_dump_scop_follows_the_same_policy(tmp_path: Path) -> None:
    src = tmp_path / "bad.c"
    src.write_text(NO_MAIN.replace("A[i] * 2.0;", "A[i] * 2.0"))
    proc = looper_opt(src, "--dump-scop")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == f"{src}:6:1: error: expected ';' before '#pragma endscop'"
    src.write_text(NOT_A_SCOP)
    proc = looper_opt(src, "--dump-scop")
    assert proc.returncode == 0 and len(json.loads("[" + proc.stdout.replace("}\n\n{", "},\n{") + "]")) == 2
    assert proc.stderr.strip().startswith(f"{src}:8:3: warning: 'while' loops")


def test_success_ends_with_one_line_saying_what_was_written(gemm: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.c"
    proc = looper_opt(gemm, "--search", "pluto", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [f"looper-opt: wrote {out}: kernel_gemm reschedule, 2 tile, 2 parallelize, "
                                        "2 vectorize"]
    proc = looper_opt(gemm, "--search", "none", "-o", out, "--quiet")
    assert proc.returncode == 0 and proc.stderr == ""
