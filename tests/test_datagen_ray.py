"""`looper dataset generate --backend ray`: the same measurements as Ray tasks, on a local Ray instance."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from codegen.harness import machine_id  # noqa: E402
from costmodel import ray_backend  # noqa: E402  (needs ray: after the skip)
from costmodel.labels import RUN_TIMEOUT  # noqa: E402
from costmodel.pipeline import run  # noqa: E402
from costmodel.programs import ProgramSpec, generated_programs  # noqa: E402
from costmodel.sampling import Sampling  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


def _rows(db: Path, query: str, *args) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


def test_quiet_ray_run_prints_only_its_result(tmp_path: Path) -> None:
    # Its own new local instance ("local"), started and stopped by the command, before the fixture's.
    db = tmp_path / "data.db"
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from looper.cli import main; sys.exit(main(sys.argv[1:]))",
         "dataset", "generate", "--out", str(db), "--programs", "1", "--first-seed", "500",
         "--schedules-per-program", "1", "--repeat", "1", "--backend", "ray", "--ray-address", "local", "--quiet"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert json.loads(proc.stdout)["new_samples"] == 1


def test_ray_tasks_store_samples_record_failures_and_resume(tmp_path: Path, local_ray, monkeypatch) -> None:
    # A task that finished with an error is not cancelled: in Ray 2.60 that can abort the driver.
    cancelled: list = []
    monkeypatch.setattr(ray, "cancel", lambda ref, **kwargs: cancelled.append(ref))
    db = tmp_path / "data.db"
    good = list(generated_programs(500, 2))
    broken = ProgramSpec("broken", "generated", "broken", 0, "int main(void) { return 0 }\n")
    messages: list[str] = []
    counts = run(db, iter([broken, *good]), 3, 2, repeat=1, jobs=2, backend="ray", log=messages.append)
    assert counts["programs"] == 3 and counts["failed_programs"] == 1
    assert len(messages) == 1 and messages[0].startswith("broken (seed 0): ")
    assert cancelled == []

    # The broken program is one worker_error sample, and the others were measured anyway.
    assert _rows(db, "SELECT fingerprint, status FROM samples WHERE program = 'broken'") == [
        ("failed-broken", "worker_error")]
    for spec in good:
        ok = _rows(db, "SELECT speedup, machine FROM samples WHERE program = ? AND status = 'ok'", spec.key)
        assert ok, f"{spec.name}: no sample measured"
        assert all(speedup > 0 and machine == machine_id() for speedup, machine in ok)
    stored = _rows(db, "SELECT program, fingerprint, speedup FROM samples")
    assert counts["new_samples"] == len(stored)

    # A second run measures nothing again and duplicates nothing.
    again = run(db, iter(good), 2, 2, repeat=1, jobs=2, backend="ray")
    assert again == {"programs": 0, "new_samples": 0, "skipped_programs": 2, "failed_programs": 0}
    assert sorted(_rows(db, "SELECT program, fingerprint, speedup FROM samples")) == sorted(stored)


def test_a_hanging_ray_task_is_cancelled_and_recorded(tmp_path: Path, local_ray, monkeypatch) -> None:
    def hang(*args):
        time.sleep(3600)

    # A function defined here travels to the workers by value: they need not import this module.
    monkeypatch.setattr(ray_backend, "_measure", ray.remote(num_cpus=1, max_retries=0)(hang))
    db = tmp_path / "data.db"
    (spec,) = generated_programs(501, 1)
    started = time.monotonic()
    counts = run(db, iter([spec]), 1, 2, repeat=1, program_timeout=2.0, backend="ray")
    assert counts["failed_programs"] == 1
    assert time.monotonic() - started < 30
    assert _rows(db, "SELECT status FROM samples WHERE program = ?", spec.key) == [("worker_error",)]
    # The hung worker was killed: its CPU comes back to the instance.
    deadline = time.monotonic() + 20
    while ray.available_resources().get("CPU", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ray.available_resources().get("CPU", 0) == 2


def test_a_task_that_finished_is_never_force_cancelled(local_ray, monkeypatch) -> None:
    # A timed-out task can finish between the driver's last wait and its cancel (the Ray 2.60 abort above).
    cancelled: list = []
    monkeypatch.setattr(ray_backend, "_measure", ray.remote(num_cpus=1, max_retries=0)(lambda *args: ([], "m")))
    backend = ray_backend.RayBackend(jobs=1)
    (spec,) = generated_programs(502, 1)
    task = backend.submit(spec, 1, set(), 1, Sampling(), RUN_TIMEOUT)
    ray.wait([task], num_returns=1, timeout=60)  # finished, result not fetched: what a timeout can meet
    monkeypatch.setattr(ray, "cancel", lambda ref, **kwargs: cancelled.append(ref))
    backend.cancel(task)
    assert cancelled == [] and task not in backend._running
    backend.close()
