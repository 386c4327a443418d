"""Build a program and its variants as one shared library: one compiler call per program.

Several programs' libraries are built at once (`build_all`), one compiler per core; a library that
does not build is split to find the variants that do not, which are recorded as build errors, and
the library is built again without them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from codegen.build import BuildError, Compiler, compile_text
from codegen.harness.compose import ComposeError, compose
from codegen.harness.runtime import runtime_object
from polybench.manifest import UTILITIES

# Nothing of a library is seen from outside but its entry points (the runtime marks them): a kernel
# named like one of an earlier library in the same worker must never bind to that one.
HIDDEN = "-fvisibility=hidden"


def harness_sources(source: str, include_dirs: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """For a PolyBench-style program (it includes polybench.h): the harness C file to link and its
    directory, found in `include_dirs` first, then looper's own (polybench/utilities)."""
    if not re.search(r'#\s*include\s*[<"]polybench\.h[">]', source):
        return [], []
    for d in [*include_dirs, UTILITIES]:
        if (Path(d) / "polybench.h").exists() and (Path(d) / "polybench.c").exists():
            return [Path(d) / "polybench.c"], [Path(d)]
    return [], [UTILITIES]


@dataclass(frozen=True)
class Batch:
    """A program and variants of it (whole program texts, as looper-opt writes them) to build together."""

    original: str
    variants: tuple[str, ...]
    compiler: Compiler
    directory: Path | None = None  # where the program's own "..." includes are


@dataclass
class Library:
    """A built batch: the library (None if even the original does not build) and where each variant is."""

    batch: Batch
    path: Path | None
    count: int = 0
    slots: list[int | None] = field(default_factory=list)  # variant -> its version in the library
    errors: dict[int, str] = field(default_factory=dict)  # variant -> why it is not in the library
    message: str = ""  # why the original does not build


def _compiler(batch: Batch) -> tuple[Compiler, list[Path]]:
    """The compiler of a batch's library and the objects to link (runtime, maybe a foreign harness)."""
    dirs = [batch.directory] if batch.directory else []
    extra, harness_dirs = harness_sources(batch.original, [*dirs, *batch.compiler.include_dirs])
    ours = not extra or extra[0].parent == UTILITIES
    # A kernel function reached through a pointer cannot learn its sizes from main(), as one inlined
    # into main() does in the program built whole; PolyBench's scalar loop bounds give them back to it.
    defines = {**batch.compiler.defines, **({"POLYBENCH_USE_SCALAR_LB": None} if extra or harness_dirs else {})}
    compiler = batch.compiler.with_(flags=(*batch.compiler.flags, HIDDEN), defines=defines,
                                    include_dirs=(*dirs, *batch.compiler.include_dirs, *harness_dirs))
    # looper's own polybench.c is replaced by the runtime's allocator (which remembers blocks to flush).
    objects = [runtime_object(compiler, polybench_alloc=ours), *([] if ours else extra)]
    return compiler, objects


def _link(batch: Batch, variants: Sequence[str]) -> tuple[Path, int, tuple[int | None, ...], dict[int, str]]:
    composed = compose(batch.original, variants)
    compiler, objects = _compiler(batch)
    path = compile_text(composed.text, compiler, name="variants", extra_sources=objects, shared=True)
    return path, composed.count, composed.slots, composed.errors


def build(batch: Batch, jobs: int = 1) -> Library:
    """Build a batch into one library; variants that do not compose or compile are left out."""
    try:
        path, count, slots, errors = _link(batch, batch.variants)
        return Library(batch, path, count, list(slots), errors)
    except ComposeError as exc:
        return Library(batch, None, message=str(exc))
    except BuildError as exc:
        failure = exc
    try:  # Which part fails: the original alone first, then each variant with it.
        _link(batch, [])
    except (BuildError, ComposeError) as exc:
        return Library(batch, None, message=str(exc))

    def alone(text: str) -> str | None:
        try:
            _link(batch, [text])
        except (BuildError, ComposeError) as exc:
            return str(exc)
        return None

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        failures = list(pool.map(alone, batch.variants))
    good = [i for i, f in enumerate(failures) if f is None]
    try:
        path, count, slots, errors = _link(batch, [batch.variants[i] for i in good])
    except (BuildError, ComposeError):
        return Library(batch, None, message=str(failure))
    placed: list[int | None] = [None] * len(batch.variants)
    reasons = {i: f for i, f in enumerate(failures) if f is not None}
    for k, i in enumerate(good):
        placed[i] = slots[k]
        if k in errors:
            reasons[i] = errors[k]
    return Library(batch, path, count, placed, reasons)


def build_all(batches: Sequence[Batch], jobs: int = 2) -> list[Library]:
    """Build several batches at once, one compiler call each (`jobs` at a time)."""
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        return list(pool.map(lambda b: build(b, jobs=1), batches))
