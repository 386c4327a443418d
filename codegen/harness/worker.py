"""The worker process (serve.py) that loads a library of variants with cffi, and its client.

A variant that crashes kills the worker, one that hangs is killed with it; the caller only sees
`WorkerLost` and starts another. Requests and replies are JSON lines on the worker's stdin and on a
copy of its stdout; the program's own stdout goes to /dev/null and its stderr to a file the caller
reads when the worker dies (the last lines say why).
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from codegen.build import timing_env

SERVER = Path(__file__).with_name("serve.py")  # run as a file: it imports nothing of looper


class WorkerLost(Exception):
    """The worker died (`timed_out` False: a crash, an exit) or was killed at the time limit."""

    def __init__(self, message: str, timed_out: bool) -> None:
        super().__init__(message)
        self.timed_out = timed_out


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def describe_exit(code: int | None) -> str:
    """`killed by SIGSEGV`, `exit status 3`."""
    if code is None:
        return "still running"
    return f"killed by {_signal_name(code)}" if code < 0 else f"exit status {code}"


class Worker:
    """A worker process, OpenMP settings from `timing_env(threads, wait_policy)`."""

    def __init__(self, threads: int = 2, wait_policy: str | None = "passive",
                 env: Mapping[str, str] | None = None) -> None:
        base = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
        full = {**base, **timing_env(threads, wait_policy), **(env or {})}
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115  (lives as long as the worker; close() closes it)
        self.proc = subprocess.Popen([sys.executable, str(SERVER)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, env=full)
        self._buffer = b""
        self.loaded: Path | None = None

    def call(self, request: dict, timeout: float) -> dict:
        """Send a request and wait for its reply; WorkerLost if the worker dies or takes over `timeout` s."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise self._lost(timed_out=False) from None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                if not sel.select(timeout):
                    self.kill()
                    raise WorkerLost(f"no reply within {timeout:g} s", timed_out=True)
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise self._lost(timed_out=False)
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    def load(self, library: Path, timeout: float = 60.0) -> int:
        """Load a library (replacing the last one) and prepare it; return how many versions it holds."""
        count = self.call({"op": "load", "path": str(library)}, timeout)["count"]
        self.loaded = library
        return count

    def _lost(self, timed_out: bool) -> WorkerLost:
        code = self.proc.wait()
        self.stderr.seek(0)
        lines = [ln for ln in self.stderr.read().decode(errors="replace").splitlines() if ln.strip()]
        tail = " | ".join(lines[-3:])[-500:]
        return WorkerLost(describe_exit(code) + (f": {tail}" if tail else ""), timed_out)

    def kill(self) -> None:
        """Stop the worker now (its OpenMP threads with it)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        """Ask the worker to stop; kill it if it does not."""
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
        self.stderr.close()
