"""The plain Pluto-class paths (`--search pluto`, `--search isl`) on the whole suite, verified against the original."""

from __future__ import annotations

import pytest

from looper.api import optimize
from polybench import KERNELS


@pytest.mark.parametrize("search", ["pluto", "isl"])
@pytest.mark.parametrize("name", sorted(KERNELS))
def test_plain_paths_verify(name: str, search: str) -> None:
    result = optimize(KERNELS[name].source, search=search, verify=True)
    assert result.verification is not None
    assert result.verification.ok, result.verification.message
    assert len(result.regions) == 1 and not result.skipped
