"""Build, verify and time every configuration of a kernel, interleaved, and store the outcomes.

Timing goes through the measurement harness (codegen.harness) and its one policy (interleaved
rounds, adaptive repetition, one statistic): the peers' whole programs (gcc, Graphite, Polly: other
compilers, other flags) run as processes with PolyBench's harness; looper's configurations are
built with the original kernel into one library per compiler and run in a worker, that original
timed in every round as their own baseline.
"""

from __future__ import annotations

import math
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from codegen.build import BuildError, Compiler, cache_dir, timing_env
from codegen.harness import (
    Batch,
    Harness,
    Library,
    Policy,
    RunFailed,
    build_all,
    measure,
    program_timer,
    run_program,
    summarize,
)
from codegen.harness.timing import settle
from looper.bench.configs import BASELINE, Config
from looper.bench.store import ERROR, FAILED, OK, REFERENCE, Key, Row, Store
from looper.progress import Progress
from polybench.dump import RTOL, DumpError, compare, parse
from polybench.manifest import UTILITIES, Kernel
from polybench.run import build

REPO = Path(__file__).resolve().parents[2]
BLAS = "openblas"  # the in-process NumPy matrix multiply measured next to gemm
DONE = (OK, FAILED, REFERENCE)  # an "error" row (build or run failure) is retried by the next run


@dataclass
class Settings:
    """How to measure."""

    size: str = "MEDIUM"
    repeat: int = 5
    threads: int = 2  # OMP_NUM_THREADS for every run (only parallel code looks at it)
    verify_size: str = "MINI"
    timeout: float = 600.0  # seconds per run of one binary
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)  # parallel builds
    max_load: float | None = None  # before timing a kernel, wait until fewer other tasks than this run ...
    max_wait: float = 600.0  # ... but no longer than this many seconds
    workdir: Path = field(default_factory=lambda: cache_dir().parent / "bench")

    @property
    def env(self) -> dict[str, str]:
        return timing_env(self.threads)


def commit_id(root: Path = REPO) -> str:
    """The checked-out commit of the repository looper runs from (short hash), or "unknown"."""
    try:
        proc = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else "unknown"


def busy(samples: int = 10, interval: float = 0.05) -> float:
    """How many other tasks are runnable right now (mean over a short window, from /proc/loadavg).

    The 1-minute load average lags by a minute; the instantaneous runnable count does not. The
    reading process itself is runnable while it reads, hence the - 1.
    """
    counts = []
    for i in range(samples):
        try:
            running = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
        except (OSError, ValueError, IndexError):
            return 0.0
        counts.append(max(0, running - 1))
        if i + 1 < samples:
            time.sleep(interval)
    return sum(counts) / len(counts)


def wait_until_quiet(settings: Settings, label: Callable[[str], None] | None = None) -> float:
    """Wait until the machine is quieter than `settings.max_load` (at most `max_wait` s); return its load."""
    load = busy()
    deadline = time.monotonic() + settings.max_wait
    while settings.max_load is not None and load >= settings.max_load and time.monotonic() < deadline:
        if label:
            label(f"waiting for a quieter machine ({load:.1f} other tasks running)")
        time.sleep(5)
        load = busy()
    return load


def rtol(kernel: Kernel) -> float:
    """Verification tolerance, relative to the array's scale: looser for single precision."""
    return RTOL["float"] if kernel.dtype == "float" else RTOL["double"]


def blas_name() -> str:
    """Which BLAS NumPy uses, for reports."""
    import numpy as np

    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{info.get('name', 'BLAS')} {info.get('version', '')}".strip()
    except Exception:  # older NumPy: no dict mode
        return "NumPy BLAS"


def time_matmul(kernel: Kernel, size: str) -> tuple[Callable[[], float], str]:
    """A timer of NumPy's A @ B for gemm's sizes (one sample averages enough calls to last >= 20 ms)."""
    import numpy as np

    p = kernel.sizes(size)
    rng = np.random.default_rng(0)
    a, b = rng.random((p["NI"], p["NK"])), rng.random((p["NK"], p["NJ"]))
    a @ b  # warm up (thread pool start)
    start = time.perf_counter()
    a @ b
    calls = max(1, math.ceil(0.02 / max(time.perf_counter() - start, 1e-9)))

    def sample() -> float:
        start = time.perf_counter()
        for _ in range(calls):
            a @ b
        return (time.perf_counter() - start) / calls

    return sample, f"NumPy A @ B ({blas_name()}, {calls} calls per sample, in-process)"


