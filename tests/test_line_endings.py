"""Line ends survive looper-opt: CR LF in gives CR LF out, byte for byte outside the regions (also lone CR,
mixed ends and a byte-order mark), and the output builds and computes what the input does (--verify)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from looper.cli import main_opt
from polybench import KERNELS


def _converted(name: str, tmp_path: Path, convert) -> Path:
    """A copy of a PolyBench kernel's directory with its .c and .h files' bytes passed through `convert`."""
    kernel = KERNELS[name]
    for f in kernel.source.parent.iterdir():
        if f.suffix in (".c", ".h"):
            (tmp_path / f.name).write_bytes(convert(f.read_bytes()))
        elif f.is_file():
            shutil.copy(f, tmp_path)
    return tmp_path / kernel.source.name


def _outside(data: bytes) -> tuple[bytes, bytes]:
    """The bytes before the first region's body and from its `#pragma endscop` on (PolyBench has one region)."""
    start = re.search(rb"#pragma scop(\r\n|\r|\n)", data)
    assert start is not None
    return data[: start.end()], data[data.index(b"#pragma endscop") :]


def _region(data: bytes) -> bytes:
    before, after = _outside(data)
    return data[len(before) : len(data) - len(after)]


def _run(capsys, *args: str | Path) -> tuple[int, str]:
    code = main_opt([str(a) for a in args])
    return code, capsys.readouterr().err


def crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_crlf_kernel_keeps_its_bytes_and_verifies(name: str, tmp_path: Path, capsys) -> None:
    src = _converted(name, tmp_path, crlf)
    out = tmp_path / "out.c"
    code, err = _run(capsys, src, "--search", "none", "--verify", "-o", out)
    assert code == 0, err
    data_in, data_out = src.read_bytes(), out.read_bytes()
    assert _outside(data_out) == _outside(data_in)
    region = _region(data_out)
    assert region.count(b"\n") == region.count(b"\r\n") > 0 and b"\r" not in region.replace(b"\r\n", b"")
    assert "verified" in err


@pytest.mark.parametrize("name", ["gemm", "jacobi-2d"])
def test_crlf_kernel_with_the_default_search(name: str, tmp_path: Path, capsys) -> None:
    src = _converted(name, tmp_path, crlf)
    out = tmp_path / "out.c"
    code, err = _run(capsys, src, "--verify", "-o", out)
    assert code == 0, err
    assert _outside(out.read_bytes()) == _outside(src.read_bytes())
    assert b"\n" not in _region(out.read_bytes()).replace(b"\r\n", b"")


def _lone_cr(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r")


def _mixed(data: bytes) -> bytes:
    """LF, CR LF and lone CR in turn, line by line."""
    ends = [b"\n", b"\r\n", b"\r"]
    return b"".join(line + ends[k % 3] for k, line in enumerate(data.split(b"\n")[:-1]))


def _bom(data: bytes) -> bytes:
    return b"\xef\xbb\xbf" + data


@pytest.mark.parametrize("convert", [_lone_cr, _mixed, _bom], ids=["lone-cr", "mixed", "bom"])
def test_other_line_ends_and_a_bom_survive(convert, tmp_path: Path, capsys) -> None:
    src = _converted("atax", tmp_path, convert)
    out = tmp_path / "out.c"
    code, err = _run(capsys, src, "--search", "isl", "--verify", "-o", out)
    assert code == 0, err
    data_in, data_out = src.read_bytes(), out.read_bytes()
    assert _outside(data_out) == _outside(data_in)
    before = _outside(data_in)[0]
    newline = re.search(rb"\r\n|\r|\n", before[-2:]).group()  # the `#pragma scop` line's own end
    region = _region(data_out)
    assert re.findall(rb"\r\n|\r|\n", region) == [newline] * len(re.findall(rb"\r\n|\r|\n", region))


def test_errors_point_at_the_right_line_in_a_crlf_or_cr_file(tmp_path: Path, capsys) -> None:
    text = "void f(int n, double A[10])\n{\n  int i;\n#pragma scop\n  for (i = 0; i < n; i++)\n    A[i] = 0.0 @ 1;\n" \
           "#pragma endscop\n}\n"
    for end in ("\r\n", "\r"):
        src = tmp_path / "bad.c"
        src.write_bytes(text.replace("\n", end).encode())
        code, err = _run(capsys, src, "--search", "none", "-o", tmp_path / "out.c")
        assert code == 2 and err.strip() == f"{src}:6:16: error: stray '@' in program", err
        assert not (tmp_path / "out.c").exists()
