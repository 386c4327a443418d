"""One fuzzing case: build the original and the transformed program at small sizes, run both, compare.

A case is a program (its text and size definitions) and either a transformation sequence
(`mode="schedule"`), a search mode handed to `looper.api.optimize` (`mode="pluto"`, `"model"`, ...),
or `mode="sample"` (draw the program's random legal schedules). `evaluate` runs in a worker
process: anything looper raises becomes a `crash` outcome, never an exception of its own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen.build import BuildError, Compiler, cache_dir, compile_text, object_file
from codegen.harness import ProgramRun, run_program
from polybench.dump import RTOL, DumpError, compare, parse
from polybench.manifest import UTILITIES

FAILURE_KINDS = ("wrong_output", "crash", "hang", "build_error", "runtime_crash")
SEARCH_MODES = ("pluto", "isl", "model", "random", "none", "measure", "hybrid")
# -ffp-contract=off: no fused multiply-adds, so that a different loop order cannot change rounding
# (the fuzzer looks for looper's bugs, not for the compiler's freedom); -march=native: wide vectors.
FLAGS = ("-O2", "-march=native", "-ffp-contract=off")
SANITIZE = ("-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=all")
RUN_TIMEOUT = 20.0  # seconds a program may run at the small sizes
# OMP_NUM_THREADS of every run: parallel loops really run in parallel (with OMP_WAIT_POLICY=passive, as
# the harness runs everything: spinning threads on a loaded machine make a run of a few ms take seconds).
THREADS = 2
_PACKAGES = ("looper", "frontend", "codegen", "costmodel")


@dataclass(frozen=True)
class Case:
    """A program at given sizes and what to do with it."""

    source: str
    defines: tuple[tuple[str, int], ...]  # size macros, passed as -D<name>=<value>
    mode: str  # "schedule", "sample", or one of SEARCH_MODES
    schedule: dict[str, Any] | None = None  # Schedule.to_json() (mode "schedule")
    seed: int = 0  # seed of the sampler (mode "sample") and of the random search
    count: int = 0  # schedules to draw (mode "sample")
    beam_width: int = 2  # of the searches
    rtol: float | None = None  # tolerance for floating-point arrays (None: from the source's types)
    program: int = -1  # index of the program in the fuzzing stream (for reports)
    number: int = 0  # number of the case among its program's cases

    def with_(self, **changes: Any) -> Case:
        return dataclasses.replace(self, **changes)


@dataclass
class Outcome:
    """What a case did: `ok`, `invalid` (not a meaningful case, e.g. the original itself fails),
    or one of FAILURE_KINDS, with a message and a detail that tells failures of a kind apart."""

    status: str
    message: str = ""
    detail: str = ""
    schedule: dict[str, Any] | None = None  # the schedule that was applied (or that the search chose)
    transformed: str | None = None  # the transformed program's text, when there is one
    schedules: list[dict[str, Any]] = field(default_factory=list)  # mode "sample": what was drawn

    @property
    def failed(self) -> bool:
        return self.status in FAILURE_KINDS

    @property
    def signature(self) -> tuple[str, str]:
        """What a reduced case must reproduce: the kind, and for crashes and hangs, where."""
        return self.status, self.detail


class WorkerLost(Exception):
    """The worker running a case hung (and was killed at the time limit) or died; `outcome` says which."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


class _Invalid(Exception):
    """The case is not meaningful (the original does not build or run, the schedule is illegal)."""


def program_seed(fuzz_seed: int, index: int) -> int:
    """The generator seed of program `index` of a fuzzing run: a hash, far from the training seeds 0, 1, 2..."""
    digest = hashlib.sha256(f"fuzz:{fuzz_seed}:{index}".encode()).digest()
    return (1 << 48) + int.from_bytes(digest[:6], "big")


def compiler_for(defines: Mapping[str, int | str | None], *, sanitize: bool = False) -> Compiler:
    """The compiler of both programs of a case: dumps on, sizes from `defines`."""
    return Compiler(flags=SANITIZE if sanitize else FLAGS, openmp=not sanitize, include_dirs=(UTILITIES,),
                    defines={"POLYBENCH_DUMP_ARRAYS": None, **defines})


def harness_object(compiler: Compiler) -> Path:
    """polybench.c compiled once per compiler (it does not depend on the sizes), to link with every program."""
    return object_file(UTILITIES / "polybench.c", compiler.with_(defines={}))


def _build(text: str, compiler: Compiler, name: str) -> Path:
    return compile_text(text, compiler, name=name, extra_sources=[harness_object(compiler)])


