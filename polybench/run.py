"""Build and run PolyBench kernels with the harness: compile, time, dump."""

from __future__ import annotations

import os
import statistics
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codegen.build import DEFAULT_FLAGS, Compiler, compile_c
from polybench.dump import parse
from polybench.manifest import UTILITIES, Kernel

__all__ = ["Timing", "build", "outputs", "run_once", "time_binary"]


def build(
    kernel: Kernel,
    size: str = "LARGE",
    *,
    source: Path | None = None,
    cc: str = "gcc",
    cflags: Sequence[str] = DEFAULT_FLAGS,
    defines: Mapping[str, str | int | None] | None = None,
    dump: bool = False,
    openmp: bool = False,
) -> Path:
    """Compile a kernel (or a transformed copy of it, `source`) with the harness; return the binary."""
    defs: dict[str, str | int | None] = {f"{size.upper()}_DATASET": None, "POLYBENCH_TIME": None}
    if dump:
        defs["POLYBENCH_DUMP_ARRAYS"] = None
    defs.update(defines or {})
    compiler = Compiler(cc, tuple(cflags), openmp, (kernel.source.parent, UTILITIES), defs)
    return compile_c([Path(source or kernel.source), UTILITIES / "polybench.c"], compiler, name=kernel.name)


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
