"""Cost-model data set, training (checkpoint + resume), evaluation metrics and inference.

The data set here is SYNTHETIC (costmodel.synthetic): real programs and real random legal schedules,
labelled by the analytical stand-in evaluator, not measured."""

from __future__ import annotations

import json
import lzma
import math
import shutil
from contextlib import closing
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch

from costmodel import dataset as D
from costmodel import inference
from costmodel.evaluate import metrics, ndcg, predict, spearman, top1_regret
from costmodel.inference import load_evaluator, load_model
from costmodel.model import CostModel, ModelConfig
from costmodel.synthetic import MACHINE, build_synthetic_db
from costmodel.train import TrainConfig, calibrate, compare_losses, loss_value, train
from looper.cli import main


@pytest.fixture(scope="module")
def synthetic_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "synthetic.db"
    build_synthetic_db(path, per_program=10, programs=["gemm", "jacobi1d", "mvt", "norm"])
    conn = D.open_db(path)
    # A failed measurement must never reach training.
    conn.execute("INSERT INTO samples (program, fingerprint, schedule, status, speedup, machine) VALUES "
                 "('synthetic/gemm', 'broken', '{\"steps\": []}', 'timeout', NULL, ?)", (MACHINE,))
    conn.commit()
    conn.close()
    return path


def test_dataset_reader_and_split(synthetic_db):
    conn = D.open_db(synthetic_db, create=False)
    grouped = D.ok_samples(conn)
    conn.close()
    assert set(grouped) == {"synthetic/gemm", "synthetic/jacobi1d", "synthetic/mvt", "synthetic/norm"}
    assert all(s.fingerprint != "broken" and s.speedup > 0 for rows in grouped.values() for s in rows)
    train_keys, val_keys, test_keys = D.split_programs(grouped, 0.3, 0.3, seed=1)
    assert sorted(train_keys + val_keys + test_keys) == sorted(grouped)
    assert not set(train_keys) & set(val_keys) and not set(val_keys) & set(test_keys)
    assert D.split_programs(grouped, 0.3, 0.3, seed=1) == (train_keys, val_keys, test_keys)
    data = D.load_dataset(synthetic_db, progress=False)
    assert len(data.examples) == sum(len(r) for r in grouped.values()) and not data.skipped_programs
    again = D.load_dataset(synthetic_db, progress=False)  # from the feature cache
    assert [e.id for e in again.examples] == [e.id for e in data.examples]


def test_throughput_leaves_out_the_pauses_of_a_resumed_job(synthetic_db, tmp_path):
    # Two runs of 10 minutes each, a day apart: 20 minutes of measuring, not 24 hours.
    run = [60.0 * k for k in range(11)]
    assert D.active_seconds(run + [86_400 + t for t in run]) == pytest.approx(2 * 600)
    assert D.active_seconds([5.0]) == 0.0
    db = tmp_path / "resumed.db"
    shutil.copy(synthetic_db, db)
    with closing(D.open_db(db, create=False)) as conn:
        # One sample a second, the second half a day after the first.
        conn.execute("UPDATE samples SET created = id + 86400 * (id > (SELECT MAX(id) FROM samples) / 2)")
        conn.commit()
    stats = D.statistics(db)
    assert 0 < stats["hours"] < 0.1 and stats["samples_per_hour"] > 1000


def test_feature_cache_of_another_code_version_is_rebuilt(synthetic_db):
    cache = D._cache_path(synthetic_db)
    expected = [e.id for e in D.load_dataset(synthetic_db, progress=False).examples]
    # A pickle naming a module that does not exist here (a class moved, e.g. by a package split).
    cache.write_bytes(b"ccostmodel.features.no_such_module\nSample\n.")
    data = D.load_dataset(synthetic_db, progress=False)
    assert [e.id for e in data.examples] == expected
    assert D.load_dataset(synthetic_db, progress=False).examples  # and the rebuilt cache loads


def test_cached_samples_without_their_origin_are_featurized_again(synthetic_db):
    import pickle

    data = D.load_dataset(synthetic_db, progress=False)
    originals = {e.id for e in data.examples if e.sample.origin is None}  # schedules without steps
    assert len(originals) < len(data.examples)
    cache = D._cache_path(synthetic_db)
    cached = pickle.loads(cache.read_bytes())
    for example in cached.values():
        example.sample.origin = None  # as a cache written before Sample.origin existed
    cache.write_bytes(pickle.dumps(cached))
    again = D.load_dataset(synthetic_db, progress=False)
    assert [e.id for e in again.examples] == [e.id for e in data.examples]
    assert {e.id for e in again.examples if e.sample.origin is None} == originals


