"""Whole programs run as processes: for their outputs (verification, fuzzing) and for the peers of
`looper bench` (gcc, Graphite, Polly), timed by PolyBench's harness under the same policy."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codegen.build import timing_env
from codegen.harness.policy import OK, RUN_ERROR, TIMEOUT, RunFailed
from codegen.harness.worker import describe_exit


@dataclass(frozen=True)
class ProgramRun:
    """One run of a program: `ok`, `run_error` (a signal or a non-zero exit) or `timeout`."""

    status: str
    returncode: int | None  # None: killed at the time limit
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """Everything it printed, stdout then stderr."""
        return self.stdout + "\n" + self.stderr

    @property
    def ok(self) -> bool:
        return self.status == OK

    def describe(self) -> str:
        """`exit status 3`, `killed by SIGSEGV`, `did not finish`."""
        return "did not finish" if self.returncode is None else describe_exit(self.returncode)


def run_program(binary: Path, *, timeout: float, threads: int = 2, wait_policy: str | None = "passive",
                env: Mapping[str, str] | None = None) -> ProgramRun:
    """Run a built program once, OpenMP as every timing runs it (`codegen.build.timing_env`)."""
    base = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    full = {**base, **timing_env(threads, wait_policy), **(env or {})}
    try:
        proc = subprocess.run([str(binary)], capture_output=True, timeout=timeout, env=full)
    except subprocess.TimeoutExpired as exc:
        return ProgramRun(TIMEOUT, None, _text(exc.stdout), _text(exc.stderr))
    status = OK if proc.returncode == 0 else RUN_ERROR
    return ProgramRun(status, proc.returncode, _text(proc.stdout), _text(proc.stderr))


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def harness_seconds(run: ProgramRun) -> float:
    """The kernel seconds a PolyBench-harness program prints last on stdout (-DPOLYBENCH_TIME)."""
    if not run.ok:
        tail = " | ".join(run.stderr.strip().splitlines()[-2:])[-300:]
        raise RunFailed(run.status, f"{run.describe()}" + (f": {tail}" if tail else ""))
    try:
        return float(run.stdout.split()[-1])
    except (IndexError, ValueError):
        raise RunFailed(RUN_ERROR, "printed no time (built without -DPOLYBENCH_TIME?)") from None


def program_timer(binary: Path, *, timeout: float, threads: int = 2):
    """A timer for the policy: one run of a PolyBench-harness program, its printed kernel seconds."""
    return lambda: harness_seconds(run_program(binary, timeout=timeout, threads=threads))
