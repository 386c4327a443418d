"""Random affine programs, deterministic per seed: the training programs of the cost model and the fuzzer's inputs."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from costmodel.generator.builder import Builder
from costmodel.generator.emit import finalize, program_c
from costmodel.generator.families import FAMILIES
from costmodel.generator.model import Loop, Node, depth
from costmodel.generator.patterns import PATTERNS
from costmodel.generator.sizes import SCALES, choose_sizes, cost, elements, small_sizes

DTYPES = {"double": 5, "float": 3, "int": 2}  # relative frequencies
SIZE_PARAMS = ("N", "M", "P")


@dataclass(frozen=True)
class GeneratedProgram:
    """One generated PolyBench-style C program and what it is made of."""

    name: str
    seed: int
    source: str
    dtype: str  # element type of every array: "double", "float" or "int"
    sizes: dict[str, int]  # default value of each size macro (each overridable with -D<name>=...)
    liveouts: tuple[str, ...]  # arrays dumped under -DPOLYBENCH_DUMP_ARRAYS, in dump order
    pattern_tags: tuple[str, ...]  # patterns and features used (matmul, stencil_2d, triangular, ...)
    nest_depths: tuple[int, ...] = field(default=())  # loop depth of each top-level nest
    estimated_seconds: float = 0.0  # predicted kernel time at the default sizes (gcc -O3, one core)
    footprint_bytes: int = 0  # all arrays together at the default sizes

    def small_defines(self) -> dict[str, int]:
        """Small sizes (5-12, TSTEPS 2-4) for quick fuzzing runs: pass as -D<name>=<value> (or -DMINI_DATASET)."""
        return small_sizes(self.seed, self.sizes)

    def write(self, path: Path | str) -> Path:
        """Write the source to a file and return its path."""
        path = Path(path)
        path.write_text(self.source)
        return path


def generate(seed: int, *, max_nests: int = 4, max_depth: int = 5, scale: str = "small") -> GeneratedProgram:
    """The program of a seed (same seed, same arguments: same program).

    `scale` "small" gives the shipped model's training programs (in cache, 3-30 ms, the six patterns);
    "use" programs of the sizes looper is used at (footprints up to 4x the last-level cache, 5-200 ms) and
    the families of `costmodel.generator.families` besides the patterns, from another random stream."""
    if max_nests < 1 or not 1 <= max_depth <= 5:
        raise ValueError("need max_nests >= 1 and 1 <= max_depth <= 5")
    if scale not in SCALES:
        raise ValueError(f"scale {scale!r}: one of {', '.join(SCALES)}")
    small = scale == "small"
    rng = random.Random(seed if small else f"{scale}-{seed}")
    if not small:  # mostly 2-3 deep, as PolyBench: a 5-deep nest that runs 5-200 ms has extents of tens
        max_depth = min(max_depth, rng.choices((2, 3, 4, 5), (2, 5, 2, 1))[0])
    dtype = rng.choices(list(DTYPES), list(DTYPES.values()))[0]
    b = Builder(rng, dtype, list(SIZE_PARAMS[: rng.randint(1, 3)]))
    table = PATTERNS if small else {**PATTERNS, **FAMILIES}
    names = [n for n, (low, _, _) in table.items() if low <= max_depth]
    weights = [table[n][2] for n in names]
    deep = [n for n in names if table[n][0] >= 2]
    nests: list[list[Node]] = []
    count = rng.randint(1, max_nests)
    for n in range(count):
        b.begin_nest()
        # a program of 1-deep loops only cannot take 1 ms without huge arrays (and dumps): end deeper
        flat = n == count - 1 and max_depth >= 2 and all(depth(nest) <= 1 for nest in nests)
        pick = rng.choice(deep) if flat else rng.choices(names, weights)[0]
        nests.append(table[pick][1](b, max_depth))
    arrays = [v for v in b.vars.values() if v.kind == "array"]
    sizes = choose_sizes(rng, nests, arrays, dtype, SCALES[scale])
    est = sum(cost(nest, sizes, dtype) for nest in nests) * 1e-9
    finalize(nests, dtype, sizes)
    liveouts = [a for a in arrays if a.written]
    name = f"gen{seed}" if small else f"gen{seed}{scale[0]}"
    tags = tuple(sorted(b.tags))
    source = program_c(name=name, seed=seed, dtype=dtype, sizes=sizes, small=small_sizes(seed, sizes),
                       vars_=list(b.vars.values()), nests=nests, liveouts=liveouts, tags=tags)
    depths = tuple(depth([n]) for nest in nests for n in nest if isinstance(n, Loop))
    footprint = elements(arrays, sizes) * (8 if dtype == "double" else 4)
    return GeneratedProgram(name, seed, source, dtype, sizes, tuple(a.name for a in liveouts), tags, depths, est,
                            footprint)


def programs(start_seed: int, count: int, **kwargs) -> Iterator[GeneratedProgram]:
    """The programs of seeds start_seed, start_seed + 1, ... (count of them)."""
    for seed in range(start_seed, start_seed + count):
        yield generate(seed, **kwargs)


def write_program(seed: int, path: Path | str, **kwargs) -> GeneratedProgram:
    """Generate the program of a seed and write it to `path` (a file, or a directory to put gen<seed>.c in)."""
    prog = generate(seed, **kwargs)
    path = Path(path)
    prog.write(path / f"{prog.name}.c" if path.is_dir() else path)
    return prog
