"""NumPy references for linear-algebra/blas."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def _grid(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer row and column index arrays of a rows x cols matrix."""
    return np.indices((rows, cols), dtype=np.int64)


def gemm(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """C := alpha*A*B + beta*C."""
    ni, nj, nk = p["NI"], p["NJ"], p["NK"]
    alpha, beta = 1.5, 1.2
    i, j = _grid(ni, nj)
    c = ((i * j + 1) % ni) / ni
    i, j = _grid(ni, nk)
    a = (i * (j + 1) % nk) / nk
    i, j = _grid(nk, nj)
    b = (i * (j + 2) % nj) / nj
    return {"C": beta * c + alpha * (a @ b)}


REFERENCES = {"gemm": gemm}
