"""The bad-input corpus (tests/bad_inputs/): looper-opt's exit code, messages and output on each file.

Each file's expectation is in tests/bad_inputs/expected.toml. Text that is not C exits 2 with one
`file:line:col: error:` and writes nothing; C that is not a SCoP exits 0 with a warning and the region
untouched; a file with no region exits 0 with exactly one warning and a copy; nothing ever prints a
traceback or exits 1.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "bad_inputs"
EXPECTED: dict[str, dict] = tomllib.loads((CORPUS / "expected.toml").read_text(encoding="utf-8"))
SHAPE = re.compile(r"(?P<file>.+):(?P<line>\d+):(?P<col>\d+): (?P<kind>error|warning): (?P<message>.+)")
REGION = re.compile(rb"#[ \t]*pragma[ \t]+scop\b.*?#[ \t]*pragma[ \t]+endscop", re.S)


def test_corpus_covers_every_file_and_both_outcomes() -> None:
    files = {p.name for p in CORPUS.glob("*.c")}
    assert files == set(EXPECTED)
    assert len(files) >= 40
    exits = [e["exit"] for e in EXPECTED.values()]
    assert exits.count(2) >= 20 and exits.count(0) >= 20
    assert all(e["exit"] in (0, 2) for e in EXPECTED.values())


def _compiles(path: Path) -> bool:
    proc = subprocess.run(["gcc", "-fsyntax-only", "-w", str(path)], capture_output=True, cwd=path.parent)
    return proc.returncode == 0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input(name: str, tmp_path: Path) -> None:
    expected = EXPECTED[name]
    src = tmp_path / name
    shutil.copyfile(CORPUS / name, src)
    out = tmp_path / "out.c"
    proc = subprocess.run(
        [sys.executable, "-m", "looper.cli", str(src), "--search", "none", "-o", str(out), *expected.get("args", [])],
        capture_output=True, encoding="utf-8", errors="replace", cwd=tmp_path,
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert proc.returncode == expected["exit"], proc.stderr
    lines = proc.stderr.splitlines()
    if expected["exit"] == 0:  # success ends with one line saying what was written
        assert lines and lines[-1].startswith(f"looper-opt: wrote {out}: "), proc.stderr
        lines = lines[:-1]
    assert len(lines) == len(expected["stderr"]), proc.stderr
    for line, want in zip(lines, expected["stderr"], strict=True):
        m = SHAPE.fullmatch(line)
        assert m is not None and m["file"] == str(src), f"not `{src}:line:col: error|warning: ...`: {line}"
        kind, position, words = want.split(" ", 2)
        assert (m["kind"], f"{m['line']}:{m['col']}") == (kind, position), line
        assert words in m["message"], line
    if expected["exit"] == 2:
        assert sorted(tmp_path.iterdir()) == [src], "an output (or a temporary) was written on bad input"
        return
    assert out.exists()
    if expected["copy"]:
        assert out.read_bytes() == src.read_bytes()
    assert REGION.split(out.read_bytes()) == REGION.split(src.read_bytes()), "bytes changed outside the regions"
    if _compiles(src):  # whatever a compiler accepted, it accepts after looper
        assert _compiles(out), out.read_text(encoding="utf-8", errors="replace")
