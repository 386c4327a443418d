"""The library API: `optimize()` reads a C file, searches each SCoP's schedule, and writes C.

This is the layer that wires the pieces together (frontend, search, evaluators, codegen,
verification); the core modules below it import none of them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codegen.ast_c import generate
from codegen.build import Compiler
from codegen.splice import region_code, splice
from frontend.errors import FrontendError, FrontendWarning
from frontend.reader import Reading, load, read_file
from frontend.source import Source
from looper.deps import Dependences, compute_dependences
from looper.errors import InputError
from looper.ir import Scop
from looper.legality import check
from looper.measure import MeasureCache, MeasureEvaluator, Program
from looper.schedule import Schedule
from looper.search import AnalyticalEvaluator, Evaluator, SearchResult
from looper.search.strategies import SEARCHES, STANDIN, STRATEGIES, Settings
from looper.verify import Verification, has_main, verify_sources
from polybench.manifest import UTILITIES

__all__ = ["SEARCHES", "InputError", "RegionResult", "Result", "Settings", "dumps", "model_evaluator", "optimize"]


@dataclass
class RegionResult:
    """What was decided for one SCoP region."""

    scop: Scop
    schedule: Schedule
    code: str  # the region's new text, pragma lines included
    predicted_speedup: float | None = None
    measured_speedup: float | None = None
    search: SearchResult | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    # hybrid: every candidate timed, as (origin, schedule, measured speedup); origin "model" (in the
    # model's order) or "pluto"
    timed: list[tuple[str, Schedule, float]] = field(default_factory=list)
    # model: the search's best, when the Pluto-class schedule was taken instead, and why
    overruled: Schedule | None = None
    because: str = ""


@dataclass
class Result:
    """The transformed file and, per region, the chosen schedule and the search's statistics."""

    path: Path | None
    code: str
    regions: list[RegionResult]
    skipped: list[FrontendError]  # regions that are C but not SCoPs, left untouched
    verification: Verification | None = None
    warnings: list[FrontendWarning] = field(default_factory=list)  # assumptions made, a file with no region

    def schedules_json(self) -> dict[str, Any]:
        """The decisions of every region, for `--emit-schedule` / `--apply-schedule`."""
        return {
            "file": str(self.path) if self.path else None,
            "regions": [{"line": r.scop.region.line if r.scop.region else None, **r.schedule.to_json()}
                        for r in self.regions],
        }


def model_evaluator(model: str | Path | None = None) -> tuple[Evaluator, str]:
    """The evaluator behind `search="model"`: the learned cost model if one is available, else the
    analytical stand-in (named as such in every report). `model="analytical"` asks for the stand-in."""
    if str(model) == STANDIN:
        return AnalyticalEvaluator(), "analytical stand-in"
    try:
        from costmodel.inference import load_evaluator  # the API layer may use the cost model
    except ImportError:
        return AnalyticalEvaluator(), "analytical stand-in"
    evaluator = load_evaluator(model)
    if evaluator is None:
        return AnalyticalEvaluator(), "analytical stand-in"
    return evaluator, "cost model"


def _read(source_or_path: str | Path) -> tuple[str, Path | None]:
    """The text of a file exactly as written (UTF-8, line ends untranslated: offsets index it), or of C text.

    Raises FrontendError (an unreadable file, or bytes that are not UTF-8, at the first bad byte)."""
    if isinstance(source_or_path, Path) or ("\n" not in str(source_or_path) and Path(source_or_path).exists()):
        path = Path(source_or_path)
        return load(path).text, path
    if "\n" not in str(source_or_path) and str(source_or_path).endswith((".c", ".h")):
        raise InputError(f"{source_or_path}: error: no such file")
    return str(source_or_path), None


def _screen(
    reading: Reading, path: Path | None, strict: bool
) -> tuple[list[Scop], list[FrontendError], list[FrontendWarning]]:
    """The policy on bad input: text that is not C (or broken scop markup) raises its FrontendError;
    a region that is C but not a SCoP is skipped (left untouched); a file with no region gets one
    warning; with `strict`, the first skipped region or warning raises instead."""
    malformed = [e for e in reading.entries if isinstance(e, FrontendError) and e.malformed]
    if malformed:
        raise malformed[0]
    scops = [x for x in reading.entries if isinstance(x, Scop)]
    skipped = [x for x in reading.entries if isinstance(x, FrontendError)]
    warnings = list(reading.warnings)
    if not reading.entries:
        warnings.append(FrontendWarning("no '#pragma scop' region found", str(path) if path else "<string>", 1, 1,
                                        note="the output is a copy of the input"))
    if strict:
        first = sorted([*skipped, *(w.as_error() for w in warnings)], key=lambda e: (e.line, e.column))
        if first:
            raise first[0]
    return scops, skipped, warnings


