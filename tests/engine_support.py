"""Shared helpers of the engine tests: read a PolyBench kernel, build a schedule's program, compare."""

from __future__ import annotations

import functools
from pathlib import Path

from codegen.ast_c import generate
from codegen.harness import run_program
from codegen.splice import region_code, splice
from frontend import read_scop
from looper.deps import Dependences, compute_dependences
from looper.ir import Scop
from looper.schedule import Schedule
from polybench import KERNELS, Kernel
from polybench.dump import RTOL, compare, parse
from polybench.manifest import UTILITIES
from polybench.run import build


@functools.cache
def kernel_scop(name: str) -> tuple[Scop, Dependences, str]:
    """The kernel's Scop, its dependences and its source text."""
    k = KERNELS[name]
    scop = read_scop(k.source, include_dirs=[UTILITIES])
    return scop, compute_dependences(scop), k.source.read_text()


def program(name: str, schedule: Schedule) -> str:
    """The kernel's whole source with its region generated from `schedule`."""
    scop, _, text = kernel_scop(name)
    return splice(text, [(scop, region_code(text, scop, generate(schedule)))])


@functools.cache
def reference_outputs(name: str, size: str = "MINI") -> dict:
    k = KERNELS[name]
    return parse(run_program(build(k, size, dump=True, cflags=("-O1",)), timeout=600).stderr)


def build_variant(k: Kernel, code: str, directory: Path, tag: str, size: str = "MINI") -> Path:
    path = directory / f"{k.name}-{tag}.c"
    path.write_text(code)
    return build(k, size, source=path, dump=True, cflags=("-O1",), openmp=True)


def check_outputs(k: Kernel, binary: Path, size: str = "MINI") -> str | None:
    """None if the binary's dump matches the original's, else the first mismatch."""
    run = run_program(binary, timeout=60)
    assert run.ok, f"{binary.name}: {run.describe()}: {run.stderr[-500:]}"
    got = parse(run.stderr)
    mismatch = compare(reference_outputs(k.name, size), got, rtol=RTOL["float" if k.dtype == "float" else "double"])
    return None if mismatch is None else str(mismatch)
