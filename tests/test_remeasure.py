"""`looper dataset remeasure`: a data set's schedules measured again, into a database of their own."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from looper.cli import main


def _rows(db: Path) -> dict[tuple[str, str], str]:
    conn = sqlite3.connect(db)
    try:
        return {(p, f): s for p, f, s in conn.execute("SELECT program, fingerprint, status FROM samples")}
    finally:
        conn.close()


def test_remeasure_copies_programs_measures_every_ok_schedule_and_resumes(tmp_path: Path, capsys) -> None:
    from costmodel.pipeline import run
    from costmodel.programs import generated_programs

    data, out = tmp_path / "data.db", tmp_path / "again.db"
    run(data, generated_programs(510, 2), 2, 3, repeat=1)
    ok = {k for k, status in _rows(data).items() if status == "ok"}
    assert len({p for p, _ in ok}) == 2

    assert main(["dataset", "remeasure", str(data), "--out", str(out), "--repeat", "1", "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["programs"] == 2 and report["measured_now"] == 2
    again = _rows(out)
    assert set(again) == ok, "exactly the stored schedules that measured ok, none twice"
    assert all(status == "ok" for status in again.values())
    conn = sqlite3.connect(out)
    speedups = [s for (s,) in conn.execute("SELECT speedup FROM samples")]
    sources = conn.execute("SELECT COUNT(*) FROM programs WHERE source != ''").fetchone()[0]
    conn.close()
    assert all(s > 0 for s in speedups) and sources == 2
    origins = {o for (o,) in sqlite3.connect(out).execute("SELECT DISTINCT origin FROM samples")}
    assert origins == {"random"}, "each schedule keeps the origin it was chosen by"

    # Run again: every program is finished, nothing is measured or stored twice.
    assert main(["dataset", "remeasure", str(data), "--out", str(out), "--repeat", "1", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["measured_now"] == 0
    assert _rows(out) == again


def test_remeasure_into_its_own_input_is_refused(tmp_path: Path, capsys) -> None:
    from costmodel.pipeline import run
    from costmodel.programs import generated_programs

    data = tmp_path / "data.db"
    run(data, generated_programs(510, 1), 1, 1, repeat=1)
    before = _rows(data)
    assert main(["dataset", "remeasure", str(data), "--out", str(data)]) == 2
    assert capsys.readouterr().err.endswith("error: the new measurements need a database of their own\n")
    assert _rows(data) == before


def test_busy_warning_counts_the_cpu_time_other_jobs_take(monkeypatch) -> None:
    from costmodel import datagen

    monkeypatch.setattr(datagen.os, "cpu_count", lambda: 2)
    # /proc/stat counts jiffies over all CPUs: 150 of 200 busy on 2 CPUs is 1.5 CPUs' worth.
    readings = iter([(1000, 8000), (1150, 8200), (1000, 8000), (1010, 8200)])
    monkeypatch.setattr(datagen, "_cpu_times", lambda: next(readings))
    warning = datagen.busy_warning(0)
    assert warning is not None and "using 1.5 CPUs" in warning
    assert datagen.busy_warning(0) is None  # 0.1 CPUs: quiet enough


def test_remeasure_order_is_not_the_validation_split() -> None:
    from costmodel.dataset import split_programs
    from costmodel.remeasure import chosen, remeasure_order

    keys = [f"generated/{i}" for i in range(400)]
    _, val, _ = split_programs(keys, val_fraction=0.15, seed=0)
    first = remeasure_order(keys, 60, seed=0)
    assert len(first) == 60 and len(set(first)) == 60
    # Training on the first programs measured again must not leave only validation programs:
    # the unsalted order at the same seed takes every validation program first.
    assert set(chosen(keys, len(val), 0)) == set(val)
    assert len(set(first) & set(val)) < 20
