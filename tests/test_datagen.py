"""`looper dataset generate` is safe to kill: nothing committed is lost, nothing is duplicated."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest


def _count(db: Path) -> tuple[int, int]:
    if not db.exists():
        return 0, 0
    conn = sqlite3.connect(db)
    try:
        total = conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
        distinct = conn.execute("SELECT COUNT(DISTINCT program || fingerprint) FROM samples").fetchone()[0]
        return total, distinct
    except sqlite3.OperationalError:
        return 0, 0
    finally:
        conn.close()


def _generate(db: Path, programs: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "import sys; from looper.cli import main; sys.exit(main(sys.argv[1:]))",
         "dataset", "generate", "--out", str(db), "--programs", str(programs), "--first-seed", "500",
         "--schedules-per-program", "3", "--repeat", "2", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )


def test_sigkill_mid_run_then_resume(tmp_path: Path) -> None:
    db = tmp_path / "data.db"
    proc = _generate(db, 4)
    deadline = time.time() + 240
    while _count(db)[0] < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole group: the command and its measuring worker
    proc.wait()
    before, distinct = _count(db)
    assert before >= 2 and before == distinct
    conn = sqlite3.connect(db)
    kept = set(conn.execute("SELECT program, fingerprint, speedup FROM samples").fetchall())
    conn.close()
    proc = _generate(db, 4)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()
    after, distinct = _count(db)
    assert after == distinct, "no sample is duplicated"
    assert after >= before
    conn = sqlite3.connect(db)
    now = set(conn.execute("SELECT program, fingerprint, speedup FROM samples").fetchall())
    per_program = conn.execute("SELECT COUNT(*) FROM samples GROUP BY program").fetchall()
    conn.close()
    assert kept <= now, "no committed sample is lost or changed"
    assert all(n <= 3 for (n,) in per_program)


def test_a_failing_or_hanging_program_is_recorded_and_the_run_goes_on(tmp_path: Path, monkeypatch) -> None:
    from costmodel import labels
    from costmodel.pipeline import run
    from costmodel.programs import ProgramSpec, generated_programs

    db = tmp_path / "data.db"
    broken = ProgramSpec("broken", "generated", "broken", 0, "int main(void) { return 0 }\n")
    (good,) = generated_programs(500, 1)
    counts = run(db, iter([broken, good]), 2, 2, repeat=1)
    assert counts["failed_programs"] == 1 and counts["programs"] == 2
    conn = sqlite3.connect(db)
    statuses = dict(conn.execute("SELECT program, status FROM samples WHERE program = 'broken'").fetchall())
    assert statuses == {"broken": "worker_error"}
    assert conn.execute("SELECT COUNT(*) FROM samples WHERE program = ? AND status = 'ok'",
                        (good.key,)).fetchone()[0] >= 1
    conn.close()
    # Resuming measures neither again: the good program has its samples, and the broken one, with only its
    # worker_error sample stored, is marked finished (before, it was measured again on every resume).
    counts = run(db, iter([broken, good]), 2, 2, repeat=1)
    assert counts["skipped_programs"] == 2 and counts["programs"] == 0

    # A hang: the worker is killed after the program timeout and the next program still runs.
    monkeypatch.setattr(labels, "prepare_new", _sleep_forever)
    (other,) = generated_programs(501, 1)
    counts = run(db, iter([other]), 1, 2, repeat=1, program_timeout=1.0)
    assert counts["failed_programs"] == 1


def _sleep_forever(*args, **kwargs):
    time.sleep(3600)


def test_closing_the_preparers_stops_a_busy_worker_at_once() -> None:
    from costmodel.pipeline import ProcessBackend

    backend = ProcessBackend(1)
    backend.submit(_sleep_forever)
    deadline = time.time() + 30
    while not backend.pools[0]._processes and time.time() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.05)
    (worker,) = backend.pools[0]._processes.values()  # type: ignore[attr-defined]
    backend.close()
    # by the process table: the pool's manager thread may reap the worker first, and then
    # multiprocessing's is_alive() (its waitpid fails) says it is alive
    assert _gone([worker.pid], 5)


def _generate_preparing_forever(tmp_path: Path) -> tuple[subprocess.Popen, list[int]]:
    """`looper dataset generate` with a preparation that never ends (this module's _sleep_forever, which
    its workers import by name), once its workers are busy; and the workers' pids."""
    # SIGINT as an interactive shell leaves it: a runner started in the background (`.ci/run &` from a
    # script) passes SIGINT on ignored, and a command started so rightly ignores it.
    script = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
              f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import test_datagen; "
              "from costmodel import labels; labels.prepare_new = test_datagen._sleep_forever; "
              "from looper.cli import main; sys.exit(main(sys.argv[1:]))")
    proc = subprocess.Popen([sys.executable, "-c", script, "dataset", "generate", "--out", str(tmp_path / "data.db"),
                             "--programs", "4", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    deadline = time.time() + 120
    while len(children.read_text().split()) < 2 and time.time() < deadline:  # until both workers prepare
        time.sleep(0.1)
    time.sleep(0.5)
    return proc, [int(pid) for pid in children.read_text().split()]


def _gone(pids: list[int], within: float) -> bool:
    """Whether every one of these processes has ended (and been reaped) within `within` seconds."""
    deadline = time.time() + within
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.time() < deadline:
        time.sleep(0.1)
    return not any(Path(f"/proc/{pid}").exists() for pid in pids)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_ends_the_command_promptly_with_exit_130(tmp_path: Path, signum: int) -> None:
    # Ctrl-C, and `kill PID` (a job started with `&` from a script ignores SIGINT): the interrupt must not
    # wait for the workers' programs, and must not leave the workers running.
    proc, workers = _generate_preparing_forever(tmp_path)
    os.kill(proc.pid, signum)  # the command only, as `kill` does: its workers are stopped by it
    start = time.monotonic()
    try:
        _, err = proc.communicate(timeout=60)
        stopped = _gone(workers, 10)
    finally:
        with suppress(ProcessLookupError):  # whatever is left of the group (nothing, when it passes)
            os.killpg(proc.pid, signal.SIGKILL)
    assert time.monotonic() - start < 10
    assert proc.returncode == 130 and b"Traceback" not in err, err.decode()
    assert len(workers) == 2 and stopped


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a parent-death signal is Linux's")
def test_the_workers_die_with_a_killed_command(tmp_path: Path) -> None:
    proc, workers = _generate_preparing_forever(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)  # no clean-up can run: the workers must go by themselves
    try:
        proc.wait(10)
        stopped = _gone(workers, 10)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert len(workers) == 2 and stopped


def _exit_code_of_generate(db: Path, *flags: str) -> int:
    """`looper dataset generate` of one program into `db` with extra flags, in this process."""
    from looper.cli import main

    try:
        return main(["dataset", "generate", "--out", str(db), "--programs", "1", *flags])
    except SystemExit as exc:
        return int(exc.code or 0)


def test_backend_ray_without_the_extra_is_one_line_and_exit_2(tmp_path: Path, monkeypatch, capsys) -> None:
    # Here, not in test_datagen_ray.py: that file is skipped where ray is missing, which this test simulates.
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    db = tmp_path / "data.db"
    assert _exit_code_of_generate(db, "--backend", "ray") == 2
    err = capsys.readouterr().err
    assert err == "looper dataset: error: --backend ray needs the 'ray' extra: pip install 'looper[ray]'\n"
    assert not db.exists()


@pytest.mark.parametrize(("flags", "says"), [
    (["--size", "LARGE"], "--size needs --suite polybench"),
    (["--suite", "polybench", "--scale", "use"], "--scale is for generated programs"),
])
def test_size_and_scale_belong_to_their_suite(tmp_path: Path, capsys, flags: list[str], says: str) -> None:
    db = tmp_path / "data.db"
    assert _exit_code_of_generate(db, *flags) == 2
    err = capsys.readouterr().err
    assert says in err and len(err.strip().splitlines()) == 1
    assert not db.exists()


def test_beam_favourites_are_measured_first_then_random_samples() -> None:
    from costmodel import labels, sampling
    from costmodel.dataset import frontend_loader
    from costmodel.programs import generated_programs
    from looper.deps import compute_dependences
    from looper.schedule import Schedule

    (spec,) = generated_programs(502, 1)
    scop = frontend_loader(spec.source, spec.defines)
    favourites = sampling._favourites(sampling._search(Schedule(scop), compute_dependences(scop), None), 2)
    assert len({s.fingerprint() for s in favourites}) == 2
    results = labels.measure_program(spec, 3, set(), spec.seed, repeat=1, sampling=sampling.Sampling(beam=2))
    assert [r.fingerprint for r in results[:2]] == [s.fingerprint() for s in favourites]
    assert len({r.fingerprint for r in results}) == 3 and all(r.status == "ok" for r in results)
    # Resumed with the first favourite stored: it is not measured again, the second still is.
    again = labels.measure_program(spec, 2, {favourites[0].fingerprint()}, spec.seed, repeat=1,
                                   sampling=sampling.Sampling(beam=2))
    assert again[0].fingerprint == favourites[1].fingerprint()
    assert favourites[0].fingerprint() not in {r.fingerprint for r in again}


def test_a_candidate_model_chooses_the_beam_favourites(tmp_path: Path) -> None:
    """`--model`: the beam search that picks the measured favourites is the candidate's, not the shipped one's."""
    import torch

    from costmodel import sampling
    from costmodel.dataset import frontend_loader
    from costmodel.inference import save_model
    from costmodel.model import CostModel, ModelConfig
    from costmodel.programs import generated_programs
    from looper.deps import compute_dependences
    from looper.schedule import Schedule

    torch.manual_seed(3)
    candidate = tmp_path / "candidate.pt"
    save_model(CostModel(ModelConfig()), candidate)  # untrained: a model with other favourites
    (spec,) = generated_programs(502, 1)
    scop = frontend_loader(spec.source, spec.defines)
    start, deps = Schedule(scop), compute_dependences(scop)
    theirs = [s.fingerprint() for s in sampling._favourites(sampling._search(start, deps, str(candidate)), 2)]
    shipped = [s.fingerprint() for s in sampling._favourites(sampling._search(start, deps, None), 2)]
    assert theirs != shipped
    chosen = sampling.choose_schedules(spec, 3, set(), spec.seed, sampling.Sampling(beam=2, model=str(candidate)))
    assert [s.fingerprint() for _, s in chosen[:2]] == theirs


def test_generate_with_a_candidate_model_measures_its_favourites(tmp_path: Path) -> None:
    """The command checks the checkpoint before forking its workers; they must still load it (a parent
    that ran torch's thread pool before the fork left the workers hanging in load_state_dict)."""
    import torch

    from costmodel.inference import save_model
    from costmodel.model import CostModel, ModelConfig

    torch.manual_seed(3)
    candidate, db = tmp_path / "candidate.pt", tmp_path / "data.db"
    save_model(CostModel(ModelConfig()), candidate)
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from looper.cli import main; sys.exit(main(sys.argv[1:]))",
         "dataset", "generate", "--out", str(db), "--programs", "1", "--first-seed", "502", "--beam", "2",
         "--model", str(candidate), "--schedules-per-program", "3", "--repeat", "1", "--quiet"],
        capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    origins = [r[0] for r in sqlite3.connect(db).execute("SELECT origin FROM samples ORDER BY id")]
    assert origins == ["beam", "beam", "random"]


@pytest.mark.parametrize(("flags", "says"), [
    (["--model", "MODEL"], "--model needs --beam or --visited"),
    (["--visited", "--model", "MODEL"], "MODEL: not a cost-model checkpoint"),
    (["--visited", "--model", "none.pt"], "none.pt: error: no such cost-model checkpoint"),
])
def test_a_bad_model_is_one_line_and_exit_2(tmp_path: Path, capsys, flags: list[str], says: str) -> None:
    model = tmp_path / "model.pt"
    model.write_text("not a checkpoint")
    db = tmp_path / "data.db"
    flags = [str(model) if f == "MODEL" else str(tmp_path / f) if f == "none.pt" else f for f in flags]
    assert _exit_code_of_generate(db, *flags) == 2
    err = capsys.readouterr().err
    assert says.replace("MODEL", str(model)).replace("none.pt", str(tmp_path / "none.pt")) in err
    assert len(err.strip().splitlines()) == 1 and not db.exists()


def test_visited_schedules_come_first_with_their_origins_then_a_random_fifth(tmp_path: Path) -> None:
    import random

    from costmodel.dataset import frontend_loader, open_db
    from costmodel.pipeline import run
    from costmodel.programs import polybench_programs
    from costmodel.sampling import Sampling, choose_schedules
    from looper.deps import compute_dependences
    from looper.legality import check
    from looper.schedule import Schedule
    from looper.search.sampler import neighbour

    (spec,) = polybench_programs(["gemver"])
    chosen = choose_schedules(spec, 20, set(), 0, Sampling(visited=True))
    origins = [origin for origin, _ in chosen]
    assert origins[0] == "original" and not chosen[0][1].steps
    assert {"beam", "pluto", "neighbour"} <= set(origins) and origins.count("random") == 4
    assert origins.index("random") == 16  # the random fifth comes last
    assert len({s.fingerprint() for _, s in chosen}) == 20
    # Deterministic, so that a resumed run skips what it stored and measures the rest.
    again = choose_schedules(spec, 20, {chosen[0][1].fingerprint()}, 0, Sampling(visited=True))
    assert [s.fingerprint() for _, s in again][:15] == [s.fingerprint() for _, s in chosen][1:16]
    # A neighbour: one decision more than its schedule, legal.
    scop = frontend_loader(spec.source, spec.defines)
    deps = compute_dependences(scop)
    near = neighbour(Schedule(scop), deps, random.Random(1))
    assert near is not None and len(near.steps) >= 1 and check(near, deps)
    # Measured through the data generator, each sample stores its origin.
    db = tmp_path / "visited.db"
    run(db, iter([spec]), 1, 6, repeat=1, sampling=Sampling(visited=True), quiet=True)
    rows = open_db(db).execute("SELECT origin, status FROM samples ORDER BY id").fetchall()
    origins = [r["origin"] for r in rows]
    assert origins[0] == "original" and origins[-2:] == ["random"] * 2
    assert all(r["status"] == "ok" for r in rows)


def test_nest_steps_samples_parallelize_several_nests_and_measure() -> None:
    import json

    from costmodel.labels import measure_program
    from costmodel.programs import polybench_programs
    from costmodel.sampling import Sampling

    (spec,) = polybench_programs(["3mm"])  # three loop nests
    one = measure_program(spec, 6, set(), 0, repeat=1)
    several = measure_program(spec, 6, set(), 0, repeat=1, sampling=Sampling(nest_steps=3))
    outer = measure_program(spec, 6, set(), 0, repeat=1, sampling=Sampling(nest_steps=3, outer_parallel=1.0))

    def parallel_depths(result) -> list[int]:
        return [t["depth"] for t in json.loads(result.schedule)["steps"] if t["kind"] == "parallelize"]

    def most(results, kind: str) -> int:
        return max(sum(t["kind"] == kind for t in json.loads(r.schedule)["steps"]) for r in results)

    assert most(one, "parallelize") == 1
    assert most(several, "parallelize") >= 2
    assert all(r.status == "ok" and r.speedup > 0 for r in several + outer)
    # 3mm's outer loops are all parallel: with outer_parallel=1 every parallel step takes one.
    assert any(d > 0 for r in several for d in parallel_depths(r))
    assert {d for r in outer for d in parallel_depths(r)} == {0}


def test_nest_steps_zero_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    db = tmp_path / "data.db"
    assert _exit_code_of_generate(db, "--nest-steps", "0") == 2
    assert capsys.readouterr().err.endswith(
        "looper dataset generate: error: argument --nest-steps: must be at least 1, not 0\n")
    assert not db.exists()


def test_outer_parallel_out_of_range_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    db = tmp_path / "data.db"
    assert _exit_code_of_generate(db, "--outer-parallel", "1.5") == 2
    assert capsys.readouterr().err.endswith(
        "looper dataset generate: error: argument --outer-parallel: must be from 0 to 1, not 1.5\n")
    assert not db.exists()


def test_a_committed_data_set_stays_readable_and_is_marked_as_the_old_harness(tmp_path: Path) -> None:
    import shutil

    from codegen.harness import HARNESS_VERSION, OLD_HARNESS, STATISTIC
    from costmodel.dataset import ok_samples, open_db
    from costmodel.labels import Sample
    from costmodel.programs import ProgramSpec
    from costmodel.samplestore import store

    committed = Path(__file__).resolve().parents[1] / "data" / "polybench.db"
    db = tmp_path / "polybench.db"
    shutil.copy(committed, db)
    before = sqlite3.connect(db).execute("SELECT * FROM samples ORDER BY id").fetchall()
    conn = open_db(db, create=False)  # read: the file is not touched
    assert "harness" not in {r[1] for r in conn.execute("PRAGMA table_info(samples)")}
    readable = sum(len(rows) for rows in ok_samples(conn).values())
    conn.close()
    assert readable > 0 and db.read_bytes() == committed.read_bytes()
    spec = ProgramSpec("new", "generated", "new", 0, "int main(void) { return 0; }\n")
    store(db, spec, [Sample("f", "{}", "ok", 1.5, 0.1, 0.15, [0.1, 0.1], runs=2, spread=0.0)], "gcc")
    conn = sqlite3.connect(db)
    old_columns = len(before[0])
    after = conn.execute("SELECT * FROM samples WHERE program != 'new' ORDER BY id").fetchall()
    assert [row[:old_columns] for row in after] == before  # the stored rows, as they were
    marks = dict(conn.execute("SELECT program = 'new', harness FROM samples GROUP BY program = 'new'").fetchall())
    assert marks == {0: OLD_HARNESS, 1: HARNESS_VERSION}
    assert conn.execute("SELECT statistic, runs FROM samples WHERE program = 'new'").fetchone() == (STATISTIC, 2)
    conn.close()
