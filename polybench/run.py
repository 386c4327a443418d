"""Build and run PolyBench kernels with the harness: compile, time, dump."""

from __future__ import annotations

import hashlib
import os
import shlex
import statistics
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from polybench.dump import parse
from polybench.manifest import UTILITIES, Kernel

DEFAULT_CFLAGS = ("-O3", "-march=native")


class BuildError(RuntimeError):
    """The compiler rejected a program; the message is the compiler's own."""


def cache_dir() -> Path:
    """Where built binaries are kept (hash-named, so a rebuild never reuses a stale file)."""
    root = Path(os.environ.get("LOOPER_CACHE", Path(tempfile.gettempdir()) / f"looper-{os.getuid()}"))
    path = root / "polybench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def build(
    kernel: Kernel,
    size: str = "LARGE",
    *,
    source: Path | None = None,
    cc: str = "gcc",
    cflags: Sequence[str] = DEFAULT_CFLAGS,
    defines: Mapping[str, str | int | None] | None = None,
    dump: bool = False,
) -> Path:
    """Compile a kernel (or a transformed copy of it, `source`) with the harness; return the binary."""
    src = Path(source or kernel.source).resolve()
    args = [f"-I{kernel.source.parent}", f"-I{UTILITIES}", f"-D{size.upper()}_DATASET", "-DPOLYBENCH_TIME"]
    if dump:
        args.append("-DPOLYBENCH_DUMP_ARRAYS")
    for name, value in (defines or {}).items():
        args.append(f"-D{name}" if value is None else f"-D{name}={value}")
    args += list(cflags)
    key = hashlib.sha256("\0".join([cc, *args, src.read_text()]).encode()).hexdigest()[:20]
    out = cache_dir() / f"{kernel.name}-{key}"
    if out.exists():
        return out
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    cmd = [cc, *args, str(src), str(UTILITIES / "polybench.c"), "-o", str(tmp), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"{shlex.join(cmd)}\n{proc.stderr.strip()}")
    tmp.replace(out)  # atomic: a concurrent build never sees a half-written binary
    return out


@dataclass(frozen=True)
class Timing:
    """Repeated run times of one binary, in seconds."""

    times: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def min(self) -> float:
        return min(self.times)

    @property
    def max(self) -> float:
        return max(self.times)


def run_once(binary: Path, *, timeout: float | None = None, env: Mapping[str, str] | None = None) -> tuple[float, str]:
    """Run a harness binary once; return (kernel seconds, stderr)."""
    proc = subprocess.run(
        [str(binary)], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{binary.name} exited with status {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    try:
        seconds = float(proc.stdout.split()[-1])
    except (IndexError, ValueError):
        raise RuntimeError(f"{binary.name} printed no time (built without -DPOLYBENCH_TIME?)") from None
    return seconds, proc.stderr


def time_binary(binary: Path, repeat: int = 5, *, timeout: float | None = None) -> Timing:
    """Run a binary `repeat` times and collect the kernel times."""
    return Timing(tuple(run_once(binary, timeout=timeout)[0] for _ in range(repeat)))


def outputs(kernel: Kernel, size: str = "MINI", **build_args) -> dict:
    """Build a kernel with dumping on, run it, and return its live-out arrays."""
    binary = build(kernel, size, dump=True, cflags=build_args.pop("cflags", ("-O2",)), **build_args)
    return parse(run_once(binary)[1])