def optimize(
    source_or_path: str | Path,
    settings: Settings | None = None,
    *,
    include_dirs: Sequence[str | Path] = (),
    defines: Mapping[str, str | None] | None = None,
    apply: Mapping[str, Any] | None = None,
    compiler: Compiler = Compiler(),
    strict: bool = False,
    verify: bool = False,
    quiet: bool = True,
    log: Callable[[str], None] | None = None,
    **changes: Any,
) -> Result:
    """Optimize every `#pragma scop` region of a C file (or C text) and return the new code.

    `settings` says how to search (`Settings()`, the default search, when None); keyword arguments
    named as its fields change it (`optimize(path, search="pluto")`). `apply` reuses decisions saved by
    `Result.schedules_json()`; `compiler` builds the program for measurement and `verify`. Text that is
    not C raises FrontendError; regions that are C but not SCoPs are left untouched (`Result.skipped`),
    and with `strict` they, and every warning, raise FrontendError instead. `verify` and the measuring
    searches need a program with main() (InputError otherwise).
    """
    try:
        settings = replace(settings or Settings(), **changes)
    except TypeError as exc:
        raise TypeError(f"optimize(): {exc}") from None
    search = settings.search
    if search not in SEARCHES:
        raise InputError(f"unknown search {search!r}; choose one of {', '.join(SEARCHES)}")
    text, path = _read(source_or_path)
    dirs = [Path(d) for d in include_dirs]
    defs = dict(defines or {})
    # Reading only: PolyBench's scalar loop bounds and its harness as a last include directory let
    # the frontend learn the sizes behind `_PB_N` (the cost model's features need them); the code
    # printed keeps the names as written.
    read_defines = {"POLYBENCH_USE_SCALAR_LB": None, **defs}
    reading = read_file(Source(text, path) if path else text, include_dirs=[*dirs, UTILITIES], defines=read_defines)
    scops, skipped, warnings = _screen(reading, path, strict)
    if (verify or (search in ("measure", "hybrid") and scops)) and not has_main(text):
        what = "--verify runs" if verify else f"--search {search} times"
        raise InputError(f"{path or '<string>'}: error: {what} the program, but the file has no main() "
                         "(give a whole program, or drop the option)")
    saved = _saved_regions(apply, len(scops))
    directory = path.resolve().parent if path else Path.cwd()
    compiler = compiler.with_(include_dirs=(*compiler.include_dirs, *dirs), defines={**compiler.defines, **defs})
    chosen: dict[int, Schedule] = {}
    results: list[RegionResult] = []
    for index, scop in enumerate(scops):
        started = time.perf_counter()
        deps = compute_dependences(scop)
        seconds = {"dependences": time.perf_counter() - started}

        def render(schedule: Schedule, index: int = index) -> str:
            current = {**{i: Schedule(s) for i, s in enumerate(scops)}, **chosen, index: schedule}
            return splice(text, [(s, region_code(text, s, generate(current[i]))) for i, s in enumerate(scops)])

        tools = _Evaluators(settings, Program(text, directory, render, compiler), quiet)
        result = _decide(scop, deps, settings, saved[index] if saved else None, tools)
        verdict = check(result.schedule, deps)
        if not verdict:
            raise InputError(f"{scop.region.where() if scop.region else 'scop'}: error: illegal schedule: "
                             f"{verdict.reason}")
        started = time.perf_counter()
        result.code = region_code(text, scop, generate(result.schedule))
        result.seconds.update(seconds)
        result.seconds["codegen"] = time.perf_counter() - started
        chosen[index] = result.schedule
        results.append(result)
        if log:
            log(f"{scop.name}: {result.schedule}")
    code = splice(text, [(r.scop, r.code) for r in results])
    outcome = Result(path, code, results, skipped, warnings=warnings)
    if verify:
        rtol = 1e-4 if any(a.resolved_type == "float" for s in scops for a in s.arrays.values()) else 1e-9
        outcome.verification = verify_sources(text, code, directory=directory, rtol=rtol,
                                              compiler=Compiler(cc=compiler.cc, flags=("-O2",),
                                                                include_dirs=compiler.include_dirs, defines=defs))
    return outcome


def _saved_regions(apply: Mapping[str, Any] | None, count: int) -> list[dict] | None:
    if apply is None:
        return None
    regions = apply.get("regions") if isinstance(apply, Mapping) else None
    if not isinstance(regions, list) or len(regions) != count:
        raise InputError(f"the schedule file describes {len(regions) if isinstance(regions, list) else 'no'} "
                         f"regions; the source has {count}")
    return regions


class _Evaluators:
    """The cost model and the measuring evaluator of one region, made when a strategy asks for them."""

    def __init__(self, settings: Settings, program: Program, quiet: bool) -> None:
        self.settings = settings
        self.program = program
        self.quiet = quiet

    def model(self) -> Evaluator:
        return model_evaluator(self.settings.model)[0]

    def measure(self, progress: Callable[[int], None] | None = None) -> Evaluator:
        return MeasureEvaluator(self.program, repeat=self.settings.repeat, jobs=self.settings.jobs,
                                cache=MeasureCache(), progress=progress)


def _decide(scop: Scop, deps: Dependences, settings: Settings, saved: dict | None, tools: _Evaluators
            ) -> RegionResult:
    """Choose one region's schedule: the saved one, or the requested strategy's."""
    started = time.perf_counter()
    if saved is not None:
        try:
            schedule = Schedule.from_json(scop, saved)
        except ValueError as exc:
            raise InputError(f"bad schedule JSON: {exc}") from None
        return RegionResult(scop, schedule, "", seconds={"search": time.perf_counter() - started})
    decision = STRATEGIES[settings.search](Schedule(scop), deps, settings, tools)
    return RegionResult(scop, decision.schedule, "", predicted_speedup=decision.predicted_speedup,
                        measured_speedup=decision.measured_speedup, search=decision.search,
                        seconds={"search": time.perf_counter() - started}, timed=decision.timed,
                        overruled=decision.overruled, because=decision.because)


def dumps(result: Result) -> str:
    """The chosen schedules as JSON text."""
    return json.dumps(result.schedules_json(), indent=2)
