"""Verification: build the original and the transformed program, run both, compare their outputs.

Both are built as whole programs and run as processes by the measurement harness
(`codegen.harness.run_program`): what is compared is what a user would run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from codegen.build import BuildError, Compiler, compile_text
from codegen.harness import harness_sources, run_program
from polybench.dump import RTOL, DumpError, compare, parse

# -O2 keeps verification builds quick; -fopenmp (on by default) makes parallel loops really run in parallel.
VERIFY_COMPILER = Compiler(flags=("-O2",))
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf)")


@dataclass(frozen=True)
class Verification:
    """The outcome of comparing a transformed program's outputs with the original's."""

    ok: bool
    message: str
    usage: bool = False  # the original program itself cannot be built or run as given: the user's to fix

    def __bool__(self) -> bool:
        return self.ok


def has_main(text: str) -> bool:
    """Whether C text defines main() (so that it can be built and run as a program)."""
    return re.search(r"\bmain\s*\(", text) is not None


def verify_sources(
    original: str,
    transformed: str,
    *,
    directory: Path,
    compiler: Compiler = VERIFY_COMPILER,
    size: str | None = "MINI",
    rtol: float = RTOL["double"],
    timeout: float = 120.0,
) -> Verification:
    """Compile both texts as programs (in the original's directory context), run and compare them.

    PolyBench-style programs are built with `-D<size>_DATASET -DPOLYBENCH_DUMP_ARRAYS` and
    compared array by array; other programs are compared on every number they print.
    """
    if not has_main(original):
        return Verification(False, "cannot verify: the file has no main() to run", usage=True)
    extra, dirs = harness_sources(original, [directory, *compiler.include_dirs])
    defines = dict(compiler.defines)
    if extra or dirs:
        defines["POLYBENCH_DUMP_ARRAYS"] = None
        if size:
            defines[f"{size.upper()}_DATASET"] = None
    cc = compiler.with_(include_dirs=(directory, *compiler.include_dirs, *dirs), defines=defines)
    outputs: list[str] = []
    for name, text in (("original", original), ("transformed", transformed)):
        try:
            binary = compile_text(text, cc, name=name, extra_sources=extra)
        except BuildError as exc:
            if name == "original":  # the user's to fix, not looper's failure: said in one line
                return Verification(False, f"the original program does not build as given: {_first_error(exc)}",
                                    usage=True)
            return Verification(False, str(exc))
        run = run_program(binary, timeout=timeout)
        if not run.ok:
            what = f"did not finish within {timeout:g} s" if run.returncode is None else run.describe()
            tail = " ".join(ln.strip() for ln in run.stderr.strip().splitlines()[-3:])[-500:]
            if name == "original":
                return Verification(False, f"the original program does not run as given: {what}"
                                           + (f": {tail}" if tail else ""), usage=True)
            return Verification(False, f"the transformed program {what}" + (f": {tail}" if tail else ""))
        outputs.append(run.output)
    return _compare_outputs(*outputs, rtol=rtol)


def _first_error(exc: BuildError) -> str:
    """The line of a compiler's complaint that says what is wrong."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    lines = lines[1:] or lines  # the first line is the command
    return next((ln for ln in lines if "error" in ln), lines[-1] if lines else "")


def _compare_outputs(expected: str, actual: str, *, rtol: float) -> Verification:
    try:
        mismatch = compare(parse(expected), parse(actual), rtol=rtol)
        if mismatch:
            return Verification(False, f"outputs differ: {mismatch}")
        return Verification(True, "outputs match (every live-out array)")
    except DumpError:
        pass
    a = np.array([float(x) for x in _NUMBER.findall(expected)])
    b = np.array([float(x) for x in _NUMBER.findall(actual)])
    mismatch = compare({"output": a}, {"output": b}, rtol=rtol)
    if mismatch:
        return Verification(False, f"outputs differ: {mismatch}")
    return Verification(True, f"outputs match ({a.size} printed numbers)")


def verify_file(original: Path, transformed_text: str, *, compiler: Compiler = VERIFY_COMPILER,
                size: str | None = "MINI", rtol: float = RTOL["double"],
                defines: Mapping[str, str | None] | None = None) -> Verification:
    """Verify a transformed version of a file on disk against the file."""
    cc = compiler.with_(defines={**compiler.defines, **(defines or {})})
    return verify_sources(original.read_bytes().decode("utf-8"), transformed_text, directory=original.resolve().parent,
                          compiler=cc, size=size, rtol=rtol)