@dataclass
class _Variant:
    """One configuration being measured on one kernel."""

    config: Config
    source: Path | None = None  # None: the original
    binary: Path | None = None  # a peer's timing build (looper's configurations are timed in a library)
    checker: Path | None = None  # built at the verification size with array dumps
    times: list[float] = field(default_factory=list)
    baselines: list[float] = field(default_factory=list)  # the runs of the baseline it is compared with
    status: str = OK
    message: str = ""

    def fail(self, status: str, message: str) -> None:
        self.status, self.message = status, message


def _variant_source(config: Config, kernel: Kernel, settings: Settings) -> tuple[Path, str]:
    """Produce a configuration's source file in the work directory; return it and a note."""
    started = time.perf_counter()
    if config.looper is not None:
        from looper.api import optimize

        result = optimize(kernel.source, config.looper, defines={f"{settings.size}_DATASET": None},
                          include_dirs=[UTILITIES], compiler=Compiler(config.cc, config.flags, config.openmp),
                          jobs=settings.jobs, quiet=True)
        text = result.code
        note = f"optimized in {time.perf_counter() - started:.1f} s"
        if config.looper.search in ("model", "hybrid"):
            note += f" ({_model_label(config.looper.model)})"
    else:
        assert config.rewrite is not None
        text = config.rewrite(kernel.source.read_text(), kernel, settings.size)
        note = "rewritten source"
    settings.workdir.mkdir(parents=True, exist_ok=True)
    path = settings.workdir / f"{kernel.name}.{config.name}.{settings.size}.c"
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(text)
    tmp.replace(path)
    return path, note


@cache
def _model_label(model: str | None) -> str:
    """Which evaluator `search="model"` uses here: the learned cost model or the analytical stand-in."""
    from looper.api import model_evaluator

    return model_evaluator(model)[1]


def _build(v: _Variant, kernel: Kernel, settings: Settings) -> None:
    c = v.config
    try:
        if not _in_process(c):
            v.binary = build(kernel, settings.size, source=v.source, cc=c.cc, cflags=c.flags, openmp=c.openmp)
        v.checker = build(kernel, settings.verify_size, source=v.source, cc=c.cc, cflags=c.flags, openmp=c.openmp,
                          dump=True)
    except BuildError as exc:
        lines = str(exc).splitlines()[1:]  # the first line is the command
        errors = [line for line in lines if "error" in line] or lines
        v.fail(ERROR, f"build failed: {_first_lines(chr(10).join(errors), 2)}")


def _first_lines(text: str, n: int = 3) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[:n])[:500]


def _in_process(config: Config) -> bool:
    """Whether a configuration is timed in a library (looper's own) rather than as a whole program (a peer)."""
    return config.looper is not None


def _outputs(binary: Path, settings: Settings) -> dict:
    run = run_program(binary, timeout=settings.timeout, threads=settings.threads)
    if not run.ok:
        raise RuntimeError(f"{binary.name}: {run.describe()}: {run.stderr.strip()[-300:]}")
    return parse(run.stderr)


def _libraries(variants: list[_Variant], kernel: Kernel, settings: Settings) -> list[tuple[list[_Variant], Library]]:
    """looper's configurations built with the original kernel, one library per compiler and flags."""
    groups: dict[tuple, list[_Variant]] = {}
    for v in variants:
        groups.setdefault((v.config.cc, v.config.flags, v.config.openmp), []).append(v)
    batches = [Batch(kernel.source.read_text(), tuple(v.source.read_text() for v in group if v.source),
                     Compiler(cc, flags, openmp, (UTILITIES,), {f"{settings.size}_DATASET": None}),
                     kernel.source.parent)
               for (cc, flags, openmp), group in groups.items()]
    return list(zip(groups.values(), build_all(batches, settings.jobs), strict=True))


