"""Cost-model features and the model's forward pass, on real programs read by the frontend."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from costmodel import features as F
from costmodel.inference import threads
from costmodel.model import CostModel, ModelConfig
from costmodel.synthetic import PROGRAMS
from frontend import read_scop
from looper import transforms as T
from looper.deps import compute_dependences
from looper.schedule import Schedule
from looper.search.sampler import samples


@pytest.fixture(scope="module")
def gemm():
    return read_scop(PROGRAMS["gemm"])


@pytest.fixture(scope="module")
def schedules(gemm):
    jacobi = read_scop(PROGRAMS["jacobi1d"])
    found = []
    for scop in (gemm, jacobi):
        found += [Schedule(scop), *samples(Schedule(scop), compute_dependences(scop), 6, seed=3)]
    return found


def test_the_featurizer_keeps_a_few_programs_and_gives_the_same_features_again():
    """Bounded: a data worker featurizes program after program (64 cached programs held 3.8 GB)."""
    scops = [read_scop(text) for text in PROGRAMS.values()]
    assert len(scops) > 2
    fz = F.Featurizer(max_programs=2)
    first = [fz.schedule(Schedule(scop)) for scop in scops]
    assert len(fz._programs) == 2
    again = fz.schedule(Schedule(scops[0]))  # evicted, computed anew
    assert np.array_equal(again.comps, first[0].comps) and np.array_equal(again.loops, first[0].loops)


def test_shapes_and_tree(schedules):
    fz = F.Featurizer()
    for s in schedules:
        x = fz.schedule(s)
        n = len(s.scop.statements)
        assert x.comps.shape == (n, F.COMP_DIM) and x.comps.dtype == np.float32
        assert x.loops.shape == (len(x.children), F.LOOP_DIM)
        assert x.unimod.shape == (n, 1 + F.MAX_UNIMOD_STEPS, F.UNIMOD_DIM)
        assert np.isfinite(x.comps).all() and np.isfinite(x.loops).all()
        assert x.loops[-1, 13] == 1.0  # the root is the last loop node
        leaves = sorted(k for kids in x.children for k in kids if k < n)
        assert leaves == list(range(n))  # every statement hangs in the tree exactly once
        for j, kids in enumerate(x.children):
            below = [0 if k < n else x.heights[k - n] for k in kids]
            assert x.heights[j] == 1 + max(below)


def test_identity_gemm_tree(gemm):
    x = F.Featurizer().schedule(Schedule(gemm))
    # root -> i -> (j -> S0, k -> j -> S1): loops are numbered children first.
    assert x.children == [[0], [1], [3], [2, 4], [5]]
    assert x.heights == [1, 1, 2, 3, 4]


def test_expression_tokens(gemm):
    tokens = [t for t, _ in F.expression_tokens(gemm.statements[1], gemm)]
    assert tokens == ["load2", "scalar", "load2", "*", "load2", "*", "+", "store"] or tokens == [
        "load2", "load0", "load2", "*", "load2", "*", "+", "store"]


def test_interchange_changes_the_transform_and_the_strides(gemm):
    fz = F.Featurizer()
    base = fz.schedule(Schedule(gemm))
    swapped = fz.schedule(Schedule(gemm, (T.Interchange("S1", 1, 2),)))
    o = F.OFFSET["transform"]
    t = swapped.comps[1, o : o + F.MAX_DEPTH ** 2].reshape(F.MAX_DEPTH, F.MAX_DEPTH)
    assert t[:3, :3].tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert swapped.unimod_len.tolist() == [1, 2] and base.unimod_len.tolist() == [1, 1]
    # The original domain and the statement's static parts do not move; the transformed accesses do.
    d = F.OFFSET["domain"]
    assert np.array_equal(base.comps[1, d : d + 100], swapped.comps[1, d : d + 100])
    a = F.OFFSET["accesses"]
    assert not np.array_equal(base.comps[1, a : a + 3 * F.ACCESS_BLOCK], swapped.comps[1, a : a + 3 * F.ACCESS_BLOCK])


def test_deterministic_and_json_round_trip(schedules):
    a = F.Featurizer().schedules(schedules)
    fz = F.Featurizer()
    b = [fz.schedule(Schedule.from_json(s.scop, s.to_json())) for s in schedules]
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.comps, y.comps) and np.array_equal(x.loops, y.loops)
        assert x.children == y.children and np.array_equal(x.unimod, y.unimod)


@pytest.mark.parametrize("anchored", [False, True])
def test_model_forward_invariant_to_batch_composition(schedules, anchored):
    torch.manual_seed(0)
    model = CostModel(ModelConfig(anchored=anchored)).eval()
    samples_ = F.Featurizer().schedules(schedules)
    with threads(1), torch.no_grad():
        together = model(F.collate(samples_))
        alone = torch.cat([model(F.collate([s])) for s in samples_])
        shuffled_order = list(reversed(range(len(samples_))))
        shuffled = model(F.collate([samples_[i] for i in shuffled_order]))
    assert together.shape == (len(samples_),)
    assert torch.allclose(together, alone, atol=1e-5)
    assert torch.allclose(together, shuffled.flip(0), atol=1e-5)


def test_anchored_model_scores_the_original_at_exactly_1x(schedules):
    torch.manual_seed(0)
    model = CostModel(ModelConfig(anchored=True)).eval()
    fz = F.Featurizer()
    samples_ = fz.schedules(schedules)
    assert all((s.origin is None) == (not sch.steps) for s, sch in zip(samples_, schedules, strict=True))
    with threads(1), torch.no_grad():
        out = model(F.collate(samples_))
        plain = CostModel(ModelConfig(anchored=False))
        plain.load_state_dict(model.state_dict())
        raw = plain.eval()(F.collate(samples_ + [fz.origin(s.scop) for s in schedules]))
    n = len(samples_)
    for k, sch in enumerate(schedules):
        if not sch.steps:
            assert float(out[k]) == 0.0
        # Anchored = unanchored score of the schedule minus that of its program's original.
        assert float(out[k]) == pytest.approx(float(raw[k] - raw[n + k]), abs=1e-5)


def test_model_backward(schedules):
    model = CostModel()
    with threads(1):
        out = model(F.collate(F.Featurizer().schedules(schedules)))
        out.pow(2).mean().backward()
    assert all(p.grad is not None for p in model.children_lstm.parameters())
    assert model.expr_lstm.weight_ih_l0.grad is not None and model.unimod_lstm.weight_ih_l0.grad is not None


def _innermost_strides(sample: F.Sample, stmt: int, accesses: int) -> list[float]:
    """Bytes per innermost iteration of each access, decoded from the cost block."""
    o = F.OFFSET["cost"]
    triples = sample.comps[stmt, o : o + accesses * F.COST_PER_ACCESS].reshape(accesses, F.COST_PER_ACCESS)
    return sorted(round(float(2 ** t[0] - 1)) for t in triples)


def test_cost_block_strides_follow_interchange(gemm):
    # S1: C[i][j] += alpha * A[i][k] * B[k][j] over 96 x 96 doubles: write C, reads C, alpha, A, B.
    fz = F.Featurizer()
    ikj = fz.schedule(Schedule(gemm))
    assert _innermost_strides(ikj, 1, 5) == [0, 0, 8, 8, 8]  # j innermost: C and B walk rows
    ijk = fz.schedule(Schedule(gemm).then(T.Interchange("S1", 1, 2)))
    assert _innermost_strides(ijk, 1, 5) == [0, 0, 0, 8, 96 * 8]  # k innermost: B walks a column


def test_cost_block_parallel_region(gemm):
    o = F.OFFSET["cost"] + F.N_COST - 3
    fz = F.Featurizer()
    inner = fz.schedule(Schedule(gemm).then(T.Parallelize("S1", 2))).comps[1, o : o + 3]
    outer = fz.schedule(Schedule(gemm).then(T.Parallelize("S1", 0))).comps[1, o : o + 3]
    # An inner parallel loop is entered once per (i, k): 96 * 96 times, each running 96 iterations.
    assert np.allclose(inner, [np.log2(96 * 96), np.log2(96), np.log2(96)], atol=0.05)
    assert np.allclose(outer, [0.0, np.log2(96**3), np.log2(96)], atol=0.05)


def test_array_extents_are_evaluated():
    from costmodel.features.program import _size_value

    values = {"_PB_M": 279, "_PB_P": 245}
    assert _size_value("M + 1", values) == 280
    assert _size_value("(2 * P)", values) == 490
    assert _size_value("100L / 3", values) == 33  # C suffix, integer division
    assert _size_value("unknown", values) == F.DEFAULT_PARAM


def _nest(iterators: list[str], body: str) -> str:
    loops = "".join(f"for (int {i} = 0; {i} < 10; {i}++)\n" for i in iterators)
    return (f"double A[10][10], B[10][10], C[10][10];\nvoid f(void) {{\n#pragma scop\n{loops}{body}\n"
            "#pragma endscop\n}\n")


def test_a_deep_nest_reads_as_its_outer_loops_and_innermost():
    """The depth policy (FEATURES.md): an 8-deep nest is described by its outermost 5 iterators and its
    innermost, so where the body ignores the two between, its blocks equal those of the 6-deep nest
    without them; the statement's totals (instances, trip counts) still count all eight loops."""
    body = "C[i0][i7] = C[i0][i7] + A[i1][i2] * B[i3][i4];"
    deep = read_scop(_nest([f"i{k}" for k in range(8)], body))
    shallow = read_scop(_nest(["i0", "i1", "i2", "i3", "i4", "i7"], body))
    fz = F.Featurizer()
    steps = (T.Interchange("S0", 0, 4),)
    d = fz.schedule(Schedule(deep, steps)).comps[0]
    s = fz.schedule(Schedule(shallow, steps)).comps[0]
    for block, size in F.BLOCKS:
        if block in ("domain", "transformed_domain", "accesses", "transform"):
            o = F.OFFSET[block]
            assert np.array_equal(d[o : o + size], s[o : o + size]), block
    tags = F.OFFSET["tags"]
    assert d[tags + 14] == s[tags + 14] == 1.0  # depth / 6, clipped
    assert d[tags + 15] == pytest.approx(8 * np.log2(10) / 8) and s[tags + 15] == pytest.approx(6 * np.log2(10) / 8)
