"""Compile C with a real compiler: executables and cffi-loaded shared libraries, hash-named.

Every output is named by a hash of its inputs (compiler, flags, sources), so a rebuild never
reuses a stale file and `dlopen`, which caches by path, never returns old code.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from looper.errors import LooperError

DEFAULT_FLAGS = ("-O3", "-march=native")


class BuildError(LooperError, RuntimeError):
    """The compiler rejected a program; the message is the compiler's own."""


@dataclass(frozen=True)
class Compiler:
    """A C compiler and the flags to use with it."""

    cc: str = "gcc"
    flags: tuple[str, ...] = DEFAULT_FLAGS
    openmp: bool = True  # adds -fopenmp (needed for parallel and simd pragmas)
    include_dirs: tuple[Path, ...] = ()
    defines: Mapping[str, str | int | None] = field(default_factory=dict)

    def arguments(self) -> list[str]:
        """Flags, include directories and definitions, as compiler arguments."""
        args = [*self.flags, *(f"-I{d}" for d in self.include_dirs)]
        args += [f"-D{k}" if v is None else f"-D{k}={v}" for k, v in self.defines.items()]
        if self.openmp:
            args.append("-fopenmp")
        return args

    def with_(self, **changes) -> Compiler:
        """A copy with some fields changed."""
        return Compiler(**{**self.__dict__, **changes})


def timing_env(threads: int = 2, wait_policy: str | None = "passive") -> dict[str, str]:
    """Environment for timing a built program: an explicit thread count, and OpenMP threads that sleep
    rather than spin while they wait. On this kind of 2-vCPU virtual machine, spinning made 2-thread
    runs of one binary vary up to 3x from run to run; passive waiting made them steady and, at the
    median, faster on PolyBench (see BENCHMARKS.md). On runs of a few milliseconds it is slower, since
    each entry into a parallel loop wakes a thread, but still the steadiest (costmodel/TRAINING.md,
    "Measured alone"). `wait_policy=None` leaves OMP_WAIT_POLICY unset."""
    return {"OMP_NUM_THREADS": str(threads), **({"OMP_WAIT_POLICY": wait_policy} if wait_policy else {})}


def cache_dir() -> Path:
    """Where built files are kept (override with $LOOPER_CACHE)."""
    root = Path(os.environ.get("LOOPER_CACHE", Path(tempfile.gettempdir()) / f"looper-{os.getuid()}"))
    path = root / "build"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _key(compiler: Compiler, sources: Sequence[Path], extra: Sequence[str]) -> str:
    h = hashlib.sha256()
    for part in [compiler.cc, *compiler.arguments(), *extra]:
        h.update(part.encode() + b"\0")
    for src in sources:
        h.update(str(src).encode() + b"\0" + src.read_bytes() + b"\0")
    return h.hexdigest()[:24]


def _private(path: Path) -> Path:
    """A temporary name beside `path` that no other process or thread uses: threads of one process
    may build the same text at once (two schedules can generate identical code)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")


def _compile_into(out: Path, cmd: list[str]) -> None:
    """Run a compiler command with `-o` a private temporary, then move that to `out`: atomic, so a
    concurrent build never sees a half-written file, and a failed one leaves nothing behind."""
    tmp = _private(out)
    cmd = [*cmd, "-o", str(tmp)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except FileNotFoundError:
        raise BuildError(f"compiler not found: {cmd[0]}") from None
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise BuildError(f"{shlex.join(cmd)}\n{proc.stderr.strip()}")
    tmp.replace(out)


def object_file(source: Path, compiler: Compiler = Compiler(), extra: Sequence[str] = ()) -> Path:
    """Compile one C source to an object file, once for its text and flags: a harness such as
    polybench.c is shared by every variant of every program, and recompiling it was a fifth of each build."""
    source = Path(source).resolve()
    out = cache_dir() / f"{source.stem}-{_key(compiler, [source], [*extra, '-c'])}.o"
    if not out.exists():
        _compile_into(out, [compiler.cc, *compiler.arguments(), *extra, "-c", str(source)])
    return out


def compile_c(
    sources: Sequence[Path], compiler: Compiler = Compiler(), *, shared: bool = False, name: str = "prog"
) -> Path:
    """Compile sources into an executable (or a shared library); return its hash-named path.
    C sources after the first are compiled to cached object files (object_file) and linked."""
    sources = [Path(s).resolve() for s in sources]
    extra = ["-shared", "-fPIC"] if shared else []
    out = cache_dir() / f"{name}-{_key(compiler, sources, extra)}{'.so' if shared else ''}"
    if not out.exists():
        objects = [object_file(s, compiler, ["-fPIC"] if shared else []) if s.suffix == ".c" else s
                   for s in sources[1:]]
        _compile_into(out, [compiler.cc, *compiler.arguments(), *extra, str(sources[0]), *map(str, objects), "-lm"])
    return out


def compile_text(text: str, compiler: Compiler = Compiler(), *, suffix: str = ".c", name: str = "prog",
                 extra_sources: Sequence[Path] = (), shared: bool = False) -> Path:
    """Compile C source text (written to a hash-named file first)."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    src = cache_dir() / f"{name}-{digest}{suffix}"
    if not src.exists():
        tmp = _private(src)
        tmp.write_text(text)
        tmp.replace(src)
    return compile_c([src, *extra_sources], compiler, shared=shared, name=name)


def load_library(path: Path, cdef: str):
    """Load a shared library with cffi (ABI mode); `cdef` declares the functions to call."""
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(cdef)
    return ffi, ffi.dlopen(str(path))
