"""`looper dataset agreement`: its figures on a small hand-made pair of data sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from costmodel.agreement import agreement, averaged
from costmodel.dataset import open_db
from looper.cli import main

SERIAL = {"steps": [{"kind": "interchange", "stmt": "S0", "first": 0, "second": 1}]}
PARALLEL = {"steps": [{"kind": "parallelize", "stmt": "S0", "depth": 0}]}
# program -> fingerprint -> (parallel?, speedup in A, speedup in B); None: not labelled ok there.
LABELS = {
    "p1": {"a": (False, 1.0, 1.0), "b": (False, 2.0, 2.0), "c": (False, 3.0, 3.0), "d": (False, 4.0, 4.0),
           "e": (False, 5.0, None)},  # e: only A has it
    "p2": {"x": (True, 1.0, 4.0), "y": (True, 2.0, 2.0), "z": (False, 4.0, 1.0)},  # reversed; no pair apart
    "p3": {"p": (False, 1.0, 1.05), "q": (False, 1.05, 1.0), "r": (False, 1.0, None)},  # r: a run error in B
    "p4": {"u": (False, 1.0, 1.5), "v": (False, 2.0, 1.2)},  # one pair apart, ordered the other way
}


def _data_set(path: Path, side: int) -> Path:
    conn = open_db(path)
    with conn:
        for program, rows in LABELS.items():
            conn.execute("INSERT INTO programs (key, source, defines) VALUES (?, '', '{}')", (program,))
            for fingerprint, (parallel, *speedups) in rows.items():
                speedup = speedups[side]
                conn.execute("INSERT INTO samples (program, fingerprint, schedule, status, speedup, times) "
                             "VALUES (?, ?, ?, ?, ?, '[]')",
                             (program, fingerprint, json.dumps(PARALLEL if parallel else SERIAL),
                              "ok" if speedup else "run_error", speedup))
    conn.close()
    return path


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return _data_set(tmp_path / "a.db", 0), _data_set(tmp_path / "b.db", 1)


def test_agreement_figures_by_hand(pair: tuple[Path, Path]) -> None:
    report = agreement(*pair)
    assert report["harness_a"] == report["harness_b"] == ["process-1"]  # rows written without saying: the old
    everything, serial, parallel = report["all"], report["serial"], report["parallel"]
    assert (everything["programs"], everything["schedules"], everything["spearman_programs"]) == (4, 11, 2)
    assert everything["spearman"] == pytest.approx(0.0)  # p1: 1, p2: -1; p3 and p4 have fewer than 3
    assert (everything["pairs"], everything["pairwise"]) == (7, pytest.approx(6 / 7))  # p1's 6 pairs and p4's
    assert everything["mape"] == pytest.approx((0.75 + 3 + 0.05 / 1.05 + 0.05 + 1 / 3 + 2 / 3) / 11)
    assert (serial["programs"], serial["schedules"], serial["spearman"]) == (4, 9, pytest.approx(1.0))
    assert (serial["pairs"], serial["pairwise"]) == (7, pytest.approx(6 / 7))
    assert serial["mape"] == pytest.approx((3 + 0.05 / 1.05 + 0.05 + 1 / 3 + 2 / 3) / 9)
    assert parallel == {"programs": 1, "schedules": 2, "spearman_programs": 0, "spearman": None, "pairs": 0,
                        "pairwise": None, "mape": pytest.approx(0.375)}


def test_averaged_labels_are_geometric_means_over_the_schedules_usable_in_both(pair: tuple[Path, Path]) -> None:
    a, b = pair
    conn = open_db(b)
    with conn:  # one schedule's runs in B spread 50% around their median: not steady, so not averaged
        conn.execute("UPDATE samples SET times = '[1.0, 1.5, 2.0, 2.5]' WHERE fingerprint = 'd'")
    conn.close()
    both = averaged([a, b])
    assert sorted(both) == ["p1", "p2", "p3", "p4"]
    assert both["p1"] == {"a": (False, 1.0), "b": (False, pytest.approx(2.0)), "c": (False, pytest.approx(3.0))}
    assert both["p2"] == {f: (parallel, pytest.approx(2.0)) for f, parallel in (("x", True), ("y", True), ("z", False))}
    assert set(both["p3"]) == {"p", "q"} and both["p4"]["v"][1] == pytest.approx(2.4 ** 0.5)
    assert averaged([a, b], None)["p1"]["d"] == (False, pytest.approx(4.0))  # no steadiness asked: kept
    alone = {key: {f: (parallel, x) for f, (parallel, x, _) in rows.items()} for key, rows in LABELS.items()}
    assert averaged([a]) == alone


def test_agreement_command_prints_a_table_or_json(pair: tuple[Path, Path], capsys, tmp_path: Path) -> None:
    a, b = pair
    assert main(["dataset", "agreement", str(a), str(b)]) == 0
    text = capsys.readouterr().out
    assert "spearman" in text and "pairwise" in text and "\nparallel " in text
    assert main(["dataset", "agreement", str(a), str(b), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["all"]["pairs"] == 7
    assert main(["dataset", "agreement", str(a), str(tmp_path / "absent.db")]) == 2
    assert capsys.readouterr().err.endswith("absent.db: error: no such data set\n")