def test_metrics_by_hand():
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 2], [1, 2, 3]) == pytest.approx(1.5 / math.sqrt(3.0))
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))
    pred, meas = [3, 2, 1], [1, 2, 4]
    assert ndcg(pred, meas, 1) == pytest.approx(0.25)
    dcg = 1 + 2 / math.log2(3) + 4 / 2
    ideal = 4 + 2 / math.log2(3) + 1 / 2
    assert ndcg(pred, meas, 5) == pytest.approx(dcg / ideal)
    assert top1_regret(pred, meas) == pytest.approx(3.0)
    assert top1_regret([1, 2, 3], meas) == 0.0
    m = metrics({"a": ([1.0, 2.0, 4.0], [1.0, 2.0, 4.0]), "b": ([3.0, 2.0, 1.0], [1.0, 2.0, 4.0])})
    assert m["mape"] == pytest.approx((0 + 0 + 0 + 2 + 0 + 0.75) / 6)
    assert m["spearman"] == pytest.approx(0.0)
    assert m["ndcg@1"] == pytest.approx((1 + 0.25) / 2)
    assert m["top1_regret"] == pytest.approx(1.5)
    assert m["pairs"] == 6 and m["pairwise"] == pytest.approx(0.5)  # "a" orders its 3 pairs right, "b" none
    close = metrics({"c": ([2.0, 1.0, 3.0], [1.0, 1.05, 3.0])})  # the first pair is within 10%: not counted
    assert close["pairs"] == 2 and close["pairwise"] == 1.0


def test_losses():
    pred = torch.tensor([0.0, math.log(2.0), 0.0])
    y = torch.tensor([1.0, 2.0, 4.0])
    group = torch.tensor([0, 0, 1])
    assert float(loss_value("log", pred, y, group)) == pytest.approx(math.log(4.0) ** 2 / 3)
    assert float(loss_value("mape", pred, y, group)) == pytest.approx(0.75 / 3, rel=1e-5)
    good = loss_value("rank", torch.tensor([0.0, 1.0, 5.0]), y, group)
    bad = loss_value("rank", torch.tensor([1.0, 0.0, 5.0]), y, group)
    assert float(good) < float(bad)


