"""The frontend on the PolyBench suite: every kernel extracts, and the extraction agrees with the compiled C."""

from __future__ import annotations

import math

import islpy as isl
import pytest

from frontend import FrontendError, read_scops
from looper.ir import Scop
from polybench.manifest import KERNELS, UTILITIES
from tests.frontend_support import (
    compile_kernel,
    counting_source,
    counts_from_output,
    dumping_source,
    extent,
    param_values,
    point_count,
    run,
    two_dumps,
    written_elements,
)

NAMES = sorted(KERNELS)


def _scop(name: str, with_utilities: bool = True) -> Scop:
    k = KERNELS[name]
    if not k.source.exists():
        pytest.skip(f"{k.source} does not exist yet")
    entries = read_scops(k.source, include_dirs=[UTILITIES] if with_utilities else [])
    assert len(entries) == 1, f"{name}: expected one region, got {len(entries)}"
    (entry,) = entries
    assert not isinstance(entry, FrontendError), str(entry)
    return entry


@pytest.mark.parametrize("name", NAMES)
def test_kernel_extracts(name: str) -> None:
    scop = _scop(name)
    assert scop.statements, name
    assert scop.region is not None and scop.region.function and scop.region.function.startswith("kernel_")
    assert all(p.startswith("_PB_") for p in scop.params), scop.params
    text = KERNELS[name].source.read_text()
    assert text[scop.region.start :].startswith("#pragma scop")
    assert text[: scop.region.end].rstrip().endswith("#pragma endscop")
    depth = max(s.depth for s in scop.statements)
    for k, s in enumerate(scop.statements):
        assert s.name == f"S{k}"
        assert s.domain.get_tuple_name() == s.name
        assert s.schedule.dim(isl.dim_type.out) == 2 * depth + 1
        assert s.writes, f"{name} {s.name} writes nothing"
        for a in s.accesses:
            assert a.array in scop.arrays
            assert len(scop.arrays[a.array].sizes) == a.relation.dim(isl.dim_type.out)
        a, b = s.span
        # The span is the assignment as written; its first line is the statement's line.
        assert text.count("\n", 0, a) + 1 == s.line
        assert text[b:].lstrip().startswith(";")
    # With the utilities header the element type resolves.
    for arr in scop.arrays.values():
        if arr.element_type == "DATA_TYPE":
            assert arr.resolved_type == KERNELS[name].dtype


@pytest.mark.parametrize("name", NAMES)
def test_domain_sizes_match_execution_counts(name: str, tmp_path) -> None:
    """Each statement's domain has as many points as the compiled kernel executes it (MINI size)."""
    scop = _scop(name)
    k = KERNELS[name]
    values = param_values(scop, k)
    expected = [point_count(s.domain, values) for s in scop.statements]
    src = tmp_path / f"{name}.c"
    src.write_text(counting_source(k.source.read_text(), scop))
    exe = tmp_path / name
    compile_kernel(k, src, exe)
    counts = counts_from_output(run(exe).stdout)
    assert counts == expected, {s.name: (c, e) for s, c, e in zip(scop.statements, counts, expected, strict=True)}
    assert sum(counts) > 0


@pytest.mark.parametrize("name", ["gemm", "lu", "jacobi-2d", "nussinov", "deriche"])
def test_written_elements_cover_changed_elements(name: str, tmp_path) -> None:
    """Every live-out element the kernel changes is in the image of some write relation."""
    scop = _scop(name)
    k = KERNELS[name]
    values = param_values(scop, k)
    sizes = k.sizes("MINI")
    src = tmp_path / f"{name}.c"
    src.write_text(dumping_source(k.source.read_text(), k))
    exe = tmp_path / name
    compile_kernel(k, src, exe, "-DPOLYBENCH_DUMP_ARRAYS")
    before, after = two_dumps(run(exe).stderr)
    changed_total = 0
    for array in k.liveouts:
        shape = [extent(t, sizes) for t in scop.arrays[array].sizes]
        assert len(before[array]) == math.prod(shape)
        written = written_elements(scop, array, values)
        for flat, (x, y) in enumerate(zip(before[array], after[array], strict=True)):
            if x == y or (x != x and y != y):  # equal, or both NaN
                continue
            changed_total += 1
            index, rest = [], flat
            for extent_ in reversed(shape):
                index.append(rest % extent_)
                rest //= extent_
            assert tuple(reversed(index)) in written, f"{array}{list(reversed(index))} changed but is never written"
    assert changed_total > 0, "the kernel changed nothing: the test would be vacuous"


@pytest.mark.parametrize("name", NAMES)
def test_same_extraction_without_utilities(name: str) -> None:
    """Domains, accesses, schedules and parameters do not depend on the utilities header being found."""
    with_u, without = _scop(name, True), _scop(name, False)
    assert with_u.params == without.params
    assert str(with_u.context) == str(without.context)
    assert len(with_u.statements) == len(without.statements)
    for a, b in zip(with_u.statements, without.statements, strict=True):
        assert str(a.domain) == str(b.domain)
        assert str(a.schedule) == str(b.schedule)
        assert [str(x.relation) for x in a.accesses] == [str(x.relation) for x in b.accesses]
        assert a.body == b.body
    assert {n: a.sizes for n, a in with_u.arrays.items()} == {n: a.sizes for n, a in without.arrays.items()}