def _discard(text: str, binary: Path | None, name: str) -> None:
    """Remove a built program and its source (thousands of variants would fill the cache)."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:24]
    (cache_dir() / f"{name}-{digest}.c").unlink(missing_ok=True)
    if binary is not None:
        binary.unlink(missing_ok=True)


_ORIGINALS: dict[tuple, str] = {}  # (source, defines, sanitize) -> output of the original (per process)
_SCOPS: dict[tuple, tuple] = {}  # (source, defines) -> (scop, deps)


def _remember(cache: dict, key: tuple, value: Any, keep: int = 6) -> Any:
    if len(cache) >= keep:
        cache.pop(next(iter(cache)))
    cache[key] = value
    return value


def original_output(case: Case, *, sanitize: bool = False, timeout: float = RUN_TIMEOUT) -> str:
    """The dump of the original program (cached per process); _Invalid if it does not build or run."""
    key = (case.source, case.defines, sanitize)
    if key in _ORIGINALS:
        return _ORIGINALS[key]
    compiler = compiler_for(dict(case.defines), sanitize=sanitize)
    what = "original (sanitizers)" if sanitize else "original"
    try:
        binary = _build(case.source, compiler, "fuzz-original")
    except BuildError as exc:
        raise _Invalid(f"{what} does not build: {_last_lines(str(exc))}") from None
    run = run_program(binary, timeout=timeout, threads=THREADS)
    if run.returncode is None:
        raise _Invalid(f"{what} did not finish within {timeout:g} s")
    if run.returncode != 0:
        raise _Invalid(f"{what} failed: {run.describe()}: {_last_lines(run.output)}")
    return _remember(_ORIGINALS, key, run.output)


def read_program(source: str, defines: tuple[tuple[str, int], ...]):
    """The program's (first) Scop and its dependences (cached per process)."""
    from frontend import read_scop
    from looper.deps import compute_dependences

    key = (source, defines)
    if key not in _SCOPS:
        scop = read_scop(source, include_dirs=[UTILITIES], defines={k: str(v) for k, v in defines})
        _remember(_SCOPS, key, (scop, compute_dependences(scop)), keep=4)
    return _SCOPS[key]


def transformed_source(case: Case) -> tuple[str, dict[str, Any] | None]:
    """The transformed program of a case (looper's work: frontend, legality, search, codegen)."""
    if case.mode == "schedule":
        from codegen.ast_c import generate
        from codegen.splice import region_code, splice
        from looper.legality import check
        from looper.schedule import Schedule

        scop, deps = read_program(case.source, case.defines)
        try:
            schedule = Schedule.from_json(scop, case.schedule or {"steps": []})
        except ValueError as exc:
            raise _Invalid(f"bad schedule: {exc}") from None
        verdict = check(schedule, deps)
        if not verdict:
            raise _Invalid(f"illegal schedule: {verdict.reason}")
        code = splice(case.source, [(scop, region_code(case.source, scop, generate(schedule)))])
        return code, case.schedule
    from looper.api import optimize

    result = optimize(case.source, search=case.mode, include_dirs=[UTILITIES],
                      defines={k: str(v) for k, v in case.defines}, beam_width=case.beam_width,
                      seed=case.seed % (1 << 31), jobs=1, repeat=3, strict=True)
    chosen = result.schedules_json()["regions"]
    return result.code, ({k: v for k, v in chosen[0].items() if k != "line"} if chosen else None)


def sample_schedules(case: Case) -> list[dict[str, Any]]:
    """`count` random legal schedules of the program (looper's sampler, every transformation type)."""
    from looper.schedule import Schedule
    from looper.search.sampler import samples

    scop, deps = read_program(case.source, case.defines)
    return [s.to_json() for s in samples(Schedule(scop), deps, case.count, seed=case.seed)]


def evaluate(case: Case, *, sanitize: bool = False, timeout: float = RUN_TIMEOUT, runs: int = 1) -> Outcome:
    """Run one case and say how it went. A parallel transformed program runs `runs` times and the case
    fails if any run fails (a legal schedule never may: racy parallel code fails only sometimes).
    With `sanitize`, the original must also run clean under AddressSanitizer and UBSan (so that a
    reduced program has no undefined behaviour of its own)."""
    try:
        expected = original_output(case, timeout=timeout)
        if sanitize:
            original_output(case, sanitize=True, timeout=timeout * 3)
    except _Invalid as exc:
        return Outcome("invalid", str(exc))
    try:
        if case.mode == "sample":
            return Outcome("ok", schedules=sample_schedules(case))
        code, schedule = transformed_source(case)
    except _Invalid as exc:
        return Outcome("invalid", str(exc), schedule=case.schedule)
    except Exception as exc:  # any exception inside looper is a failure of its own
        return crash_outcome(exc, case.schedule)
    compiler = compiler_for(dict(case.defines))
    name = "fuzz-variant"
    try:
        binary = _build(code, compiler, name)
    except BuildError as exc:
        _discard(code, None, name)
        return Outcome("build_error", _last_lines(str(exc), 6), schedule=schedule, transformed=code)
    if "omp parallel" not in code:
        runs = 1  # without threads, another run would do the very same thing
    try:
        for _ in range(max(1, runs)):
            outcome = _judge(case, run_program(binary, timeout=timeout, threads=THREADS), expected, timeout)
            outcome.schedule, outcome.transformed = schedule, code
            if outcome.failed:
                break
    finally:
        _discard(code, binary, name)
    return outcome