def test_pairs_loss_wants_the_measured_order_and_ties_for_near_ties(monkeypatch):
    monkeypatch.setattr("costmodel.train.RANK_CALIBRATION", 0.0)  # the pair term alone
    group = torch.tensor([0, 0, 1])
    y = torch.tensor([1.0, 2.0, 4.0])
    right, wrong = torch.tensor([0.0, 0.7, 0.0]), torch.tensor([0.7, 0.0, 0.0])
    assert float(loss_value("pairs", right, y, group)) < float(loss_value("pairs", wrong, y, group))
    # Two schedules 1% apart are a tie within the label noise: scoring them apart costs more than alike.
    near = torch.tensor([1.0, 1.01, 4.0])
    alike, apart = torch.tensor([0.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
    assert float(loss_value("pairs", alike, near, group)) < float(loss_value("pairs", apart, near, group))


def test_lambda_loss_cares_most_about_the_top_of_each_program(monkeypatch):
    monkeypatch.setattr("costmodel.train.RANK_CALIBRATION", 0.0)  # the pair term alone
    y = torch.tensor([1.0, 2.0, 4.0, 0.5, 1.0, 3.0])
    group = torch.tensor([7, 7, 7, 7, 900, 900])  # program ids as the training batches number them: sparse
    right = torch.log(y)
    assert float(loss_value("lambda", right, y, group)) < float(loss_value("lambda", -right, y, group))
    # Swapping the two best schedules of a program costs more than swapping its two worst.
    top, bottom = right.clone(), right.clone()
    top[[1, 2]], bottom[[0, 3]] = right[[2, 1]], right[[3, 0]]
    assert float(loss_value("lambda", top, y, group)) > float(loss_value("lambda", bottom, y, group))
    pred = (-right).requires_grad_()
    loss_value("lambda", pred, y, group).backward()
    assert pred.grad is not None and float(pred.grad[2]) < 0 < float(pred.grad[3])  # raise the best, lower the worst


def test_train_checkpoint_resume_evaluate(synthetic_db, tmp_path, capsys):
    config = TrainConfig(epochs=3, batch_size=16, val_fraction=0.3, patience=10, seed=2)
    small = ModelConfig(hidden=32, comp_hidden=64, expr_hidden=16, unimod_hidden=8)
    out = tmp_path / "straight" / "model.pt"  # train() makes the directory
    straight = train(synthetic_db, out, config, model_config=small, progress=False, log=lambda _: None)
    assert straight["epochs"] == 3
    for name in ("model", "state", "history", "loss_plot", "scatter_plot"):
        assert (tmp_path / "straight" / straight["files"][name].split("/")[-1]).is_file()

    resumed_out = tmp_path / "resumed" / "model.pt"
    resumed_out.parent.mkdir()
    first = TrainConfig(**{**config.__dict__, "epochs": 2})
    train(synthetic_db, resumed_out, first, model_config=small, progress=False, log=lambda _: None, plots=False)
    state = torch.load(resumed_out.with_name("model.pt.state"), weights_only=False)
    assert state["epoch"] == 1  # 0-based: two epochs done
    resumed = train(synthetic_db, resumed_out, config, model_config=small, resume=True, progress=False,
                    log=lambda _: None, plots=False)
    assert resumed["epochs"] == 3
    a = torch.load(out.with_name("model.pt.state"), weights_only=False)["model"]
    b = torch.load(resumed_out.with_name("model.pt.state"), weights_only=False)["model"]
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)

    assert main(["evaluate", "--model", str(out), "--data", str(synthetic_db), "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["programs"] == 4 and result["samples"] == 44
    for key in ("mape", "spearman", "ndcg@1", "ndcg@5", "top1_regret"):
        assert key in result

    evaluator = load_evaluator(out)
    assert evaluator is load_evaluator(out)  # loaded once per process
    model = load_model(out)
    assert model.meta["loss"] == config.loss
    from frontend import read_scop
    from looper.schedule import Schedule

    conn = D.open_db(synthetic_db)
    scop = read_scop(conn.execute("SELECT source FROM programs WHERE key = 'synthetic/gemm'").fetchone()[0])
    conn.close()
    scores = evaluator.score([Schedule(scop)])
    assert len(scores) == 1 and scores[0] > 0
    # The search takes it as its evaluator, through the API's wiring.
    from looper.api import model_evaluator
    from looper.deps import compute_dependences
    from looper.search import Space, beam_search

    wired, label = model_evaluator(out)
    assert wired is evaluator and label == "cost model"
    found = beam_search(Schedule(scop), compute_dependences(scop), wired, beam_width=1,
                        space=Space(fusion=False, unimodular_steps=1))
    assert found.stats.scored > 1 and found.score > 0


def test_calibration_lowers_mape_and_keeps_the_ranking(synthetic_db, tmp_path):
    config = TrainConfig(epochs=2, batch_size=16, val_fraction=0.3, patience=10, seed=2)
    small = ModelConfig(hidden=32, comp_hidden=64, expr_hidden=16, unimod_hidden=8)
    out = tmp_path / "model.pt"
    train(synthetic_db, out, config, model_config=small, progress=False, log=lambda _: None, plots=False)
    model = load_model(out)
    offset = float(model.log_offset)
    assert offset != 0.0 and model.meta["log_offset"] == pytest.approx(offset)
    examples = D.load_dataset(synthetic_db, progress=False).examples
    calibrated = predict(model, [e.sample for e in examples])
    model.log_offset.zero_()
    raw = predict(model, [e.sample for e in examples])
    assert calibrated == pytest.approx(raw * math.exp(offset), rel=1e-4)
    # On the examples it is fitted to, no other shift has a lower MAPE.
    y = np.array([e.speedup for e in examples])
    best = calibrate(model, examples)
    mape = lambda shift: float((abs(raw * math.exp(shift) - y) / y).mean())
    assert all(mape(best) <= mape(best + d) + 1e-9 for d in (-0.2, -0.01, 0.01, 0.2))


def test_a_checkpoint_without_an_offset_loads_with_none(tmp_path):
    model = CostModel(ModelConfig(hidden=16, comp_hidden=32, expr_hidden=8, unimod_hidden=8))
    state = {k: v for k, v in model.state_dict().items() if k != "log_offset"}
    torch.save({"format": inference.FORMAT, "meta": {}, "config": asdict(model.config), "state_dict": state},
               tmp_path / "old.pt")
    assert float(load_model(tmp_path / "old.pt").log_offset) == 0.0


def test_a_checkpoint_from_before_anchoring_loads_unanchored(tmp_path):
    model = CostModel(ModelConfig(hidden=16, comp_hidden=32, expr_hidden=8, unimod_hidden=8))
    config = {k: v for k, v in asdict(model.config).items() if k != "anchored"}
    torch.save({"format": inference.FORMAT, "meta": {}, "config": config, "state_dict": model.state_dict()},
               tmp_path / "old.pt")
    assert load_model(tmp_path / "old.pt").config.anchored is False


def test_cli_train(synthetic_db, tmp_path, capsys):
    out = tmp_path / "m.pt"
    code = main(["train", "--data", str(synthetic_db), "--out", str(out), "--epochs", "1", "--batch-size", "32",
                 "--loss", "rank", "--quiet"])
    assert code == 0 and out.is_file() and load_model(out).config.anchored
    plain = tmp_path / "plain.pt"
    assert main(["train", "--data", str(synthetic_db), "--out", str(plain), "--epochs", "1", "--batch-size", "32",
                 "--unanchored", "--quiet"]) == 0
    assert not load_model(plain).config.anchored
    assert main(["train", "--data", str(tmp_path / "missing.db"), "--out", str(out)]) == 2


def test_ensemble_of_seeds(synthetic_db, tmp_path, capsys):
    out = tmp_path / "ens" / "model.pt"
    code = main(["train", "--data", str(synthetic_db), "--out", str(out), "--epochs", "2", "--batch-size", "16",
                 "--val-fraction", "0.3", "--seed", "3", "--ensemble", "2", "--jobs", "2", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert "ensemble of 2" in capsys.readouterr().out
    ensemble = load_model(out)
    assert len(ensemble.members) == 2 and ensemble.meta["ensemble"] == 2
    # Member 1 is the model `looper train --seed 4` makes, trained in another process.
    alone = tmp_path / "alone.pt"
    train(synthetic_db, alone, TrainConfig(epochs=2, batch_size=16, val_fraction=0.3, seed=4), progress=False,
          log=lambda _: None, plots=False)
    a, b = load_model(alone).state_dict(), ensemble.members[1].state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    from costmodel.evaluate import predict

    samples = [e.sample for e in D.load_dataset(synthetic_db, progress=False).examples]
    mean_log = (torch.log(torch.tensor(predict(ensemble.members[0], samples))) +
                torch.log(torch.tensor(predict(ensemble.members[1], samples)))) / 2
    assert torch.allclose(torch.tensor(predict(ensemble, samples)), torch.exp(mean_log), rtol=1e-4)
    assert main(["evaluate", "--model", str(out), "--data", str(synthetic_db), "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 44
    # Killed after its members finished: --resume only reloads them.
    out.unlink()
    assert main(["train", "--data", str(synthetic_db), "--out", str(out), "--epochs", "2", "--batch-size", "16",
                 "--val-fraction", "0.3", "--seed", "3", "--ensemble", "2", "--resume", "--quiet"]) == 0
    again = load_model(out)
    assert all(torch.equal(again.state_dict()[k], v) for k, v in ensemble.state_dict().items())
    assert main(["train", "--data", str(synthetic_db), "--out", str(out), "--ensemble", "2", "--suite",
                 "polybench"]) == 2


def test_fine_tuning_starts_from_the_checkpoint(synthetic_db, tmp_path, capsys):
    """--init: each member starts from the checkpoint's member (weights and normalization, not fresh ones)."""
    base = tmp_path / "base.pt"
    assert main(["train", "--data", str(synthetic_db), "--out", str(base), "--epochs", "2", "--batch-size", "16",
                 "--unanchored", "--ensemble", "2", "--quiet"]) == 0
    start = load_model(base)
    # lr so small that nothing moves: the fine-tuned members are the starting ones, up to the calibration
    tuned = tmp_path / "tuned.pt"
    assert main(["train", "--data", str(synthetic_db), "--out", str(tuned), "--epochs", "1", "--batch-size", "16",
                 "--lr", "1e-12", "--ensemble", "2", "--init", str(base), "--quiet"]) == 0, capsys.readouterr().err
    after = load_model(tuned)

    def same(x: torch.nn.Module, y: torch.nn.Module) -> bool:
        a, b = x.state_dict(), y.state_dict()
        return all(torch.allclose(a[n], b[n], atol=1e-6) for n in a if n != "log_offset")

    assert not after.members[0].config.anchored  # the checkpoint's architecture, not the default
    assert same(start.members[0], after.members[0]) and same(start.members[1], after.members[1])
    assert not same(start.members[1], after.members[0])  # member k from member k
    assert load_model(tuned.with_name("tuned.member1.pt")).meta["train_config"]["init_member"] == 1
    # a fresh run from the same seed ends elsewhere: the starting point mattered
    fresh = tmp_path / "fresh.pt"
    train(synthetic_db, fresh, TrainConfig(epochs=1, batch_size=16, lr=1e-12), progress=False, log=lambda _: None,
          plots=False)
    assert not same(load_model(fresh), start.members[0])
    capsys.readouterr()
    assert main(["train", "--data", str(synthetic_db), "--out", str(tuned), "--init", str(tmp_path / "no.pt")]) == 2
    assert "no such checkpoint" in capsys.readouterr().err
    assert main(["train", "--data", str(synthetic_db), "--out", str(tuned), "--init", str(base), "--unanchored"]) == 2
    (tmp_path / "junk.pt").write_text("junk")
    assert main(["train", "--data", str(synthetic_db), "--out", str(tuned), "--init", str(tmp_path / "junk.pt"),
                 "--quiet"]) == 2
    assert "not a cost-model checkpoint" in capsys.readouterr().err


def test_compare_losses(synthetic_db, tmp_path):
    small = ModelConfig(hidden=16, comp_hidden=32, expr_hidden=8, unimod_hidden=8)
    report = compare_losses(synthetic_db, tmp_path, TrainConfig(epochs=1, batch_size=32, val_fraction=0.3),
                            losses=("log", "rank"), model_config=small, progress=False, log=lambda _: None,
                            plots=False)
    assert set(report["results"]) == {"log", "rank"} and report["best"] in ("log", "rank")
    assert "| rank" in (tmp_path / "loss_comparison.md").read_text()
    assert json.loads((tmp_path / "loss_comparison.json").read_text())["best"] == report["best"]


def test_load_evaluator_without_checkpoint(tmp_path, monkeypatch):
    assert load_evaluator(tmp_path / "none.pt") is None
    monkeypatch.setattr(inference, "PRETRAINED", tmp_path / "pretrained" / "model.pt")
    assert load_evaluator(None) is None


def test_unsteady_measurements_are_left_out(tmp_path, synthetic_db):
    """Steady as the harness judges it (codegen.harness.spread): fewer than four runs have no quartiles."""
    path = tmp_path / "noisy.db"
    path.write_bytes(synthetic_db.read_bytes())
    conn = D.open_db(path, create=False)
    steady = sum(len(rows) for rows in D.ok_samples(conn).values())
    first = conn.execute("SELECT id FROM samples WHERE status = 'ok' ORDER BY id LIMIT 1").fetchone()[0]
    conn.execute("UPDATE samples SET times = ? WHERE id = ?", (json.dumps([1.0, 1.0, 2.0, 3.0, 9.0]), first))
    conn.commit()
    assert sum(len(rows) for rows in D.ok_samples(conn).values()) == steady - 1
    assert sum(len(rows) for rows in D.ok_samples(conn, None).values()) == steady
    conn.execute("UPDATE samples SET times = ? WHERE id = ?", (json.dumps([1.0, 1.5, 1.4]), first))
    conn.commit()
    assert sum(len(rows) for rows in D.ok_samples(conn).values()) == steady
    conn.close()


def test_split_database_by_program(tmp_path, synthetic_db):
    train_db, test_db = tmp_path / "train.db", tmp_path / "test.db"
    assert main(["dataset", "split", str(synthetic_db), "--train", str(train_db), "--test", str(test_db),
                 "--test-fraction", "0.5", "--seed", "3"]) == 0
    keys = {}
    for path in (train_db, test_db):
        conn = D.open_db(path, create=False)
        keys[path] = {r[0] for r in conn.execute("SELECT program FROM samples")}
        assert keys[path] == {r[0] for r in conn.execute("SELECT key FROM programs")}
        conn.close()
    assert keys[train_db] and keys[test_db] and not keys[train_db] & keys[test_db]
    stats = D.statistics(synthetic_db)
    assert stats["samples"] == D.statistics(train_db)["samples"] + D.statistics(test_db)["samples"]
    # Never overwrite: a second split into the same files is refused with exit code 2.
    assert main(["dataset", "split", str(synthetic_db), "--train", str(train_db), "--test", str(test_db)]) == 2


def test_merge_takes_a_shared_program_from_the_last_data_set(tmp_path, synthetic_db, capsys):
    quiet, merged = tmp_path / "quiet.db", tmp_path / "merged.db"
    conn = D.open_db(synthetic_db, create=False)
    D.copy_programs(conn, quiet, ["synthetic/gemm"])
    conn.close()
    conn = D.open_db(quiet, create=False)
    conn.execute("UPDATE samples SET speedup = speedup * 2")
    conn.execute("DELETE FROM samples WHERE id = (SELECT MAX(id) FROM samples WHERE status = 'ok')")
    conn.commit()
    conn.close()

    def labels(path: Path) -> dict[str, list[float]]:
        with closing(D.open_db(path, create=False)) as conn:
            return {k: sorted(r.speedup for r in rows) for k, rows in D.ok_samples(conn, None).items()}

    assert main(["dataset", "merge", str(synthetic_db), str(quiet), "--out", str(merged)]) == 0
    assert "3 programs from" in capsys.readouterr().out
    want = labels(synthetic_db) | labels(quiet)  # gemm: all of its samples from the quiet data set
    assert labels(merged) == want and len(want["synthetic/gemm"]) == len(labels(synthetic_db)["synthetic/gemm"]) - 1
    # The feature cache of a replaced database must not hand out the old database's labels.
    assert sorted(e.speedup for e in D.load_dataset(merged, progress=False).examples) == \
        sorted(v for vs in want.values() for v in vs)
    assert main(["dataset", "merge", str(synthetic_db), str(quiet), "--out", str(merged)]) == 2  # never overwritten
    merged.unlink()
    assert main(["dataset", "merge", str(quiet), str(synthetic_db), "--out", str(merged)]) == 0
    assert sorted(e.speedup for e in D.load_dataset(merged, progress=False).examples) == \
        sorted(v for vs in labels(synthetic_db).values() for v in vs)
    assert main(["dataset", "merge", str(tmp_path / "none.db"), str(quiet), "--out", str(tmp_path / "x.db")]) == 2
    assert "none.db: error: no such data set" in capsys.readouterr().err and not (tmp_path / "x.db").exists()


def test_merge_reads_xz_compressed_parts(tmp_path, synthetic_db, capsys):
    """The repository stores training parts as FILE.db.xz; merge reads them as the plain file."""
    packed = tmp_path / "part.db.xz"
    packed.write_bytes(lzma.compress(synthetic_db.read_bytes()))
    plain, unpacked = tmp_path / "plain.db", tmp_path / "unpacked.db"
    assert main(["dataset", "merge", str(synthetic_db), "--out", str(plain)]) == 0
    assert main(["dataset", "merge", str(packed), "--out", str(unpacked)]) == 0
    assert D.statistics(unpacked)["samples"] == D.statistics(plain)["samples"] > 0
    assert sorted(tmp_path.iterdir()) == [packed, plain, unpacked]  # nothing unpacked is left behind
    capsys.readouterr()
    assert main(["dataset", "stats", str(packed), "--json"]) == 0  # stats reads a part as it is stored too
    assert json.loads(capsys.readouterr().out) == D.statistics(plain)
    broken = tmp_path / "broken.db.xz"
    broken.write_bytes(b"not xz")
    assert main(["dataset", "merge", str(broken), "--out", str(tmp_path / "x.db")]) == 2
    assert "broken.db.xz: not an xz-compressed data set" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()


def test_evaluate_the_analytical_standin(synthetic_db, capsys):
    # The synthetic labels are the stand-in's own estimates, so it must rank them (almost) perfectly.
    assert main(["evaluate", "--model", "analytical", "--data", str(synthetic_db), "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["programs"] == 4 and result["spearman"] > 0.95 and result["mape"] < 0.05


def test_evaluate_defaults_to_the_shipped_model_and_sets_it_beside_a_second_labelling(synthetic_db, tmp_path,
                                                                                       capsys):
    again = tmp_path / "again.db"
    again.write_bytes(synthetic_db.read_bytes())
    conn = D.open_db(again)
    conn.execute("UPDATE samples SET speedup = speedup * 1.5 WHERE id % 2 = 0")  # half the labels move
    conn.commit()
    conn.close()
    assert main(["evaluate", "--data", str(synthetic_db), "--again", str(again), "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["programs"] == 4 and -1 <= result["spearman"] <= 1 and 0 <= result["pairwise"] <= 1
    conn = D.open_db(synthetic_db, create=False)
    labelled = sum(len(rows) for rows in D.ok_samples(conn, None).values())
    conn.close()
    assert result["again"]["programs"] == 4 and result["again"]["samples"] == labelled
    assert 0 < result["again"]["spearman"] < 1
    assert main(["evaluate", "--data", str(synthetic_db), "--again", str(again), "--quiet"]) == 0
    assert "2nd labelling" in capsys.readouterr().out
    assert main(["evaluate", "--data", str(synthetic_db), "--again", str(tmp_path / "none.db"), "--quiet"]) == 2
    assert "none.db: error: no such file" in capsys.readouterr().err
    # Two labellings as --data: the labels are their geometric means, here 1.5 ** 0.5 times the first's for half.
    for model in (["--model", "analytical"], []):  # the stand-in and the shipped model
        assert main(["evaluate", *model, "--data", str(synthetic_db), "--json", "--quiet"]) == 0
        alone = json.loads(capsys.readouterr().out)
        assert main(["evaluate", *model, "--data", str(synthetic_db), "--data", str(again), "--json", "--quiet"]) == 0
        averaged = json.loads(capsys.readouterr().out)
        assert averaged["samples"] == alone["samples"] and averaged["mape"] != alone["mape"]
    assert main(["evaluate", "--data", str(synthetic_db), "--data", str(tmp_path / "none.db"), "--quiet"]) == 2


def test_leave_one_program_out(tmp_path, synthetic_db, capsys):
    out = tmp_path / "loo" / "model.pt"
    argv = ["train", "--data", str(synthetic_db), "--out", str(out), "--suite", "synthetic", "--epochs", "2",
            "--quiet"]
    assert main(argv) == 0
    report = json.loads((out.parent / "leave_one_out.json").read_text())
    assert set(report["folds"]) == {"gemm", "jacobi1d", "mvt", "norm"}  # one fold per program, by name
    assert all(m["programs"] == 1 for m in report["folds"].values())
    assert report["pooled"]["programs"] == 4 and out.is_file()
    assert "| gemm |" in capsys.readouterr().out
    # Resumable: finished folds are not trained again.
    stamps = {p: p.stat().st_mtime_ns for p in (out.parent / "folds").glob("*.json")}
    assert main(argv) == 0
    assert {p: p.stat().st_mtime_ns for p in (out.parent / "folds").glob("*.json")} == stamps
    # An unknown suite has no programs: a clear error, exit code 2.
    assert main(["train", "--data", str(synthetic_db), "--out", str(out), "--suite", "nope", "--quiet"]) == 2


@pytest.mark.parametrize("argv", [["dataset", "stats", "{bad}"], ["train", "--data", "{bad}", "--out", "{out}"],
                                  ["evaluate", "--model", "analytical", "--data", "{bad}"]])
def test_a_file_that_is_not_a_data_set_is_bad_input(tmp_path, capsys, argv):
    bad = tmp_path / "notes.txt"
    bad.write_text("not sqlite\n" * 100)
    args = [a.format(bad=bad, out=tmp_path / "m.pt") for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"{bad}: not a data set" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_held_out_split_leaves_programs_for_validation():
    keys = [f"program-{i}" for i in range(200)]
    kept, _, held = D.split_programs(keys, 0.0, 0.2, seed=0, salt="held-out:")
    _, val_keys, _ = D.split_programs(kept, 0.15, 0.0, seed=0)
    assert len(held) > 20 and 10 < len(val_keys) < 50 and not set(held) & set(kept)
