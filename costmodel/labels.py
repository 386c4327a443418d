"""Labels: a program's schedules chosen, written out as C, built as one library and timed.

Two steps, so that a data-generation run can build several programs at once and time them one at
a time: `prepare` (choose schedules, generate code, build the library: CPU work, done in worker
processes on every core) and `label` (time the library with the measurement harness, alone on the
machine). `measure_program` does both, for a Ray task or a test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from codegen.ast_c import generate as generate_code
from codegen.build import Compiler
from codegen.harness import HARNESS_VERSION, OK, STATISTIC, Batch, Harness, Library, Policy, build
from codegen.splice import region_code, splice
from costmodel.dataset import frontend_loader
from costmodel.programs import ProgramSpec
from costmodel.sampling import Chosen, Sampling, choose_schedules
from looper.schedule import Schedule

COMPILER = Compiler(flags=("-O3", "-march=native"))
# The frontend reads PolyBench's loop bounds as their compile-time sizes (the features need them);
# the programs are built alike, so that what is timed is what was featurized.
DEFINES: dict[str, str | None] = {"POLYBENCH_USE_SCALAR_LB": None}
RUN_TIMEOUT = 10.0  # seconds one timed run may take


def compiler_record() -> str:
    """How every sample is compiled, as its `compiler` column records it."""
    return f"{COMPILER.cc} {' '.join(COMPILER.arguments())}"


@dataclass
class Sample:
    """One measured (program, schedule): its label and how it was timed."""

    fingerprint: str
    schedule: str
    status: str
    speedup: float | None = None
    median_s: float | None = None  # the variant's statistic (the column keeps its first name)
    baseline_s: float | None = None
    times: list[float] = field(default_factory=list)
    runs: int = 0
    spread: float | None = None
    statistic: str = STATISTIC
    harness: str = HARNESS_VERSION
    origin: str = ""  # how the schedule was chosen (costmodel.sampling); "" when not recorded


@dataclass
class Prepared:
    """A program's chosen schedules and the library that holds them, ready to be timed."""

    spec: ProgramSpec
    schedules: list[tuple[str, str]]  # (fingerprint, Schedule.to_json() as text), in the library's order
    library: Library
    origins: list[str] = field(default_factory=list)  # how each schedule was chosen, when known


def prepare(spec: ProgramSpec, schedules: list[Schedule], origins: list[str] | None = None) -> Prepared:
    """Each schedule's program, as looper-opt would write it, built with the original into one library."""
    texts = tuple(splice(spec.source, [(s.scop, region_code(spec.source, s.scop, generate_code(s)))])
                  for s in schedules)
    compiler = COMPILER.with_(defines={**spec.defines, **DEFINES})
    library = build(Batch(spec.source, texts, compiler))
    return Prepared(spec, [(s.fingerprint(), json.dumps(s.to_json())) for s in schedules], library, origins or [])


def prepare_new(spec: ProgramSpec, count: int, skip: set[str], sampling: Sampling = Sampling()) -> Prepared:
    """`prepare` for `count` new schedules of a program (a worker's task in `looper dataset generate`)."""
    return _prepare_chosen(spec, choose_schedules(spec, count, skip, spec.seed, sampling))


def _prepare_chosen(spec: ProgramSpec, chosen: list[Chosen]) -> Prepared:
    """`prepare` for chosen schedules, keeping their origins."""
    return prepare(spec, [s for _, s in chosen], [origin for origin, _ in chosen])


def prepare_stored(spec: ProgramSpec, schedules: list[dict], origins: list[str] | None = None) -> Prepared:
    """`prepare` for stored schedules (`Schedule.to_json()`) of a program and their origins (`looper dataset
    remeasure`)."""
    scop = frontend_loader(spec.source, spec.defines)
    return prepare(spec, [Schedule.from_json(scop, s) for s in schedules], origins)


def label(prepared: Prepared, harness: Harness) -> list[Sample]:
    """Time a prepared program: one sample per schedule, its speedup over the original of the same batch."""
    base, *timed = harness.time(prepared.library)
    out = []
    origins = prepared.origins or [""] * len(timed)
    for (fingerprint, schedule), origin, t in zip(prepared.schedules, origins, timed, strict=True):
        sample = Sample(fingerprint, schedule, t.status, times=t.times, runs=len(t.times), statistic=t.statistic,
                        origin=origin)
        if t.ok and base.ok and t.seconds and base.seconds:
            sample.speedup, sample.median_s, sample.baseline_s = base.seconds / t.seconds, t.seconds, base.seconds
            sample.spread = t.spread
        elif t.status == OK:  # the original failed after the variant's runs: no label
            sample.status = base.status
        out.append(sample)
    return out


def measure_program(spec: ProgramSpec, count: int, skip: set[str], seed: int, repeat: int = 5,
                    timeout: float = RUN_TIMEOUT, sampling: Sampling = Sampling()) -> list[Sample]:
    """Choose, build and time up to `count` new schedules of a program, here (a Ray task, a test)."""
    prepared = _prepare_chosen(spec, choose_schedules(spec, count, skip, seed, sampling))
    with Harness(Policy.from_repeat(repeat), timeout=timeout) as harness:
        return label(prepared, harness)


def measure_schedules(spec: ProgramSpec, schedules: list[Schedule], repeat: int = 5, timeout: float = RUN_TIMEOUT,
                      wait_policy: str | None = "passive") -> list[Sample]:
    """Build and time given schedules of a program against its original, under an OpenMP wait policy
    (None: unset, libgomp's default)."""
    prepared = prepare(spec, schedules)
    with Harness(Policy.from_repeat(repeat), timeout=timeout, wait_policy=wait_policy) as harness:
        return label(prepared, harness)
