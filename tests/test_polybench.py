"""Every PolyBench kernel, compiled and run at MINI, against its NumPy reference."""

from __future__ import annotations

import pytest

from polybench import KERNELS
from polybench.dump import RTOL, compare
from polybench.reference import REFERENCES
from polybench.run import outputs


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_kernel_matches_reference(name: str) -> None:
    k = KERNELS[name]
    assert name in REFERENCES, f"no NumPy reference for {name}"
    assert k.source.exists(), f"missing {k.source}"
    got = outputs(k, "MINI")
    assert list(got) == list(k.liveouts)
    expected = REFERENCES[name](k.sizes("MINI"))
    # The reference may sum in another order than the C loops: allow a few ulps per operation.
    mismatch = compare(expected, got, rtol=1e-6 if k.dtype == "double" else RTOL["float"])
    assert mismatch is None, str(mismatch)


def test_a_dump_whose_first_value_shares_the_header_line_is_read_whole() -> None:
    from polybench.dump import parse

    # PolyBench 4.2.1's trisolv prints its newline after each 20th value, so x[0] follows "begin dump: x".
    text = ("==BEGIN DUMP_ARRAYS==\nbegin dump: x 0.5\n 1.5 2.5\nend   dump: x\n"
            "begin dump: y\n1 2\nend   dump: y\n==END   DUMP_ARRAYS==\n")
    arrays = parse(text)
    assert list(arrays["x"]) == [0.5, 1.5, 2.5] and list(arrays["y"]) == [1, 2]