def _judge(case: Case, run: ProgramRun, expected: str, timeout: float) -> Outcome:
    """The outcome of one run of the transformed program."""
    if run.returncode is None:
        return Outcome("hang", f"the transformed program did not finish within {timeout:g} s", "program")
    if run.returncode != 0:
        what = run.describe()
        return Outcome("runtime_crash", f"the transformed program failed: {what}: {_last_lines(run.output)}", what)
    rtol = case.rtol if case.rtol is not None else tolerance(case.source)
    try:
        mismatch = compare(parse(expected), parse(run.output), rtol=rtol)
    except DumpError as exc:
        return Outcome("wrong_output", f"unreadable dump: {exc}")
    if mismatch is not None:
        return Outcome("wrong_output", str(mismatch))
    return Outcome("ok")


def tolerance(source: str) -> float:
    """Relative tolerance of a program's floating-point arrays (integers are always compared exactly)."""
    return RTOL["float"] if re.search(r"\bfloat\b", source) else RTOL["double"]


def crash_outcome(exc: BaseException, schedule: dict | None = None) -> Outcome:
    """An exception inside looper, with the innermost looper frame as its detail."""
    where = "?"
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename)
        ours = path.parent.name in _PACKAGES or path.parent.parent.name in _PACKAGES
        if ours and "fuzz" not in path.parts:
            where = f"{path.parent.name}/{path.name}:{frame.name}"
    message = f"{type(exc).__name__}: {str(exc).strip()[:400]} (in {where})"
    return Outcome("crash", message, f"{type(exc).__name__} in {where}", schedule)


def _last_lines(text: str, n: int = 3) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-n:])[:600]


def remap_schedule(old_source: str, new_source: str, defines: tuple[tuple[str, int], ...],
                   schedule: dict[str, Any]) -> dict[str, Any] | None:
    """The schedule of `old_source` carried over to `new_source`, a copy with some statements deleted:
    statements are renamed, and a step on a deleted statement acts on a surviving statement of the
    same loop instead (or is dropped). None if the programs do not correspond."""
    from looper import transforms as T
    from looper.schedule import Schedule, ScheduleError

    old, _ = read_program(old_source, defines)
    new, _ = read_program(new_source, defines)

    def body(s) -> str:
        return f"{s.iterators}:{s.body.to_c({it: it for it in s.iterators})}"

    names: dict[str, str] = {}
    remaining = list(new.statements)
    for s in old.statements:
        if remaining and body(s) == body(remaining[0]):
            names[s.name] = remaining.pop(0).name
    if remaining:
        return None
    steps = Schedule.from_json(old, schedule).steps
    out: list[T.Transformation] = []
    for k, step in enumerate(steps):
        if isinstance(step, T.Reschedule):
            pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\[") if names else None
            maps = tuple((names[s], pattern.sub(lambda m: names[m.group(1)] + "[", text) if pattern else text)
                         for s, text in step.maps if s in names)
            out.append(T.Reschedule(maps))
            continue
        changes: dict[str, str] = {}
        for attr in ("stmt", "other"):
            name = getattr(step, attr, None)
            if name is None:
                continue
            if name in names:
                changes[attr] = names[name]
                continue
            try:
                low = Schedule(old, steps[:k]).lowered
                depth = getattr(step, "depth", None)
                if depth is None:
                    depth = min(getattr(step, "first", 0), getattr(step, "second", 0), getattr(step, "outer", 0))
                members = low.members(name, low.loop_dim(name, depth))
            except ScheduleError:
                members = []
            survivor = next((m for m in members if m in names), None)
            if survivor is None:  # the step's loop is gone: the step too
                break
            changes[attr] = names[survivor]
        else:
            out.append(dataclasses.replace(step, **changes))
    return {**schedule, "statements": [s.name for s in new.statements], "steps": [t.to_json() for t in out]}


# What a worker process may be asked to run.
FUNCTIONS: dict[str, Callable[..., Any]] = {"evaluate": evaluate, "remap_schedule": remap_schedule}
