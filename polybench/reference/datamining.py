"""NumPy references for datamining."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from polybench.reference.grid import grid


def correlation(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """Pearson correlation of the M columns of an N x M data matrix (diagonal forced to 1)."""
    m, n = p["M"], p["N"]
    i, j = grid(n, m)
    data = ((i * (i + j) + 3 * j + 1) % 19) / 4 + i / n
    mean = data.mean(axis=0)
    stddev = np.sqrt(((data - mean) ** 2).mean(axis=0))
    stddev = np.where(stddev <= 0.1, 1.0, stddev)
    z = (data - mean) / (np.sqrt(float(n)) * stddev)
    corr = z.T @ z
    np.fill_diagonal(corr, 1.0)
    return {"corr": corr}


def covariance(p: Mapping[str, int]) -> dict[str, np.ndarray]:
    """Sample covariance (divided by N-1) of the M columns of an N x M data matrix."""
    m, n = p["M"], p["N"]
    i, j = grid(n, m)
    data = ((i * (j + 5) + 2 * j * j) % 13) / 3 + (i + j) / m
    centered = data - data.mean(axis=0)
    return {"cov": centered.T @ centered / (n - 1)}


REFERENCES = {"correlation": correlation, "covariance": covariance}
