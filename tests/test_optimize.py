"""`--search isl` (the Pluto-like default) on the whole suite, verified against the original."""

from __future__ import annotations

import pytest

from looper.api import optimize
from polybench import KERNELS


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_search_isl_verifies(name: str) -> None:
    result = optimize(KERNELS[name].source, search="isl", verify=True)
    assert result.verification is not None
    assert result.verification.ok, result.verification.message
    assert len(result.regions) == 1 and not result.skipped
