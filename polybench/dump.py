"""Read the harness's array dumps and compare two of them."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from looper.errors import LooperError

# PolyBench's POLYBENCH_DUMP_BEGIN prints no newline: a kernel whose loop prints its newline after the
# value (trisolv as distributed) puts the first value on the header's line.
_BLOCK = re.compile(r"begin dump: (\S+)(.*?)end   dump: \1\n", re.S)

# Relative tolerance per element type; absolute floor = tolerance * largest magnitude in the array,
# so that values that cancel to ~0 are judged against the array's scale, not their own.
RTOL = {"double": 1e-9, "float": 1e-4}


class DumpError(LooperError, ValueError):
    """A dump that cannot be read."""


def parse(text: str) -> dict[str, np.ndarray]:
    """Parse the arrays of a -DPOLYBENCH_DUMP_ARRAYS dump into flat arrays (int64 or float64)."""
    if "==BEGIN DUMP_ARRAYS==" not in text:
        raise DumpError("no '==BEGIN DUMP_ARRAYS==' marker in the output")
    arrays: dict[str, np.ndarray] = {}
    for name, body in _BLOCK.findall(text):
        tokens = body.split()
        try:
            if all(re.fullmatch(r"-?\d+", t) for t in tokens):
                arrays[name] = np.array([int(t) for t in tokens], dtype=np.int64)
            else:
                arrays[name] = np.array([float(t) for t in tokens], dtype=np.float64)
        except ValueError as exc:
            raise DumpError(f"array {name}: {exc}") from None
    if not arrays:
        raise DumpError("the dump holds no arrays")
    return arrays


@dataclass(frozen=True)
class Mismatch:
    """The first difference between two dumps."""

    array: str
    index: int  # flat, row-major; -1 when the arrays differ in presence or length
    expected: float
    actual: float
    message: str

    def __str__(self) -> str:
        return self.message


def compare(
    expected: dict[str, np.ndarray], actual: dict[str, np.ndarray], *, rtol: float = RTOL["double"]
) -> Mismatch | None:
    """Return the first mismatch between two dumps (exact for integers), or None if they agree."""
    for name, exp in expected.items():
        if name not in actual:
            return Mismatch(name, -1, 0, 0, f"array {name} is missing from the second dump")
        act = np.asarray(actual[name]).ravel()
        exp = np.asarray(exp).ravel()
        if exp.size != act.size:
            return Mismatch(name, -1, exp.size, act.size, f"array {name}: {exp.size} elements vs {act.size}")
        if exp.dtype.kind in "iu" and act.dtype.kind in "iu":
            bad = np.flatnonzero(exp != act)
        else:
            exp_f, act_f = exp.astype(np.float64), act.astype(np.float64)
            scale = float(np.max(np.abs(exp_f))) if exp_f.size else 0.0
            with np.errstate(invalid="ignore"):
                ok = np.abs(exp_f - act_f) <= rtol * np.maximum(np.abs(exp_f), scale)
            ok |= (exp_f == act_f) | (np.isnan(exp_f) & np.isnan(act_f))
            bad = np.flatnonzero(~ok)
        if bad.size:
            i = int(bad[0])
            return Mismatch(
                name, i, float(exp[i]), float(act[i]),
                f"array {name}[{i}]: expected {exp[i]!r}, got {act[i]!r} ({bad.size} of {exp.size} elements differ)",
            )
    return None
