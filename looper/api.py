"""The library API: `optimize()` reads a C file, searches each SCoP's schedule, and writes C.

This is the layer that wires the pieces together (frontend, search, evaluators, codegen,
verification); the core modules below it import none of them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen.ast_c import generate
from codegen.build import Compiler
from codegen.splice import region_code, splice
from frontend.errors import FrontendError, FrontendWarning
from frontend.reader import Reading, load, read_file
from frontend.source import Source
from looper.deps import Dependences, compute_dependences
from looper.ir import Scop
from looper.legality import check
from looper.measure import MeasureCache, MeasureEvaluator, Program
from looper.progress import Progress
from looper.recipe import Options
from looper.schedule import Schedule
from looper.search import AnalyticalEvaluator, Evaluator, RandomEvaluator, SearchResult, Space, beam_search
from looper.search.beam import FUSION_WIDTH
from looper.search.candidates import levels
from looper.search.seeds import plain, search_starts
from looper.verify import Verification, has_main, verify_sources
from polybench.manifest import UTILITIES

SEARCHES = ("model", "measure", "hybrid", "pluto", "isl", "random", "none")


class InputError(ValueError):
    """Bad input from the user (unreadable file, malformed schedule JSON, ...)."""


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
    if str(model) == "analytical":
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
    *,
    search: str = "model",
    beam_width: int = 4,
    fusion_width: int | None = FUSION_WIDTH,
    space: Space = Space(),
    include_dirs: Sequence[str | Path] = (),
    defines: Mapping[str, str | None] | None = None,
    model: str | Path | None = None,
    apply: Mapping[str, Any] | None = None,
    compiler: Compiler = Compiler(),
    jobs: int = 2,
    repeat: int = 5,
    top_k: int = 8,
    seed: int = 0,
    strict: bool = False,
    verify: bool = False,
    quiet: bool = True,
    log: Callable[[str], None] | None = None,
) -> Result:
    """Optimize every `#pragma scop` region of a C file (or C text) and return the new code.

    `search` is one of SEARCHES; `apply` reuses decisions saved by `Result.schedules_json()`.
    `fusion_width` widens the beam at the fusion levels of the model, hybrid and random searches
    (None: `beam_width`); the measured search keeps `beam_width`, as each candidate costs a build.
    Text that is not C raises FrontendError; regions that are C but not SCoPs are left untouched
    (`Result.skipped`), and with `strict` they, and every warning, raise FrontendError instead.
    `verify` and the measuring searches need a program with main() (InputError otherwise).
    """
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

        result = _decide(scop, deps, search, saved[index] if saved else None, beam_width=beam_width,
                         fusion_width=fusion_width, space=space, model=model,
                         program=Program(text, directory, render, compiler), jobs=jobs, repeat=repeat,
                         top_k=top_k, seed=seed, quiet=quiet)
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


def _decide(scop: Scop, deps: Dependences, search: str, saved: dict | None, *, beam_width: int,
            fusion_width: int | None, space: Space,
            model: str | Path | None, program: Program, jobs: int, repeat: int, top_k: int, seed: int,
            quiet: bool) -> RegionResult:
    """Choose one region's schedule with the requested search."""
    identity = Schedule(scop)
    started = time.perf_counter()
    if saved is not None:
        try:
            schedule = Schedule.from_json(scop, saved)
        except ValueError as exc:
            raise InputError(f"bad schedule JSON: {exc}") from None
        return RegionResult(scop, schedule, "", seconds={"search": time.perf_counter() - started})
    if search == "none":
        return RegionResult(scop, identity, "")
    options = Options(tile=space.tile, parallel=space.parallel, vector=space.vector)
    if search in ("pluto", "isl"):
        schedule = plain(identity, deps, search, options)
        return RegionResult(scop, schedule, "", seconds={"search": time.perf_counter() - started})
    # Every search but the plain paths starts from the original program and from the seeds.
    starts = search_starts(identity, deps, options) if space.seeds else []
    if search == "random":
        found = beam_search(identity, deps, RandomEvaluator(seed), beam_width=beam_width,
                            fusion_width=fusion_width, space=space, seeds=starts)
        return RegionResult(scop, found.best, "", search=found, seconds={"search": time.perf_counter() - started})
    if search == "measure":
        with Progress(len(levels(space)), f"measuring {scop.name}", enabled=None if not quiet else False) as bar:
            evaluator = MeasureEvaluator(program, repeat=repeat, jobs=jobs, cache=MeasureCache())
            found = beam_search(identity, deps, evaluator, beam_width=beam_width, space=space, seeds=starts,
                                progress=lambda phase, i, n: bar.advance(label=f"measuring {scop.name}: {phase}"))
        return RegionResult(scop, found.best, "", measured_speedup=found.score, search=found,
                            seconds={"search": time.perf_counter() - started})
    evaluator, _ = model_evaluator(model)
    found = beam_search(identity, deps, evaluator, beam_width=beam_width, fusion_width=fusion_width, space=space,
                        seeds=starts)
    result = RegionResult(scop, found.best, "", predicted_speedup=found.score, search=found,
                          seconds={"search": time.perf_counter() - started})
    if search == "hybrid":
        ranked = sorted(found.explored, key=lambda item: -item[1])
        top: list[Schedule] = []
        seen: set[str] = set()
        for schedule, _ in ranked:
            if schedule.fingerprint() not in seen:
                seen.add(schedule.fingerprint())
                top.append(schedule)
            if len(top) >= top_k:
                break
        pluto = plain(identity, deps, "pluto", options)  # timed too, as in the measured search
        origins = ["model"] * len(top)
        if pluto.fingerprint() not in seen:
            top.append(pluto)
            origins.append("pluto")
        with Progress(len(top), f"measuring top {len(top)} of {scop.name}",
                      enabled=None if not quiet else False) as bar:
            measurer = MeasureEvaluator(program, repeat=repeat, jobs=jobs, cache=MeasureCache(),
                                        progress=bar.advance)
            speedups = measurer.score(top)
        result.timed = list(zip(origins, top, speedups, strict=True))
        best = max(range(len(top)), key=lambda i: (speedups[i], -i))
        if speedups[best] > 1.0:
            result.schedule, result.measured_speedup = top[best], speedups[best]
        else:  # nothing measured beats the original: keep it
            result.schedule, result.measured_speedup = identity, 1.0
        result.seconds["measure"] = time.perf_counter() - started - result.seconds["search"]
    return result


def dumps(result: Result) -> str:
    """The chosen schedules as JSON text."""
    return json.dumps(result.schedules_json(), indent=2)