def measure_kernel(kernel: Kernel, configs: Sequence[Config], settings: Settings, *, blas: bool = False,
                   baseline_needed: bool = True, bar: Progress | None = None, run_id: str = "") -> list[Row]:
    """Build every configuration, verify each against the baseline's outputs, time them interleaved.

    `configs[0]` must be the baseline. Returns one row per configuration (and one for the NumPy
    matrix multiply when `blas`), each holding the baseline's times of this same run. When the
    baseline's own timing is not needed and no other configuration survives verification, nothing
    is timed.
    """
    assert configs and configs[0].name == BASELINE
    step = bar.advance if bar else (lambda n=1, label=None: None)
    variants = [_Variant(c) for c in configs]
    for v in variants:
        if v.config.transforms:
            step(0, f"{kernel.name}: {v.config.name}: producing the source")
            try:
                v.source, v.message = _variant_source(v.config, kernel, settings)
            except Exception as exc:  # any failure of the optimizer is this configuration's result
                v.fail(ERROR, f"source step failed: {type(exc).__name__}: {_first_lines(str(exc), 2)}")
    step(0, f"{kernel.name}: building {len(variants)} configurations")
    with ThreadPoolExecutor(max(1, settings.jobs)) as pool:
        builds = {pool.submit(_build, v, kernel, settings): v for v in variants if v.status == OK}
        for done in as_completed(builds):
            done.result()
            step(2, f"{kernel.name}: built {builds[done].config.name}")
    base = variants[0]
    reference = None
    if base.status == OK:
        assert base.checker is not None  # built by _build, else its status is not OK
        try:
            reference = _outputs(base.checker, settings)
        except (RuntimeError, DumpError, subprocess.TimeoutExpired) as exc:
            base.fail(ERROR, f"baseline at {settings.verify_size} did not run: {_first_lines(str(exc), 2)}")
    for v in variants[1:]:
        if v.status != OK:
            continue
        if reference is None:
            v.fail(ERROR, "not verified: the baseline failed")
            continue
        step(1, f"{kernel.name}: verifying {v.config.name}")
        assert v.checker is not None  # built by _build, else its status is not OK
        try:
            mismatch = compare(reference, _outputs(v.checker, settings), rtol=rtol(kernel))
        except (RuntimeError, DumpError, subprocess.TimeoutExpired) as exc:
            v.fail(FAILED, f"verification run failed at {settings.verify_size}: {_first_lines(str(exc), 2)}")
            continue
        if mismatch:
            v.fail(FAILED, f"wrong result at {settings.verify_size}: {mismatch}")
    timed = [v for v in variants if v.status == OK]
    if not baseline_needed and not blas and all(v.status != OK for v in variants[1:]):
        timed = []
    policy = Policy.from_repeat(settings.repeat)
    # The timers of one interleaved measurement: (the variant or None for a library's original, timer, its baseline).
    timers: list[tuple[_Variant | None, Callable[[], float], int]] = [
        (v, program_timer(v.binary, timeout=settings.timeout, threads=settings.threads), 0)
        for v in timed if not _in_process(v.config) and v.binary is not None]
    late: list[tuple[dict[int, int], dict[int, RunFailed]]] = []  # per library: version -> timer, late failures
    with ExitStack() as sessions:
        for group, library in _libraries([v for v in timed if _in_process(v.config)], kernel, settings):
            if library.path is None:
                for v in group:
                    v.fail(ERROR, f"build failed: {_first_lines(library.message, 2)}")
                continue
            harness = sessions.enter_context(Harness(policy, timeout=settings.timeout, threads=settings.threads))
            try:
                versions, failed = harness.timers(library)
            except RunFailed as exc:
                for v in group:
                    v.fail(ERROR, f"run failed: the original in a library: {_first_lines(exc.message, 2)}")
                continue
            original = len(timers)
            positions = {0: original}
            late.append((positions, failed))
            original_timer = versions[0]
            assert original_timer is not None  # the original always has a timer (Harness.timers)
            timers.append((None, original_timer, original))
            for k, v in enumerate(group):
                timer = versions[k + 1]
                if timer is None:
                    v.fail(ERROR, f"build failed: {_first_lines(library.errors.get(k, ''), 2)}")
                else:
                    positions[k + 1] = len(timers)
                    timers.append((v, timer, original))
        if blas and base.status == OK:
            sample, note = time_matmul(kernel, settings.size)
            extra = _Variant(Config(BLAS, "numpy", (), description=note), status=REFERENCE, message=note)
            variants.append(extra)
            timers.append((extra, sample, 0))
        if timed and base.status != OK:
            timers = []
        loads = [wait_until_quiet(settings, lambda text: step(0, f"{kernel.name}: {text}"))] if timers else []

        def counted(v: _Variant | None, timer: Callable[[], float]) -> Callable[[], float]:
            def run() -> float:
                step(1, f"{kernel.name}: {v.config.name if v else 'original (library)'}")
                return timer()
            return run

        results = measure([counted(v, t) for v, t, _ in timers], policy,
                          baselines=sorted({b for _, _, b in timers}),
                          between=lambda: loads.append(busy(samples=5, interval=0.01)))
    for positions, failed in late:
        settle(results, {positions[i]: f for i, f in failed.items() if i and i in positions})
    for (variant, _, baseline), result in zip(timers, results, strict=True):
        if variant is None:
            continue
        if not result.ok:
            variant.fail(ERROR, f"run failed: {_first_lines(result.message, 2)}")
        variant.times, variant.baselines = result.times, results[baseline].times
    if base.status != OK:
        return [Row(kernel.name, BASELINE, ERROR, message=base.message, command=base.config.command(), run_id=run_id)]
    load = sum(loads) / len(loads) if loads else None
    return [Row(kernel.name, v.config.name, v.status, tuple(v.times) if v.status in (OK, REFERENCE) else (),
                tuple(v.baselines), v.message, v.config.command() if v.config.name != BLAS else "numpy", run_id,
                load=load if v.status in (OK, REFERENCE) else None)
            for v in variants]


