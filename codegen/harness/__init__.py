"""The measurement harness: the one place that builds and times code.

For N variants of a program (whole program texts, as looper-opt writes them):

1. `compose`: one C file holding the original and every variant, each changed function once per
   variant (none inlined), main() and the array initialization shared;
2. `library.build`: one compiler call makes one shared library (`build_all` builds several
   programs' libraries at once, one per core);
3. `Harness.time`: a worker process loads the library with cffi and runs it under the timing
   policy; a crash or a hang kills the worker, not the caller, and the variant is retried alone and
   recorded as `run_error` or `timeout` while the others keep their runs.

The timing policy (`policy.Policy`), for everything that times code: before each run the library's
data is restored and main() allocates and initializes the arrays again; before the first timed
region a real flush (runtime.py); OpenMP threads started at load, `OMP_WAIT_POLICY=passive`; the
original runs once untimed, then in every round, interleaved with the variants; a variant over 2x
the best after two runs (10x after one) stops, one within 10% of the best gets up to 10 runs; one
statistic (`policy.STATISTIC`, the mean of the fastest half of the runs) for every label, decision
and cell. Whole programs (verification, fuzzing, `looper bench`'s peers) run as processes
(`process.run_program`), their times taken by the same `policy.measure`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from codegen.build import Compiler
from codegen.harness.compose import ComposeError, compose
from codegen.harness.library import Batch, Library, build, build_all, harness_sources
from codegen.harness.machine import cpu_model, machine_id
from codegen.harness.policy import (
    BUILD_ERROR,
    DESCRIPTIONS,
    OK,
    RUN_ERROR,
    STATISTIC,
    TIMEOUT,
    Policy,
    RunFailed,
    Timed,
    measure,
    spread,
    summarize,
)
from codegen.harness.process import ProgramRun, harness_seconds, program_timer, run_program
from codegen.harness.timing import Harness

# Recorded with every sample: labels of another harness are not comparable. "process-1" is the one
# before (a process per run, PolyBench's calloc'd flush, trimmed median): data/*.db hold its labels.
HARNESS_VERSION = "inproc-1"
OLD_HARNESS = "process-1"

__all__ = [
    "BUILD_ERROR", "DESCRIPTIONS", "HARNESS_VERSION", "OK", "OLD_HARNESS", "RUN_ERROR", "STATISTIC", "TIMEOUT",
    "Batch", "ComposeError", "Harness", "Library", "Policy", "ProgramRun", "RunFailed", "Timed", "build", "build_all",
    "compose", "cpu_model", "harness_seconds", "harness_sources", "machine_id", "measure", "program_timer",
    "run_program", "spread", "summarize", "time_variants",
]


def time_variants(original: str, variants: Sequence[str], compiler: Compiler, *, directory: Path | None = None,
                  harness: Harness | None = None) -> list[Timed]:
    """Build and time one program's variants (result 0 is the original); a harness of defaults if none."""
    library = build(Batch(original, tuple(variants), compiler, directory))
    if harness is not None:
        return harness.time(library)
    with Harness() as own:
        return own.time(library)
