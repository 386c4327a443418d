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
from looper.search.strategies import STANDIN
from looper.search.strategies import Settings as SearchSettings
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
    looper: SearchSettings | None = None  # looper's search on the source (`looper.optimize`); None: the original
    rewrite: Rewrite | None = None  # any other source-to-source step (tests use it to plant a wrong variant)
    description: str = ""

    @property
    def transforms(self) -> bool:
        """Whether the built source differs from the original."""
        return self.looper is not None or self.rewrite is not None

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
        Config("looper-pluto", gcc, native, openmp=True, looper=SearchSettings(search="pluto"),
               description="looper --search pluto (Pluto-class schedule, tiled, parallel, simd)"),
        Config("looper-isl", gcc, native, openmp=True, looper=SearchSettings(search="isl"),
               description="looper --search isl (isl's scheduler, the same post-processing)"),
        Config("looper", gcc, native, openmp=True, looper=SearchSettings(),
               description="looper's default search (the cost model's beam, from the original and the seeds)"),
        Config("looper-analytical", gcc, native, openmp=True, looper=SearchSettings(model=STANDIN),
               description="looper's model search scored by the hand-written analytical stand-in"),
        Config("looper-hybrid", gcc, native, openmp=True, looper=SearchSettings(search="hybrid"),
               description="looper --search hybrid (model, then measure its top candidates)"),
    ]
    return {c.name: c for c in configs}


CONFIG_NAMES = tuple(default_configs())


def variant_config(name: str, settings: SearchSettings, flags: str, gcc: str = "gcc") -> Config:
    """`looper-<name>`: looper's search with `settings`, which looper-opt's search flags `flags` give (to set
    a candidate model or search beside the shipped default, which `looper` uses, in one interleaved run)."""
    return Config(f"looper-{name}", gcc, DEFAULT_FLAGS, openmp=True, looper=settings,
                  description=f"looper-opt {flags}")


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
    if reason is None and config.looper is not None:
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

