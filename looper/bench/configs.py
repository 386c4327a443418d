"""The configurations `looper bench` compares: a compiler, its flags, and how the source is produced."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from codegen.build import DEFAULT_FLAGS
from looper.search.beam import FUSION_WIDTH
from looper.search.candidates import Space
from polybench.manifest import Kernel

BASELINE = "gcc"
POLLY = ("-mllvm", "-polly")

# (text of the original source, kernel, dataset size) -> text of the variant to build instead.
Rewrite = Callable[[str, Kernel, str], str]


@dataclass(frozen=True)
class Config:
    """One way of building a kernel: compiler and flags, on the original source or on a rewritten one."""

    name: str
    cc: str
    flags: tuple[str, ...] = DEFAULT_FLAGS
    openmp: bool = False  # adds -fopenmp
    search: str | None = None  # looper's search (`looper.api.optimize(search=...)`); None = the original source
    model: str | None = None  # the cost model of search "model"/"hybrid": a checkpoint, "analytical", None = default
    beam_width: int = 4  # of looper's search
    space: Space = Space()  # the transformations looper's search may use
    fusion_width: int | None = FUSION_WIDTH  # of the search's fusion levels (None: the beam width throughout)
    rewrite: Rewrite | None = None  # any other source-to-source step (tests use it to plant a wrong variant)
    description: str = ""

    @property
    def transforms(self) -> bool:
        """Whether the built source differs from the original."""
        return self.search is not None or self.rewrite is not None

    def command(self) -> str:
        """The compiler command line, for reports."""
        return " ".join([self.cc, *self.flags, *(["-fopenmp"] if self.openmp else [])])


def default_configs(gcc: str = "gcc", clang: str = "clang-16") -> dict[str, Config]:
    """Every configuration by its stable name, the baseline first."""
    native = DEFAULT_FLAGS
    configs = [
        Config(BASELINE, gcc, native, description="original source, gcc -O3 -march=native (the baseline)"),
        Config("graphite", gcc, (*native, "-floop-nest-optimize"), description="gcc's Graphite loop optimizer"),
        Config("polly", clang, (*native, *POLLY), description="LLVM Polly"),
        Config("polly-parallel", clang, (*native, *POLLY, "-mllvm", "-polly-parallel"), openmp=True,
               description="LLVM Polly with OpenMP code generation (libomp)"),
        Config("looper-pluto", gcc, native, openmp=True, search="pluto",
               description="looper --search pluto (Pluto-class schedule, tiled, parallel, simd)"),
        Config("looper-isl", gcc, native, openmp=True, search="isl",
               description="looper --search isl (isl's scheduler, the same post-processing)"),
        Config("looper", gcc, native, openmp=True, search="model", description="looper's default search (model)"),
        Config("looper-narrow", gcc, native, openmp=True, search="model", fusion_width=None,
               description="looper's model search, its beam of 4 at the fusion levels too (default before a2e4a25)"),
        Config("looper-beam8", gcc, native, openmp=True, search="model", beam_width=8,
               description="looper's model search with a beam of 8 (default 4)"),
        Config("looper-nests", gcc, native, openmp=True, search="model", space=Space(nest_steps=3),
               description="looper's model search with up to three parallel, tile, unroll and vector steps "
                           "(Space.nest_steps=3; the default is one each)"),
        Config("looper-shapes", gcc, native, openmp=True, search="model", space=Space(one_size_per_shape=True),
               description="looper's model search keeping one tile size / unroll factor per shape in the beam "
                           "(Space.one_size_per_shape)"),
        Config("looper-any-skews", gcc, native, openmp=True, search="model", space=Space(needed_skews_only=False),
               description="looper's model search offering skews in every band, also permutable ones with a "
                           "parallel loop (the default before Space.needed_skews_only)"),
        Config("looper-any-reversals", gcc, native, openmp=True, search="model",
               space=Space(needed_reversals_only=False),
               description="looper's model search offering reversals in every band, also permutable ones "
                           "(the default before Space.needed_reversals_only)"),
        Config("looper-noseeds", gcc, native, openmp=True, search="model", space=Space(seeds=False),
               description="looper's model search from the original program only (no Pluto-class or isl seeds)"),
        Config("looper-analytical", gcc, native, openmp=True, search="model", model="analytical",
               description="looper's model search scored by the hand-written analytical stand-in"),
        Config("looper-hybrid", gcc, native, openmp=True, search="hybrid",
               description="looper --search hybrid (model, then measure its top candidates)"),
    ]
    return {c.name: c for c in configs}


CONFIG_NAMES = tuple(default_configs())


def select(names: Iterable[str] | None, configs: Mapping[str, Config]) -> list[Config]:
    """The named configurations (all when `names` is None), baseline first and always included."""
    wanted = list(configs) if names is None else list(dict.fromkeys(names))
    unknown = [n for n in wanted if n not in configs]
    if unknown:
        raise ValueError(f"unknown configuration(s) {', '.join(unknown)}; known: {', '.join(configs)}")
    if BASELINE not in wanted:
        wanted.insert(0, BASELINE)
    return [configs[BASELINE], *(configs[n] for n in wanted if n != BASELINE)]


_PROBE = """
#include <stdio.h>
double a[256];
int main(void) {
  for (int i = 0; i < 256; i++) a[i] = 0.5 * i;
  for (int i = 1; i < 256; i++) a[i] += a[i - 1];
  printf("%g\\n", a[255]);
  return 0;
}
"""


@cache
def _probe_compiler(cc: str, flags: tuple[str, ...], openmp: bool) -> str | None:
    if shutil.which(cc) is None:
        return f"compiler {cc!r} not found"
    with tempfile.TemporaryDirectory(prefix="looper-bench-probe-") as tmp:
        src = Path(tmp) / "probe.c"
        src.write_text(_PROBE)
        cmd = [cc, *flags, *(["-fopenmp"] if openmp else []), str(src), "-o", str(Path(tmp) / "probe")]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{cc} cannot be run: {exc}"
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines()
            return f"{' '.join(cmd[:1] + list(flags))} cannot build a program: {lines[0] if lines else 'failed'}"
    return None


@cache
def _looper_api() -> str | None:
    try:
        import looper.api  # noqa: F401  (needs the frontend)
    except ImportError as exc:
        return f"looper cannot be imported ({exc})"
    return None


def unavailable(config: Config) -> str | None:
    """Why a configuration cannot run here (missing compiler, flags it rejects, no frontend), or None."""
    reason = _probe_compiler(config.cc, config.flags, config.openmp)
    if reason is None and config.search is not None:
        reason = _looper_api()
    return reason


def version(cc: str) -> str:
    """The first line of `cc --version`, or a note that it is missing."""
    try:
        proc = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return f"{cc}: not found"
    lines = proc.stdout.strip().splitlines()
    return lines[0] if lines else f"{cc}: no version"

