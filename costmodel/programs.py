"""The programs a data set is made of: random generated programs, or PolyBench's kernels."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from costmodel.generator import generate
from polybench.manifest import KERNELS


@dataclass(frozen=True)
class ProgramSpec:
    """A program to measure: its source and the definitions it is built with."""

    key: str
    suite: str
    name: str
    seed: int
    source: str
    defines: dict[str, str | None] = field(default_factory=dict)


def program_key(source: str, defines: Mapping[str, str | None]) -> str:
    """Identity of a program: its text and definitions."""
    return hashlib.sha256((source + json.dumps(defines, sort_keys=True)).encode()).hexdigest()[:20]


def generated_programs(first_seed: int, count: int, scale: str = "small") -> Iterator[ProgramSpec]:
    """The random-program stream: seed -> program (of a `costmodel.generator` scale)."""
    for seed in range(first_seed, first_seed + count):
        program = generate(seed, scale=scale)
        yield ProgramSpec(program_key(program.source, {}), "generated", program.name, seed, program.source)


# PolyBench sizes at which one run takes about 1-100 ms on this kind of machine.
POLYBENCH_SIZES = {"floyd-warshall": "SMALL", "nussinov": "SMALL", "deriche": "MEDIUM", "adi": "SMALL",
                   "seidel-2d": "SMALL", "heat-3d": "SMALL", "lu": "SMALL", "ludcmp": "SMALL", "cholesky": "SMALL",
                   "3mm": "SMALL", "2mm": "SMALL", "gramschmidt": "SMALL", "symm": "SMALL", "syr2k": "SMALL",
                   "correlation": "SMALL", "covariance": "SMALL", "doitgen": "SMALL", "trmm": "SMALL"}


def polybench_programs(names: list[str] | None = None, size: str | None = None) -> Iterator[ProgramSpec]:
    """The 30 PolyBench kernels as self-contained programs (their header inlined), each at a 1-100 ms size
    or all at one dataset size (MINI ... EXTRALARGE)."""
    for index, (name, k) in enumerate(sorted(KERNELS.items())):
        if names and name not in names:
            continue
        header = k.source.with_suffix(".h")
        include = f'#include "{header.name}"'
        source = k.source.read_text().replace(include, header.read_text(), 1)
        defines: dict[str, str | None] = {f"{size or POLYBENCH_SIZES.get(name, 'MEDIUM')}_DATASET": None}
        yield ProgramSpec(program_key(source, defines), "polybench", name, index, source, defines)
