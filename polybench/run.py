"""Build PolyBench kernels with the harness, run them for their outputs, time them in-process."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from codegen.build import DEFAULT_FLAGS, Compiler, compile_c
from codegen.harness import Batch, Harness, Policy, Timed, run_program
from codegen.harness import build as build_library
from polybench.dump import parse
from polybench.manifest import UTILITIES, Kernel

__all__ = ["build", "outputs", "time_kernel"]


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
    """Compile a kernel (or a transformed copy of it, `source`) with the harness into an executable
    that prints its kernel seconds (-DPOLYBENCH_TIME); return the binary."""
    defs: dict[str, str | int | None] = {f"{size.upper()}_DATASET": None, "POLYBENCH_TIME": None}
    if dump:
        defs["POLYBENCH_DUMP_ARRAYS"] = None
    defs.update(defines or {})
    compiler = Compiler(cc, tuple(cflags), openmp, (kernel.source.parent, UTILITIES), defs)
    return compile_c([Path(source or kernel.source), UTILITIES / "polybench.c"], compiler, name=kernel.name)


def time_kernel(kernel: Kernel, size: str = "LARGE", *, source: Path | None = None, cc: str = "gcc",
                cflags: Sequence[str] = DEFAULT_FLAGS, repeat: int = 5, timeout: float = 600.0) -> Timed:
    """Time a kernel (or a transformed copy, `source`) with the measurement harness: built as a library,
    run in a worker, arrays initialized again and caches flushed before each of `repeat` timed runs."""
    path = Path(source or kernel.source)
    compiler = Compiler(cc, tuple(cflags), False, (UTILITIES,), {f"{size.upper()}_DATASET": None})
    library = build_library(Batch(path.read_text(), (), compiler, kernel.source.parent))
    if library.path is None:
        raise RuntimeError(f"{path} does not build: {library.message}")
    with Harness(Policy.from_repeat(repeat), timeout=timeout) as harness:
        (timed,) = harness.time(library)
    if not timed.ok:
        raise RuntimeError(f"{path}: {timed.status}: {timed.message}")
    return timed


def outputs(kernel: Kernel, size: str = "MINI", **build_args) -> dict:
    """Build a kernel with dumping on, run it, and return its live-out arrays."""
    binary = build(kernel, size, dump=True, cflags=build_args.pop("cflags", ("-O2",)), **build_args)
    run = run_program(binary, timeout=600.0)
    if not run.ok:
        raise RuntimeError(f"{binary.name}: {run.describe()}: {run.stderr.strip()[-2000:]}")
    return parse(run.stderr)