def _summary(kernel: Kernel, rows: Sequence[Row]) -> str:
    parts = []
    for r in rows:
        if r.status in (OK, REFERENCE) and r.times and r.baseline_times:
            t, base = summarize(r.times), summarize(r.baseline_times)
            parts.append(f"{r.config} {t * 1e3:.3g} ms ({base / t:.2f}x)")
        else:
            parts.append(f"{r.config} {r.status.upper()}")
    loads = [r.load for r in rows if r.load is not None]
    return f"{kernel.name}: " + ", ".join(parts) + (f" [load {loads[0]:.1f}]" if loads else "")


def bench(kernels: Sequence[Kernel], configs: Sequence[Config], settings: Settings, store: Store, key: Key, *,
          remeasure_busy: float | None = None, log: Callable[[str], None] | None = None,
          progress: bool | None = None) -> int:
    """Measure every kernel whose configurations are not all stored yet; return how many were measured.

    With `remeasure_busy`, kernels timed while at least that many other tasks ran are measured again,
    and the new rows replace the stored ones only if the machine was quieter this time.
    """
    plan: list[tuple[Kernel, list[Config], bool, bool]] = []
    for k in kernels:
        stored, loads = store.statuses(key, k.name), store.loads(key, k.name)
        again = remeasure_busy is not None and bool(loads) and max(loads.values()) >= remeasure_busy
        todo = [c for c in configs if again or stored.get(c.name) not in DONE]
        blas = k.name == "gemm" and (again or stored.get(BLAS) not in DONE)
        if todo or blas:
            run = todo if todo and todo[0].name == BASELINE else [configs[0], *todo]
            plan.append((k, run, blas, again))
        elif log:
            log(f"{k.name}: already measured (commit {key.commit}, {key.size}), skipped")
    units = sum(len(run) * (3 + settings.repeat) + (settings.repeat if blas else 0) for _, run, blas, _ in plan)
    run_id = uuid.uuid4().hex[:12]
    with Progress(units, f"bench {key.size}", enabled=progress) as bar:
        for k, run, blas, again in plan:
            rows = measure_kernel(k, run, settings, blas=blas, bar=bar, run_id=run_id,
                                  baseline_needed=again or store.statuses(key, k.name).get(BASELINE) not in DONE)
            stored, loads = store.statuses(key, k.name), store.loads(key, k.name)
            # Never overwrite a finished timing, except by a timing taken on a quieter machine when asked.
            keep = [r for r in rows if stored.get(r.config) not in DONE
                    or (again and r.load is not None and loads.get(r.config) is not None and r.load < loads[r.config])]
            store.save(key, keep)
            if log:
                if bar.enabled:
                    bar.stream.write("\r\x1b[K")
                kept = "" if len(keep) == len(rows) else f" ({len(keep)} of {len(rows)} rows stored)"
                log(_summary(k, rows) + kept)
                bar.advance(0)
    return len(plan)
